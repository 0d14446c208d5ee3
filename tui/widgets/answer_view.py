"""AnswerView: a model's answer, streamed in batch by batch at a cost that stays flat.

The text is word-wrapped incrementally: appending a batch re-wraps only the last, still
open line, so the work per batch does not grow with the answer (a 20,000-token answer
costs the same per batch at the end as at the start). Only the visible lines are drawn
(Textual's line API). Markers such as a live temperature change (`⟨T=0.9⟩`) are spans in
their own style, placed exactly where they took effect.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip

from tui.widgets.line_selection import SelectableScrollView

Span = tuple[str, str]
"""(text, kind): kind is "text" for the answer, "marker" for an inserted marker."""


def _quoted(detail: str) -> str:
    """`detail`'s lines, each on its own indented line."""
    return "".join(f"\n  {line.strip()}" for line in detail.splitlines() if line.strip())


def _break_index(text: str, width: int) -> int:
    """Where to end a line of `text` that is wider than `width` cells: after the last
    space that fits, or at the width itself when a word is longer than the line."""
    cells = 0
    last_space = -1
    for index, char in enumerate(text):
        cells += cell_len(char)
        if cells > width:
            return last_space + 1 if last_space >= 0 else max(index, 1)
        if char == " ":
            last_space = index
    return len(text)


class AnswerView(SelectableScrollView, can_focus=True):
    """A read-only, word-wrapped, incrementally appended text with inline markers."""

    COMPONENT_CLASSES = {"answer-view--marker", "answer-view--error"}
    """`answer-view--marker`: inserted markers such as `⟨T=0.9⟩`; `answer-view--error`: why a
    run failed, written under the text."""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._spans: list[Span] = []
        self._plain: list[str] = []
        self._lines: list[list[Span]] = []
        self._open: list[Span] = []
        self._open_text = ""
        self._wrap_width = 0
        self._styles: dict[str, Style] | None = None
        self.placeholder = ""
        """A dim line shown while there is no text (e.g. how to start a run)."""

    # --- public API --------------------------------------------------------------

    @property
    def text(self) -> str:
        """The answer so far, without markers (what "copy answer" copies)."""
        return "".join(self._plain)

    @property
    def text_with_markers(self) -> str:
        """The answer with its markers, as shown."""
        return "".join(text for text, _ in self._spans)

    @property
    def wrapped_lines(self) -> list[str]:
        """The wrapped lines as plain text (for tests and copying what is seen)."""
        lines = ["".join(text for text, _ in line) for line in self._lines]
        return lines + ([self._open_text] if self._open_text else [])

    @property
    def line_count(self) -> int:
        """Wrapped lines held now (the open line included when it has text)."""
        return len(self._lines) + (1 if self._open_text else 0)

    def append(self, text: str) -> None:
        """Append answer text."""
        if text:
            self._plain.append(text)
            self._add(text, "text")

    def add_marker(self, label: str) -> None:
        """Insert a marker at the current end of the text, e.g. `⟨T=0.9⟩`."""
        self._add(label, "marker")

    def add_error(self, reason: str, detail: str = "") -> None:
        """Write why the run failed on its own line under the text, then `detail` (e.g. the
        end of the worker's log), each of its lines indented."""
        self._add(("\n" if self._open_text else "") + f"✗ {reason}{_quoted(detail)}", "error")

    def add_detail(self, detail: str) -> None:
        """Quote `detail` (e.g. the end of the worker's log) under the error already shown."""
        if detail.strip():
            self._add(_quoted(detail), "error")

    def set_placeholder(self, text: str) -> None:
        """Change the line shown while there is no text."""
        if text != self.placeholder:
            self.placeholder = text
            self.refresh()

    def clear(self) -> None:
        """Forget all text (a new run starts)."""
        self._spans.clear()
        self._plain.clear()
        self._lines.clear()
        self._open = []
        self._open_text = ""
        self.scroll_to(0, 0, animate=False)
        self._refresh_size()

    # --- wrapping ----------------------------------------------------------------

    def _add(self, text: str, kind: str) -> None:
        following = self._is_at_bottom()
        self._spans.append((text, kind))
        self._wrap_span(text, kind)
        self._refresh_size()
        if following:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def _is_at_bottom(self) -> bool:
        return self.scroll_y >= self.max_scroll_y - 1

    def _current_width(self) -> int:
        return max(self.scrollable_content_region.width - 1, 10)

    def _wrap_span(self, text: str, kind: str) -> None:
        width = self._wrap_width or self._current_width()
        self._wrap_width = width
        pieces = text.split("\n")
        for number, piece in enumerate(pieces):
            if number:
                self._close_line()
            if piece:
                self._open.append((piece, kind))
                self._open_text += piece
                while cell_len(self._open_text) > width:
                    self._split_open(_break_index(self._open_text, width))

    def _close_line(self) -> None:
        self._lines.append(self._open)
        self._open = []
        self._open_text = ""

    def _split_open(self, at: int) -> None:
        """Close the open line after `at` characters; the rest stays open."""
        head: list[Span] = []
        tail: list[Span] = []
        position = 0
        for text, kind in self._open:
            end = position + len(text)
            if end <= at:
                head.append((text, kind))
            elif position >= at:
                tail.append((text, kind))
            else:
                head.append((text[: at - position], kind))
                tail.append((text[at - position :], kind))
            position = end
        self._lines.append(head)
        self._open = tail
        self._open_text = self._open_text[at:]

    def _rewrap(self) -> None:
        """Wrap everything again at the current width (on resize only)."""
        self._lines.clear()
        self._open = []
        self._open_text = ""
        self._wrap_width = self._current_width()
        for text, kind in self._spans:
            self._wrap_span(text, kind)
        self._refresh_size()

    def _refresh_size(self) -> None:
        self.virtual_size = Size(self._wrap_width or self._current_width(), self.line_count)

    def on_resize(self) -> None:
        if self._current_width() != self._wrap_width:
            following = self._is_at_bottom()
            self._rewrap()
            if following:
                self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    # --- drawing -----------------------------------------------------------------

    def _line_styles(self) -> dict[str, Style]:
        """The style of each kind of span, computed once per style change (not per line)."""
        if self._styles is None:
            base = self.rich_style
            self._styles = {
                "text": base,
                "marker": base + self.get_component_rich_style("answer-view--marker"),
                "error": base + self.get_component_rich_style("answer-view--error"),
            }
        return self._styles

    def notify_style_update(self) -> None:
        self._styles = None
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        styles = self._line_styles()
        base = styles["text"]
        if not self._spans and index == 0 and self.placeholder:
            hint = Strip([Segment(self.placeholder, base + Style(dim=True, italic=True))])
            return hint.extend_cell_length(width, base).crop(0, width)
        if index < len(self._lines):
            spans = self._lines[index]
        elif index == len(self._lines) and self._open:
            spans = self._open
        else:
            return Strip.blank(width, base)
        segments = [Segment(text, styles[kind]) for text, kind in spans]
        line = Strip(segments).extend_cell_length(width, base).crop(0, width).simplify()
        return self.selectable(line, index)

    @property
    def selectable_lines(self) -> list[str]:
        return self.wrapped_lines
