"""When the workbench shows the comparison of a run: by itself on a tall terminal, else a notice.

`ComparisonReveal` is composed into `tui.screens.main.WorkbenchScreen` with the screen's
`ComparisonTable`. A run hides the table; once the run is over (the screen says when), the
table gets every finished pane's figures and opens by itself on a terminal at least
`COMPARISON_MIN_HEIGHT` rows tall; on a shorter one the screen is given a notice to show,
once per run, saying which key shows it.
"""

from __future__ import annotations

from collections.abc import Sequence

from tui.widgets.comparison_table import ComparisonTable
from tui.widgets.model_pane import ModelPane

COMPARISON_MIN_HEIGHT = 30
"""The comparison opens by itself after a run only on terminals at least this tall."""


class ComparisonReveal:
    """The comparison table of the workbench, and whether this run's was announced."""

    def __init__(self, table: ComparisonTable) -> None:
        self.table = table
        """The table (the screen composes it)."""
        self._announced = False

    def hide(self) -> None:
        """Hide the table until a run is over (its comparison is announced again)."""
        self.table.display = False
        self._announced = False

    def toggle(self) -> None:
        """Show or hide the comparison of the last run."""
        self.table.display = not self.table.display

    def show_results(
        self, panes: Sequence[ModelPane], mode: str, *, height: int, in_text_field: bool
    ) -> str | None:
        """The run is over: fill the table with the panes' figures and show it, or return
        the notice that says how to see it (once per run; None when there is nothing to say).

        `height` is the terminal's; `in_text_field` says whether the cursor is in a text
        field, where `c` would be typed (the notice then says to press escape first).
        """
        rows = [
            (pane.label, pane.controller.stats, pane.controller.info)
            for pane in panes
            if pane.controller is not None and pane.controller.stats is not None
        ]
        if not rows:
            return None
        notice = None
        self.table.show_results(rows, mode=mode)
        if height >= COMPARISON_MIN_HEIGHT:
            self.table.display = True
        elif not self.table.display and not self._announced:
            keys = "esc, then c," if in_text_field else "c"
            notice = f"the comparison is ready: press {keys} to see it"
        self._announced = True
        return notice
