"""The token view's part of a model pane (`ModelPane` takes it in as a mixin).

The pane holds a `TokenInspector` (`_tokens`) beside its plain `AnswerView`
(`_answer_view`) and its Markdown view; `v` shows the tokens in their place, or the
plain answer again (`M`, Markdown, turns the tokens off). The records shown are the pane
controller's (`PaneController.token_probabilities`), laid out as they arrive.
"""

from __future__ import annotations

from engines.types import TokenProbabilities
from tui.pane_controller import PaneController
from tui.widgets.answer_view import AnswerView
from tui.widgets.token_inspector import TokenInspector


class PaneTokenView:
    """Token view commands of a model pane."""

    controller: PaneController | None
    _answer_view: AnswerView
    _tokens: TokenInspector

    @property
    def token_view_on(self) -> bool:
        """The answer shows as coloured tokens with a cursor and the candidate panel."""
        return bool(self._tokens.display)

    @property
    def token_inspector(self) -> TokenInspector:
        return self._tokens

    @property
    def token_records(self) -> list[TokenProbabilities]:
        """The running or last answer's token records (empty without token probabilities)."""
        return self.controller.token_probabilities if self.controller else []

    def token_view_unavailable(self) -> str:
        """Why this pane has no token view ("" when it has one)."""
        controller = self.controller
        if controller is None:
            return "the model is not resolved yet"
        if not controller.serves_token_probabilities:
            return "token view unavailable: this server sends no token probabilities"
        if not controller.token_probabilities_on:
            return "token view unavailable: token probabilities are off for this pane"
        return ""

    def toggle_token_view(self, on: bool | None = None) -> bool:
        """Show the answer as tokens (or as text again); returns whether it is on now."""
        on = not self.token_view_on if on is None else on
        had_focus = self._answer_view.has_focus or self._tokens.view.has_focus
        if on:
            self.show_raw()  # type: ignore[attr-defined]  # not the Markdown view as well
            self._answer_view.add_class("-hidden")
            self._tokens.display = True
            self._tokens.temperature = self.sampling.temperature  # type: ignore[attr-defined]
            self._tokens.sync(self.token_records, self.token_view_unavailable())
        elif self.token_view_on:
            self._tokens.display = False
            self._answer_view.remove_class("-hidden")
        if had_focus:
            self.focus_answer()  # type: ignore[attr-defined]
        return on
