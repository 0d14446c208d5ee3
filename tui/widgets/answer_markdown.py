"""AnswerMarkdown: a finished answer rendered as Markdown (code blocks, lists, tables).

The raw `AnswerView` streams the answer at a flat cost per batch; Markdown is rendered
only once an answer has finished, when the person asks for it (`M` on the workbench), so
streaming never pays for parsing. It is Textual's `Markdown` widget, so mouse selection
and copying work in it as in any Textual text.
"""

from __future__ import annotations

from textual.widgets import Markdown


class AnswerMarkdown(Markdown, can_focus=True):
    """The finished answer as Markdown; hidden until the pane shows it."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.answer = ""
        """The answer rendered now."""

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    async def show_answer(self, text: str) -> None:
        """Render `text` (only when it changed) and show it."""
        if text != self.answer:
            self.answer = text
            await self.update(text)
        self.add_class("-shown")
        self.scroll_home(animate=False)

    def hide(self) -> None:
        self.remove_class("-shown")
