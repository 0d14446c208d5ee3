"""AnswerArea: a model pane's answer, shown one of three ways.

- as streamed text (`AnswerView`, the default, where the answer arrives);
- as tokens coloured by probability with a cursor and the candidate panel
  (`TokenInspector`, `v` on the workbench), from the pane controller's token records
  (`PaneController.token_probabilities`);
- as Markdown (`AnswerMarkdown`, `M`), for a finished answer.

Tokens and Markdown each take the text's place, and each turns the other off. The pane
streams into `text_view` and tells the area its controller once the model is resolved.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from engines.types import TokenProbabilities
from tui.pane_controller import PaneController
from tui.widgets.answer_markdown import AnswerMarkdown
from tui.widgets.answer_view import AnswerView
from tui.widgets.token_inspector import TokenInspector


class AnswerArea(Vertical):
    """The answer as text, as tokens, or as Markdown (see the module docstring)."""

    def __init__(self, temperature: float, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.controller: PaneController | None = None
        """The pane's controller (its token records), once the model is resolved."""
        self.text_view = AnswerView(classes="pane--answer")
        self.tokens = TokenInspector(classes="pane--tokens")
        self.tokens.display = False
        self.tokens.temperature = temperature
        self.markdown = AnswerMarkdown()

    def compose(self) -> ComposeResult:
        yield self.text_view
        yield self.tokens
        yield self.markdown

    @property
    def text(self) -> str:
        return self.text_view.text

    # --- tokens --------------------------------------------------------------------------

    @property
    def tokens_on(self) -> bool:
        """The answer shows as coloured tokens with a cursor and the candidate panel."""
        return bool(self.tokens.display)

    @property
    def token_records(self) -> list[TokenProbabilities]:
        """The running or last answer's token records (empty without token probabilities)."""
        return self.controller.token_probabilities if self.controller else []

    def tokens_unavailable(self) -> str:
        """Why this pane has no token view ("" when it has one)."""
        controller = self.controller
        if controller is None:
            return "the model is not resolved yet"
        if not controller.serves_token_probabilities:
            return "token view unavailable: this server sends no token probabilities"
        if not controller.token_probabilities_on:
            return "token view unavailable: token probabilities are off for this pane"
        return ""

    def show_tokens(self, on: bool | None = None) -> bool:
        """Show the answer as tokens (or as text again; None: switch); returns whether it
        is on now. Focus stays in the answer when it was there."""
        on = not self.tokens_on if on is None else on
        had_focus = self.text_view.has_focus or self.tokens.view.has_focus
        if on:
            self.tokens.display = True
            self.show_text()  # not the Markdown view as well
            self.set_class(True, "-tokens")
            self.sync_tokens()
        elif self.tokens_on:
            self.tokens.display = False
            self.set_class(False, "-tokens")
            self.text_view.remove_class("-hidden")
        if had_focus:
            self.focus_answer()
        return on

    def sync_tokens(self) -> None:
        """Lay out the token records that arrived since the last call (when tokens show)."""
        if self.tokens_on:
            self.tokens.sync(self.token_records, self.tokens_unavailable())

    def set_temperature(self, temperature: float) -> None:
        """The pane's temperature now: the temperature lens's last column."""
        self.tokens.set_temperature(temperature)

    # --- text and Markdown -----------------------------------------------------------------

    def clear(self) -> None:
        """Empty the answer for a new run, in whichever form it shows."""
        self.show_text()
        self.text_view.clear()
        self.sync_tokens()

    @property
    def showing_markdown(self) -> bool:
        """Whether the answer is shown rendered as Markdown (else as text or tokens)."""
        return self.markdown.shown

    async def show_markdown(self) -> None:
        """Render the answer as Markdown in the text's place (the tokens go)."""
        self.show_tokens(False)
        await self.markdown.show_answer(self.text)
        self.text_view.add_class("-hidden")

    def show_text(self) -> None:
        """Leave the Markdown view: the answer shows as text (the streaming view), or as
        tokens when they are on."""
        self.markdown.hide()
        self.text_view.set_class(self.tokens_on, "-hidden")

    def focus_answer(self) -> None:
        if self.tokens_on:
            self.tokens.view.focus()
        else:
            self.text_view.focus()
