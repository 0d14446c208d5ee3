"""HelpScreen: every key binding of the workbench, from the bindings themselves.

The table is built from the screens' and the app's `BINDINGS`, so it never drifts from
what the keys really do.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

HELP_INTRO = (
    "Type a prompt and run it on every pane. Letter keys act outside text fields: "
    "escape leaves a field (or stops a run). Every action is also in the command palette (ctrl+p)."
)


def binding_rows(groups: Iterable[tuple[str, Iterable[BindingType]]]) -> list[tuple[str, str, str]]:
    """(where, keys, what) for every described binding; one row per action."""
    rows: list[tuple[str, str, str]] = []
    for where, bindings in groups:
        by_action: dict[str, tuple[list[str], str]] = {}
        for binding in bindings:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            keys, _ = by_action.setdefault(
                binding.action, ([], binding.tooltip or binding.description)
            )
            for key in binding.key.split(","):
                keys.append(binding.key_display or _key_name(key))
        for keys, what in by_action.values():
            rows.append((where, " / ".join(dict.fromkeys(keys)), what))
    return rows


def _key_name(key: str) -> str:
    return {"question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]"}.get(
        key, key
    )


class HelpScreen(ModalScreen[None]):
    """The key bindings, in a table."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 96;
        max-width: 98%;
        height: auto;
        max-height: 95%;
        border: round $accent;
        background: $panel;
        padding: 0 1;
    }
    HelpScreen DataTable {
        height: auto;
    }
    HelpScreen .help--intro {
        color: $text-muted;
        margin-bottom: 1;
    }
    """

    BINDINGS = [
        Binding("escape,q,f1,question_mark", "dismiss_help", "Close help"),
    ]

    def __init__(self, groups: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self._rows = binding_rows(groups)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "llmbench keys (escape closes)"
            yield Static(HELP_INTRO, classes="help--intro")
            table: DataTable = DataTable(cursor_type="row", zebra_stripes=True, show_cursor=False)
            table.add_columns("where", "keys", "what")
            for row in self._rows:
                table.add_row(*row)
            yield table

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
