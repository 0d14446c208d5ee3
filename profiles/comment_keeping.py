"""Write new values into an existing TOML file's text, keeping what the person wrote around them.

A profile is a file people edit by hand, and the README invites comments in it. Saving
from the workbench goes through `updated_toml`: the file is parsed with tomlkit (which
keeps comments, blank lines, key order and formatting), only the values that changed are
replaced (a replaced value keeps its end-of-line comment), keys that are gone are
removed, and keys the file left out are added only when their value differs from what
the file already meant (a default the person never wrote stays unwritten).

This module knows TOML documents, not profiles: `profiles.store` checks that the text it
returns loads as exactly the profile being saved, and falls back to a plain dump if not.
"""

from __future__ import annotations

from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Item, Table


def updated_toml(old_text: str, old_data: dict[str, Any], new_data: dict[str, Any]) -> str | None:
    """`old_text` holding `new_data`'s values, its comments and layout kept; None if unparsable.

    `old_data` is what `old_text` means once loaded, in the same form as `new_data` (every
    default filled in), so a key the file leaves out is written only when its value changes.
    """
    try:
        document = tomlkit.parse(old_text)
        _update_table(document, old_data, new_data)
        return tomlkit.dumps(document)
    except (TOMLKitError, ValueError, TypeError, KeyError, IndexError):
        return None


def _update_table(table: Any, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Make the tomlkit table (or document) `table` hold `new`; `old` is what it meant before."""
    for key in [key for key in table if key not in new]:
        del table[key]
    for key, value in new.items():
        if key not in table:
            if old.get(key) != value:
                table[key] = _fresh_item(value)
            continue
        current = table[key]
        if isinstance(value, dict) and isinstance(current, dict):
            _update_table(current, _as_dict(old.get(key)), value)
        elif _is_table_list(value) and isinstance(current, AoT):
            _update_table_list(current, old.get(key), value)
        elif _plain(current) != value:
            table[key] = _replacement(current, value)


def _update_table_list(tables: AoT, old: Any, new: list[dict[str, Any]]) -> None:
    """An array of tables (`[[panes]]`): entry i becomes new[i]; extra entries are removed."""
    old_entries = old if isinstance(old, list) else []
    while len(tables) > len(new):
        del tables[len(tables) - 1]
    for index, value in enumerate(new):
        if index < len(tables):
            previous = old_entries[index] if index < len(old_entries) else {}
            _update_table(tables[index], _as_dict(previous), value)
        else:
            tables.append(_fresh_item(value))


def _replacement(current: Any, value: Any) -> Item:
    """A new item for `value` that keeps the end-of-line comment of the one it replaces."""
    item = _fresh_item(value)
    if isinstance(current, Item) and not isinstance(item, Table | AoT):
        item.trivia.comment = current.trivia.comment
        item.trivia.comment_ws = current.trivia.comment_ws
    return item


def _fresh_item(value: Any) -> Item:
    """A tomlkit item for a plain value; text with line breaks as a readable multi-line string."""
    if isinstance(value, str) and "\n" in value:
        return tomlkit.string(value, multiline=True)
    return tomlkit.item(value)


def _plain(item: Any) -> Any:
    return item.unwrap() if isinstance(item, Item) else item


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
