"""AnswerPartingScreen: where the panes' answers part, and each one's candidates there.

Opened with `w` (`tui.answer_actions.show_answer_parting`) when two or more panes have
answered the same prompt with token probabilities. It says how much text the answers
share (its last words), then for each pane the token it chose where they part, with
the candidates the sampler had there and the temperature lens
(`tui.widgets.candidate_panel.candidate_table`). For one model at two temperatures it
is the exact token where sampling took the answers apart. The panes' token views mark
the same tokens (`TokenView.set_parting`). Escape or `w` closes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from profiles.divergence import Divergence
from tui.widgets.candidate_panel import candidate_table, token_header

SHARED_TAIL = 60
"""How many characters of the shared text are quoted before the parting point."""

PanePart = tuple[str, float]
"""(pane label, the pane's current temperature)."""


def shared_tail(divergence: Divergence) -> str:
    """The end of the text the answers share, on one line ("" when they part at once)."""
    text = divergence.common_text.replace("\n", "↵")
    return ("…" + text[-SHARED_TAIL:]) if len(text) > SHARED_TAIL else text


def parting_renderable(divergence: Divergence, panes: Sequence[PanePart]) -> RenderableType:
    """The screen's content: the shared text, then each pane at the parting point."""
    parts: list[RenderableType] = []
    intro = Text()
    if divergence.offset:
        intro.append(f"The answers share {divergence.offset} characters, ending “", style="dim")
        intro.append(shared_tail(divergence), style="bold")
        intro.append("”, then part:", style="dim")
    else:
        intro.append("The answers part at their very first token.", style="dim")
    parts.append(intro)
    for (label, temperature), parting in zip(panes, divergence.partings, strict=True):
        parts.append(Text(""))
        parts.append(Text(f"■ {label}", style="bold magenta"))
        if parting.record is None:
            parts.append(Text("  its answer ended here; the others went on", style="dim"))
            continue
        parts.append(token_header(parting.record))
        parts.append(candidate_table(parting.record, temperature))
    return Group(*parts)


class AnswerPartingScreen(ModalScreen[None]):
    """Where the answers part (see the module docstring)."""

    DEFAULT_CSS = """
    AnswerPartingScreen {
        align: center middle;
    }
    AnswerPartingScreen > VerticalScroll {
        width: 90;
        max-width: 98%;
        height: auto;
        max-height: 95%;
        border: round $accent;
        background: $panel;
        padding: 0 1;
    }
    AnswerPartingScreen .parting--hint {
        color: $text-muted;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("w", "close", "Close", show=False),
    ]

    def __init__(self, divergence: Divergence, panes: Sequence[PanePart]) -> None:
        super().__init__()
        self.divergence = divergence
        self._panes = list(panes)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "Where the answers part"
            yield Static(parting_renderable(self.divergence, self._panes), id="parting")
            yield Static(
                "the token views mark these tokens · escape closes", classes="parting--hint"
            )

    def action_close(self) -> None:
        self.dismiss(None)
