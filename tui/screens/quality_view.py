"""QualityScreen: the quality × cost table of the suite answers of this session.

One row per pane (`profiles.quality_table.quality_rows`): checks passed, the blind-vote
standing where there are votes, and the cost figures. Escape closes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from profiles.quality_table import QUALITY_COLUMNS, quality_caption, quality_cells, quality_rows

if TYPE_CHECKING:
    from profiles.results import RunResult
    from profiles.standings import Standing


class QualityScreen(ModalScreen[None]):
    """The quality × cost table over the suite answers given."""

    DEFAULT_CSS = """
    QualityScreen { align: center middle; }
    QualityScreen > Vertical {
        width: 98%; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    QualityScreen DataTable { height: auto; max-height: 20; }
    QualityScreen #quality-note { color: $text-muted; }
    """

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(
        self,
        results: Sequence[RunResult],
        standings: Mapping[str, Standing] | None = None,
        mode: str | None = None,
    ) -> None:
        super().__init__()
        self.rows = quality_rows(results, standings)
        self.mode = mode

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Quality × cost over the suite"
            table: DataTable = DataTable(id="quality-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("pane", *(title for title, _ in QUALITY_COLUMNS))
            for row in self.rows:
                table.add_row(row.label, *quality_cells(row))
            yield table
            note = quality_caption(self.rows, self.mode)
            answers = sum(row.answers for row in self.rows)
            yield Static(
                f"{answers} answers. {note}." if note else f"{answers} answers.",
                id="quality-note",
            )
