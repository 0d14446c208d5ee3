"""Mouse selection for a widget drawn with Textual's line API (`render_line`).

Textual selects text in widgets that render Rich text or Content by itself; a line-API
widget has to say what its text is and mark its lines, as Textual's own `Log` does. Derive
such a widget from `SelectableScrollView`, give it `selectable_lines` (the lines as drawn,
plain text) and pass each strip it draws through `selectable(strip, line_index)`. Dragging the
mouse then highlights the text and Textual's copy (ctrl+c, or the app's copy action)
takes exactly the part selected. Checked against Textual 8.2.8 (`Log`).
"""

from __future__ import annotations

from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip


class SelectableScrollView(ScrollView):
    """A line-API `ScrollView` (one that draws with `render_line`) whose text the mouse selects."""

    @property
    def allow_select(self) -> bool:
        return True

    @property
    def selectable_lines(self) -> list[str]:
        """The lines as drawn, plain text, in order."""
        raise NotImplementedError

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text under the selection (Textual asks this to copy)."""
        return selection.extract("\n".join(self.selectable_lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def selectable(self, strip: Strip, index: int) -> Strip:
        """`strip` (line `index`, unscrolled horizontally) with the selection highlighted and
        the offsets Textual maps mouse positions with."""
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(index)) is not None:
            start, end = span
            length = strip.cell_length
            end = length if end == -1 else min(end, length)
            if start < end:
                style = self.screen.get_component_rich_style("screen--selection")
                before, chosen, after = strip.divide([start, end, length])
                strip = Strip.join([before, chosen.apply_style(style), after])
        return strip.apply_offsets(0, index)
