"""TokenView: an answer drawn token by token, coloured by each chosen token's probability.

Each generated token (`engines.types.TokenProbabilities`) is drawn in the colour of its
probability band (`PROBABILITY_BANDS`: sure, likely, even, unlikely, long shot), so the
places where the sampler took a chance stand out. A cursor sits on one token: left and
right move it by a token, up and down by a line, home and end to the first and last
(a cursor on the last token follows a streaming answer), and a mouse click puts it on
the token clicked. Each move posts `CursorMoved`, for the
candidate panel. A token where answers part (`set_parting`) is marked as well.

Tokens are wrapped at token boundaries, incrementally: a batch of new tokens only adds
to the last line, so a long answer costs the same per batch at its end as at its start;
only the visible lines are drawn (Textual's line API). A line break inside a token shows
as `↵` (then the line breaks), a token with no text as `∅`, control tokens (an
end-of-turn marker) dim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engines.types import TokenProbabilities

PROBABILITY_BANDS = (0.9, 0.6, 0.3, 0.1)
"""Lower bounds of the colour bands: band 0 is p ≥ 0.9, band 4 is p < 0.1."""

BAND_NAMES = ("≥.9", "≥.6", "≥.3", "≥.1", "<.1")
"""How the legend names each band."""

Piece = tuple[int, str]
"""(token index, text drawn): one token's part of one line."""


def band(probability: float) -> int:
    """The colour band of a chosen token's probability (0: most sure)."""
    for number, bound in enumerate(PROBABILITY_BANDS):
        if probability >= bound:
            return number
    return len(PROBABILITY_BANDS)


def _is_special(record: TokenProbabilities) -> bool:
    return any(c.token_id == record.token_id and c.special for c in record.candidates)


def _split_to_width(text: str, width: int) -> list[str]:
    """`text` cut into pieces of at most `width` cells (a token longer than a line)."""
    pieces, current, cells = [], "", 0
    for char in text:
        size = cell_len(char)
        if cells + size > width and current:
            pieces.append(current)
            current, cells = "", 0
        current += char
        cells += size
    return pieces + [current] if current else pieces


class TokenView(ScrollView, can_focus=True):
    """An answer's tokens, coloured by probability, with a token cursor."""

    ALLOW_SELECT = False
    """A click picks a token; it starts no text selection (which would repaint the whole
    screen on every click; `y` copies the answer)."""

    BINDINGS = [
        Binding("left", "move(-1)", "Previous token", show=False),
        Binding("right", "move(1)", "Next token", show=False),
        Binding("up", "move_line(-1)", "Token above", show=False),
        Binding("down", "move_line(1)", "Token below", show=False),
        Binding("home", "move_to_start", "First token", show=False),
        Binding("end", "move_to_end", "Last token", show=False),
    ]
    """Cursor keys (the widget's own, active while it has focus)."""

    COMPONENT_CLASSES = {
        "token-view--p0",
        "token-view--p1",
        "token-view--p2",
        "token-view--p3",
        "token-view--p4",
        "token-view--cursor",
        "token-view--parting",
        "token-view--special",
    }
    """`--p0` … `--p4`: the probability bands; `--cursor`: the token under the cursor;
    `--parting`: where answers part; `--special`: control tokens."""

    DEFAULT_CSS = """
    TokenView {
        height: 1fr;
        min-height: 2;
        background: transparent;
        scrollbar-size-vertical: 1;
    }
    TokenView:focus { background: $boost; }
    TokenView > .token-view--p0 { color: $success; }
    TokenView > .token-view--p1 { color: $foreground; }
    TokenView > .token-view--p2 { color: $warning; }
    TokenView > .token-view--p3 { color: $error; }
    TokenView > .token-view--p4 { color: $text; background: $error 60%; text-style: bold; }
    TokenView > .token-view--cursor { text-style: reverse bold; }
    TokenView > .token-view--parting { background: $accent; text-style: bold underline; }
    TokenView > .token-view--special { text-style: dim italic; }
    """

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another token (None: there are no tokens)."""

        view: TokenView
        record: TokenProbabilities | None

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.records: Sequence[TokenProbabilities] = ()
        """The tokens shown (the pane's own list; `sync` lays out what was added)."""
        self.cursor = -1
        """The index of the token under the cursor; -1 when there are none."""
        self.parting: int | None = None
        """The token marked as where answers part, if any."""
        self._laid = 0
        self._lines: list[list[Piece]] = [[]]
        self._open_cells = 0
        self._token_line: list[int] = []
        self._wrap_width = 0
        self._styles: dict[str, Style] | None = None
        self.on_cursor: Callable[[TokenProbabilities | None], None] | None = None
        """Called at once with the token under the cursor after each move, so what shows it
        (the candidate panel) is redrawn in the same frame as the cursor; `CursorMoved` is
        posted as well, for anyone else."""

    # --- content -------------------------------------------------------------------

    def sync(self, records: Sequence[TokenProbabilities]) -> None:
        """Show `records`: lays out only the ones added since the last call with the same
        list; another list (a new run) is laid out from its start."""
        if records is not self.records or len(records) < self._laid:
            self.records = records
            self._reset_layout()
            self.parting = None
            self.cursor = -1
        if len(records) == self._laid:
            return
        on_last = self.cursor >= 0 and self.cursor == self._laid - 1
        width = self._width()
        for index in range(self._laid, len(records)):
            self._place(index, records[index], width)
        self._laid = len(records)
        self._refresh_size()
        if self.cursor < 0:
            self.move_cursor(0)
        elif on_last:  # a cursor on the newest token follows the answer as it streams
            self.move_cursor(self._laid - 1)
        self.refresh()

    def set_parting(self, index: int | None) -> None:
        """Mark the token where answers part (and put the cursor on it); None: no mark."""
        self.parting = index
        if index is not None:
            self.move_cursor(index)
        self.refresh()

    def move_cursor(self, index: int) -> None:
        """Put the cursor on token `index` (clamped), scroll to it, post `CursorMoved`."""
        if not self._laid:
            self.cursor = -1
            self._moved(None)
            return
        index = max(0, min(index, self._laid - 1))
        previous, self.cursor = self.cursor, index
        line = self._token_line[index]
        height = self.scrollable_content_region.height
        if line < self.scroll_y:
            self.scroll_to(y=line, animate=False, immediate=True)
            self.refresh()
        elif height and line >= self.scroll_y + height:
            self.scroll_to(y=line - height + 1, animate=False, immediate=True)
            self.refresh()
        else:  # only the lines the cursor left and entered change
            for moved in {previous, index}:
                if 0 <= moved < self._laid:
                    self._refresh_token(moved)
        self._moved(self.records[index])

    def _moved(self, record: TokenProbabilities | None) -> None:
        if self.on_cursor is not None:
            self.on_cursor(record)
        self.post_message(self.CursorMoved(self, record))

    @property
    def line_count(self) -> int:
        return len(self._lines) if self._lines[-1] else len(self._lines) - 1

    @property
    def wrapped_lines(self) -> list[str]:
        """The drawn lines as plain text (for tests)."""
        return ["".join(text for _, text in line) for line in self._lines[: self.line_count]]

    def legend(self) -> Text:
        """What the colours mean, drawn in the same styles."""
        styles = self._line_styles()
        text = Text("p ", style="dim", no_wrap=True, overflow="ellipsis")
        for number, name in enumerate(BAND_NAMES):
            text.append(f" {name} ", style=styles[f"token-view--p{number}"])
        text.append("  ←→ token · click · v text", style="dim")
        return text

    # --- layout --------------------------------------------------------------------

    def _width(self) -> int:
        if not self._wrap_width:
            self._wrap_width = max(self.scrollable_content_region.width - 1, 10)
        return self._wrap_width

    def _reset_layout(self) -> None:
        self._laid = 0
        self._lines = [[]]
        self._open_cells = 0
        self._token_line = []

    def _place(self, index: int, record: TokenProbabilities, width: int) -> None:
        self._token_line.append(-1)
        if _is_special(record):
            self._emit(index, record.text or "∅", width)
            return
        parts = record.text.split("\n")
        for number, part in enumerate(parts):
            if number:
                self._emit(index, "↵", width)
                self._lines.append([])
                self._open_cells = 0
            if part:
                self._emit(index, part, width)
        if not record.text:
            self._emit(index, "∅", width)

    def _emit(self, index: int, text: str, width: int) -> None:
        cells = cell_len(text)
        if self._open_cells and self._open_cells + cells > width:
            self._lines.append([])
            self._open_cells = 0
        for piece in _split_to_width(text, width) if cells > width else [text]:
            if self._open_cells and self._open_cells + cell_len(piece) > width:
                self._lines.append([])
                self._open_cells = 0
            if self._token_line[index] < 0:
                self._token_line[index] = len(self._lines) - 1
            self._lines[-1].append((index, piece))
            self._open_cells += cell_len(piece)

    def _refresh_size(self) -> None:
        self.virtual_size = Size(self._width(), self.line_count)

    def on_resize(self) -> None:
        width = max(self.scrollable_content_region.width - 1, 10)
        if width != self._wrap_width:
            self._wrap_width = width
            laid = self._laid
            self._reset_layout()
            for index in range(laid):
                self._place(index, self.records[index], width)
            self._laid = laid
            self._refresh_size()
            if self.cursor >= 0:
                self.move_cursor(self.cursor)
        self.refresh()

    # --- keys and mouse ------------------------------------------------------------

    def action_move(self, step: int) -> None:
        """Move the cursor by `step` tokens."""
        self.move_cursor(self.cursor + step)

    def action_move_to_start(self) -> None:
        self.move_cursor(0)

    def action_move_to_end(self) -> None:
        self.move_cursor(self._laid - 1)

    def action_move_line(self, step: int) -> None:
        """Move the cursor to the token at the same column on the line above or below."""
        if self.cursor < 0:
            return
        line = self._token_line[self.cursor]
        column = self._column_of(line, self.cursor)
        target = line + step
        if 0 <= target < self.line_count:
            self.move_cursor(self._token_at(target, column))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self._laid:
            return
        line = self.scroll_offset.y + offset.y
        if 0 <= line < self.line_count:
            if not self.has_focus:
                self.focus()
            self.move_cursor(self._token_at(line, offset.x))

    def _refresh_token(self, index: int) -> None:
        """Redraw the lines that show token `index`."""
        first = self._token_line[index]
        last = first
        while last + 1 < len(self._lines) and any(t == index for t, _ in self._lines[last + 1]):
            last += 1
        self.refresh_lines(first, last - first + 1)

    def _column_of(self, line: int, index: int) -> int:
        column = 0
        for token, text in self._lines[line]:
            if token == index:
                return column
            column += cell_len(text)
        return column

    def _token_at(self, line: int, column: int) -> int:
        """The token drawn at `column` of `line` (the line's last token past its end)."""
        position = 0
        pieces = self._lines[line]
        for token, text in pieces:
            position += cell_len(text)
            if column < position:
                return token
        return pieces[-1][0] if pieces else self._laid - 1

    # --- drawing -------------------------------------------------------------------

    def _line_styles(self) -> dict[str, Style]:
        if self._styles is None:
            base = self.rich_style
            self._styles = {"base": base}
            for name in self.COMPONENT_CLASSES:
                self._styles[name] = base + self.get_component_rich_style(name, partial=True)
        return self._styles

    def notify_style_update(self) -> None:
        self._styles = None
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        styles = self._line_styles()
        base = styles["base"]
        if index >= self.line_count:
            return Strip.blank(width, base)
        segments = []
        records = self.records
        for token, text in self._lines[index]:
            record = records[token]
            style = styles[f"token-view--p{band(record.probability)}"]
            if _is_special(record):
                style += styles["token-view--special"]
            if token == self.parting:
                style += styles["token-view--parting"]
            if token == self.cursor:
                style += styles["token-view--cursor"]
            segments.append(Segment(text, style))
        return Strip(segments).extend_cell_length(width, base).crop(0, width)
