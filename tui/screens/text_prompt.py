"""TextPromptScreen: a small modal that asks for one line of text (a name, a path, a value).

Dismisses with the text (stripped), or None when cancelled with escape. An optional
`check` callable returns an error message for text that will not do; the modal then
stays open and shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

Check = Callable[[str], str | None]
"""Returns why the text will not do, or None when it is fine."""


class TextPromptScreen(ModalScreen[str | None]):
    """Ask for one line of text."""

    DEFAULT_CSS = """
    TextPromptScreen {
        align: center middle;
    }
    TextPromptScreen > Vertical {
        width: 70;
        max-width: 95%;
        height: auto;
        border: round $accent;
        background: $panel;
        padding: 0 1;
    }
    TextPromptScreen .prompt--hint {
        color: $text-muted;
    }
    TextPromptScreen .prompt--error {
        color: $error;
        height: auto;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "enter to confirm · escape to cancel",
        check: Check | None = None,
    ) -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._placeholder = placeholder
        self._hint = hint
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self._title
            yield Input(self._value, placeholder=self._placeholder, id="text")
            yield Static("", classes="prompt--error")
            yield Label(self._hint, classes="prompt--hint")

    @on(Input.Submitted, "#text")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        problem = (
            "type something first" if not text else (self._check(text) if self._check else None)
        )
        if problem:
            self.query_one(".prompt--error", Static).update(problem)
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
