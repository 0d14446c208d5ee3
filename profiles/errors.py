"""Profile errors a person can act on: which file, which key, what is wrong, what is allowed.

`ProfileError` is the one exception the profile store raises. `problems_from_validation`
turns pydantic's validation errors into lines such as

    panes[1].sampling.temprature: unknown key; did you mean 'temperature'?
    sampling.temperature: must be between 0 and 2 (got 3.5)
    panes[0].settings.n_ctx: expected a whole number, got a string ('big')

reading the allowed ranges and known keys from the schema itself, so they never drift.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from engines.messages import one_line

_EXPECTED: dict[str, str] = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}
"""Pydantic error type → what the key should hold, in TOML terms."""


class ProfileError(Exception):
    """A profile could not be read, validated or saved. str() is one line a person can act on.

    `problems` holds every problem found (one line each, key path first); the message
    shows the first and counts the rest.
    """

    def __init__(self, source: str | Path | None, problems: Sequence[str]) -> None:
        self.source = str(source) if source is not None else None
        self.problems: tuple[str, ...] = tuple(problems) or ("invalid profile",)
        first = self.problems[0]
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        self.summary = f"{first}{suffix}"
        """The message without the file name (for listings that show the file already)."""
        prefix = f"{self.source}: " if self.source else ""
        super().__init__(f"{prefix}{self.summary}")

    def all_lines(self) -> list[str]:
        """Every problem, each prefixed by the file it was found in."""
        prefix = f"{self.source}: " if self.source else ""
        return [f"{prefix}{problem}" for problem in self.problems]


def key_path(loc: Sequence[str | int]) -> str:
    """A pydantic location as a TOML key path: ('panes', 1, 'model') → 'panes[1].model'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def problems_from_validation(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One line per validation problem, key path first."""
    return [_describe(item, root) for item in error.errors(include_url=False)]


def _describe(item: typing.Any, root: type[BaseModel]) -> str:
    loc: tuple[str | int, ...] = tuple(item["loc"])
    kind: str = item["type"]
    value = item.get("input")
    where = key_path(loc)
    if kind == "extra_forbidden":
        return f"{where}: {_unknown_key(loc, root)}"
    if kind == "missing":
        return f"{where}: missing (this key is required)"
    if kind == "list_type" and isinstance(value, dict):
        name = next((part for part in reversed(loc) if isinstance(part, str)), "entry")
        return f"{where}: expected a list of tables, got one table; write [[{name}]] for each entry"
    if kind in _EXPECTED:
        return f"{where}: expected {_EXPECTED[kind]}, got {_toml_type(value)} ({_show(value)})"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return f"{where}: must be {_range_text(_field_at(loc, root))} (got {_show(value)})"
    if kind == "too_short" or kind == "too_long":
        return f"{where}: {_length_text(_field_at(loc, root), value)}"
    if kind == "literal_error":
        expected = item.get("ctx", {}).get("expected", "")
        return f"{where}: must be one of {expected} (got {_show(value)})"
    if kind == "value_error":
        return f"{where}: {item.get('ctx', {}).get('error', item['msg'])}"
    if loc and loc[-1] == "api_key_env":
        return (
            f"{where}: must be the NAME of an environment variable (letters, digits and _) "
            "that holds the key, never the key itself"
        )
    if kind in {"string_pattern_mismatch", "string_too_short"}:
        field = _field_at(loc, root)
        hint = one_line(field.description) if field and field.description else "invalid value"
        return f"{where}: invalid value {_show(value)}; {_lower_first(hint)}"
    return f"{where}: {_lower_first(item['msg'])} (got {_show(value)})"


def _unknown_key(loc: tuple[str | int, ...], root: type[BaseModel]) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1], root)
    home = _tables_with_key(key, loc[:-1], root)
    if home:
        return f"unknown key here; it belongs {' or '.join(home)}"
    known = sorted(model.model_fields) if model else []
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean '{close[0]}'?"
    if known:
        return f"unknown key; known keys here: {', '.join(known)}"
    return "unknown key"


def _tables_with_key(key: str, where: Sequence[str | int], root: type[BaseModel]) -> list[str]:
    """Where `key` may be written, as a file says it ("in [panes.sampling]", "at the top
    level"): the tables inside the one at `where` if any take it, else every other one."""
    here = ".".join(part for part in where if isinstance(part, str))
    tables = [
        (path, model) for path, model in _schema_tables(root, "") if key in model.model_fields
    ]
    inside = [(path, model) for path, model in tables if here and path.startswith(f"{here}.")]
    chosen = inside or [(path, model) for path, model in tables if path != here]
    return [_table_header(path, root) for path, _ in chosen]


def _schema_tables(model: type[BaseModel], path: str) -> Iterator[tuple[str, type[BaseModel]]]:
    """Every table of the schema as (dotted path, its class), the top level first."""
    yield path, model
    for name, field in model.model_fields.items():
        inner = _first_model(field.annotation)
        if inner is not None:
            yield from _schema_tables(inner, f"{path}.{name}" if path else name)


def _table_header(path: str, root: type[BaseModel]) -> str:
    """Where a table at a dotted schema path is, in TOML: "in [sampling]", "in [[panes]]"."""
    if not path:
        return "at the top level (before the first [table])"
    first = path.split(".")[0]
    field = root.model_fields.get(first)
    is_list = field is not None and typing.get_origin(field.annotation) is list
    return f"in [[{path}]]" if is_list and path == first else f"in [{path}]"


def _model_at(loc: Sequence[str | int], root: type[BaseModel]) -> type[BaseModel] | None:
    """The schema class of the table at `loc` (list indices skipped)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        model = _first_model(model.model_fields[part].annotation)
    return model


def _field_at(loc: Sequence[str | int], root: type[BaseModel]) -> FieldInfo | None:
    """The schema field at `loc`, ignoring a trailing list index (an item of a list field)."""
    names = list(loc)
    while names and isinstance(names[-1], int):
        names.pop()
    if not names:
        return None
    model = _model_at(names[:-1], root)
    if model is None:
        return None
    return model.model_fields.get(str(names[-1]))


def _first_model(annotation: typing.Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _constraints(field: FieldInfo | None) -> Iterator[typing.Any]:
    """Every annotated-types constraint on a field, including those inside Optional[Annotated]."""
    if field is None:
        return
    yield from field.metadata
    yield from _annotation_constraints(field.annotation)


def _annotation_constraints(annotation: typing.Any) -> Iterator[typing.Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        for extra in annotation.__metadata__:
            if isinstance(extra, FieldInfo):
                yield from extra.metadata
            else:
                yield extra
        return
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _annotation_constraints(arg)


def _range_text(field: FieldInfo | None) -> str:
    low: float | None = None
    high: float | None = None
    low_open = high_open = False
    for constraint in _constraints(field):
        if isinstance(constraint, annotated_types.Ge):
            low = _bound(constraint.ge)
        elif isinstance(constraint, annotated_types.Gt):
            low, low_open = _bound(constraint.gt), True
        elif isinstance(constraint, annotated_types.Le):
            high = _bound(constraint.le)
        elif isinstance(constraint, annotated_types.Lt):
            high, high_open = _bound(constraint.lt), True
    if low is not None and high is not None:
        if low_open or high_open:
            return f"{'above' if low_open else 'at least'} {_num(low)} and {'below' if high_open else 'at most'} {_num(high)}"
        return f"between {_num(low)} and {_num(high)}"
    if low is not None:
        return f"{'above' if low_open else 'at least'} {_num(low)}"
    if high is not None:
        return f"{'below' if high_open else 'at most'} {_num(high)}"
    return "in range"


def _length_text(field: FieldInfo | None, value: typing.Any) -> str:
    low = high = None
    for constraint in _constraints(field):
        if isinstance(constraint, annotated_types.MinLen):
            low = constraint.min_length
        elif isinstance(constraint, annotated_types.MaxLen):
            high = constraint.max_length
    count = len(value) if hasattr(value, "__len__") else "?"
    if low is not None and high is not None:
        return f"needs {low} to {high} entries (got {count})"
    if low is not None:
        return f"needs at least {low} entries (got {count})"
    return f"needs at most {high} entries (got {count})"


def _bound(value: object) -> float | None:
    """A numeric range bound of a field (the schema's ranges are numbers), else None."""
    return value if isinstance(value, int | float) else None


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _toml_type(value: typing.Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _show(value: typing.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{...}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
