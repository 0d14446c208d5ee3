"""TokenInspector: a pane's token view — legend, coloured tokens, and the candidate panel.

`v` in the workbench shows it in place of the pane's plain answer (and back). It holds:
a legend line (what the colours mean), the `TokenView` (the answer's tokens coloured by
the chosen token's probability, with a cursor), and the `CandidatePanel` (the candidates
of the token under the cursor as bars, with the temperature lens at 0.2, 0.7, 1.0, 1.5
and the pane's current temperature): under the tokens, or beside them when the pane is
wide and short (panes stacked on an 80x24 terminal).

A pane whose model sends no token probabilities (a server that does not, or token
probabilities turned off) shows why, in place of the tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Static

from engines.types import TokenProbabilities
from tui.widgets.candidate_panel import CandidatePanel
from tui.widgets.token_view import TokenView


class TokenInspector(Vertical):
    """Legend, token view and candidate panel of one pane (see the module docstring)."""

    DEFAULT_CSS = """
    TokenInspector {
        height: 1fr;
        min-height: 3;
    }
    TokenInspector > .token-legend {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    TokenInspector > .token-body {
        layout: vertical;
        height: 1fr;
    }
    TokenInspector.-wide > .token-body {
        layout: horizontal;
    }
    TokenInspector.-wide > .token-body > CandidatePanel {
        width: 54;
        max-width: 65%;
        max-height: 100%;
        border-top: none;
        border-left: vkey $primary-darken-2;
        padding: 0 0 0 1;
    }
    """

    WIDE = 76
    """From this many columns the candidate panel stands beside the tokens, not under them
    (on a short terminal, panes stacked 80 columns wide)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.temperature: float | None = None
        """The pane's current temperature: the lens's last column."""
        self.unavailable = ""
        """Why this pane has no token view ("" when it has one)."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="token-legend")
        with Horizontal(classes="token-body"):
            yield TokenView()
            yield CandidatePanel()

    def on_mount(self) -> None:
        self.view.on_cursor = self._show
        self.call_after_refresh(self._draw_legend)

    def on_resize(self, event: Resize) -> None:
        wide = event.size.width >= self.WIDE and event.size.height < 12
        self.set_class(wide, "-wide")
        self.panel.bar_width = 4 if wide else 10

    def _draw_legend(self) -> None:
        self.query_one(".token-legend", Static).update(self.query_one(TokenView).legend())

    @property
    def view(self) -> TokenView:
        return self.query_one(TokenView)

    @property
    def panel(self) -> CandidatePanel:
        return self.query_one(CandidatePanel)

    def sync(self, records: Sequence[TokenProbabilities], unavailable: str = "") -> None:
        """Show these tokens (only the new ones are laid out), or why there are none."""
        self.unavailable = unavailable
        view = self.view
        view.sync(records)
        if not records:
            note = unavailable or "no tokens yet: run the prompt (ctrl+r)"
            self.panel.show(None, self.temperature, note=note)
        elif view.cursor >= 0:
            self._show(view.records[view.cursor])

    def set_temperature(self, temperature: float) -> None:
        """The pane's temperature changed: redraw the lens's last column."""
        self.temperature = temperature
        view = self.view
        if view.cursor >= 0:
            self._show(view.records[view.cursor])

    def _show(self, record: TokenProbabilities | None) -> None:
        self.panel.show(record, self.temperature, len(self.view.records))
