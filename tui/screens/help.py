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

from tui.action_spec import key_name

HELP_INTRO = (
    "Type a prompt and run it on every pane. Letter keys act outside text fields: "
    "escape leaves a field (or stops a run). Every action is also in the command palette (ctrl+p)."
)


COLUMNS = ("where", "keys", "what")
HELP_BOX_WIDTH = 96
HELP_BOX_MAX_PERCENT = 98
MIN_WHAT_WIDTH = 20


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
                keys.append(binding.key_display or key_name(key))
        for keys, what in by_action.values():
            rows.append((where, " / ".join(dict.fromkeys(keys)), what))
    return rows


def what_width(rows: list[tuple[str, str, str]], screen_width: int) -> int:
    """How wide the "what" column can be so the table fits the help box without scrolling
    sideways (its text wraps below that); never under MIN_WHAT_WIDTH."""
    box = min(HELP_BOX_WIDTH, screen_width * HELP_BOX_MAX_PERCENT // 100)
    inner = box - 2 - 2 - 2  # border, padding, vertical scrollbar
    other_columns = sum(
        max(len(header), *(len(row[i]) for row in rows)) + 2 for i, header in enumerate(COLUMNS[:2])
    )
    longest = max((len(row[2]) for row in rows), default=0)
    return max(MIN_WHAT_WIDTH, min(longest, inner - other_columns - 4))


class HelpScreen(ModalScreen[None]):
    """The key bindings, in a table."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 96;  /* HELP_BOX_WIDTH */
        max-width: 98%;  /* HELP_BOX_MAX_PERCENT */
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
            where, keys, what = COLUMNS
            table.add_columns(where, keys)
            table.add_column(what, width=what_width(self._rows, self.app.size.width))
            for row in self._rows:
                table.add_row(*row, height=None)  # a long "what" wraps onto more lines
            yield table

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
