"""PromptEditor: the prompt every pane runs, and an optional system prompt (collapsible).

Posts `PromptEditor.Edited` when either text changes, so the app can mark the profile
as having unsaved changes. The pre-filled prompt is selected the first time the prompt
takes focus, so typing replaces it; ctrl+a selects it all, ctrl+l empties it (keys in
`tui.keys.PROMPT_ACTIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Collapsible, Static, TextArea

from tui.keys import PROMPT_BINDINGS


class PromptArea(TextArea):
    """The prompt's text area: ctrl+a selects all, ctrl+l clears, and the text it starts
    with is selected on its first focus (so typing replaces the example prompt)."""

    BINDINGS = PROMPT_BINDINGS
    """Prompt keys (see `tui.keys`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._focused_before = False

    def on_focus(self) -> None:
        if not self._focused_before:
            self._focused_before = True
            if self.text:
                self.select_all()

    def action_clear_prompt(self) -> None:
        """Empty the prompt (an edit: ctrl+z undoes it)."""
        self.clear()


class PromptEditor(Vertical):
    """A multi-line prompt and a collapsible system prompt."""

    @dataclass
    class Edited(Message):
        """The prompt or the system prompt changed."""

        editor: PromptEditor

    def __init__(self, prompt: str, system_prompt: str | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._initial = (prompt, system_prompt or "")

    def compose(self) -> ComposeResult:
        prompt, system_prompt = self._initial
        yield Static("", id="suite-position")
        yield PromptArea(
            prompt,
            id="prompt",
            soft_wrap=True,
            tab_behavior="focus",
            placeholder="Type a prompt; ctrl+r or F5 runs it on every pane",
            compact=True,
        )
        with Collapsible(
            title="System prompt (chat models)", collapsed=not system_prompt, id="system-box"
        ):
            yield TextArea(
                system_prompt,
                id="system-prompt",
                soft_wrap=True,
                tab_behavior="focus",
                placeholder="Optional; base models ignore it",
                compact=True,
            )

    @property
    def prompt(self) -> str:
        return self.query_one("#prompt", TextArea).text

    @property
    def system_prompt(self) -> str | None:
        """The system prompt, or None when it is empty."""
        text = self.query_one("#system-prompt", TextArea).text
        return text if text.strip() else None

    def set_texts(self, prompt: str, system_prompt: str | None) -> None:
        """Replace both texts (a profile was opened)."""
        self.query_one("#prompt", TextArea).load_text(prompt)
        self.query_one("#system-prompt", TextArea).load_text(system_prompt or "")
        self.query_one("#system-box", Collapsible).collapsed = not system_prompt

    def show_position(self, text: str | None) -> None:
        """Show where the prompt is in the profile's suite ("prompt 3/12 (id)"); None hides it."""
        position = self.query_one("#suite-position", Static)
        position.update(text or "")
        position.set_class(bool(text), "-shown")

    @property
    def position(self) -> str:
        """The suite position shown ("" when none)."""
        return str(self.query_one("#suite-position", Static).render())

    def focus_prompt(self) -> None:
        self.query_one("#prompt", TextArea).focus()

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.post_message(self.Edited(self))
