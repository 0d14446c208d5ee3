"""A sparkline on a fixed scale and a fixed time axis, for resource history.

Textual's `Sparkline` scales each line between the smallest and the largest value it
holds, so a CPU idling between 2 % and 3 % draws the same full-height wave as one
swinging between 0 % and 100 %. For a resource monitor that misleads: the height of a
bar must mean the same thing every time you look. `ScaledSparkline` is a `Sparkline`
(same `data` reactive, same colour component classes) whose bars are drawn against a
fixed `ceiling` (100 for percentages, the total for memory), and whose width always
spans the same number of samples (`span`): newest on the right, older to the left,
blank where there is no history yet. So the time axis does not stretch while the
history fills up.

Usage::

    spark = ScaledSparkline(ceiling=100.0, span=300)
    spark.data = [12.0, 40.5, 97.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.widgets import Sparkline

BARS = "▁▂▃▄▅▆▇█"
"""One-line bar heights, lowest first."""


def bucket_maxima(data: Sequence[float], width: int, span: int) -> list[float | None]:
    """`width` cells covering the last `span` samples, newest on the right.

    Each cell holds the largest value of the samples it covers, or None where the
    history does not reach back that far.
    """
    if width <= 0:
        return []
    per_cell = max(1, math.ceil(span / width))
    cells: list[float | None] = [None] * width
    end = len(data)
    for cell in range(width - 1, -1, -1):
        start = end - per_cell
        if end <= 0:
            break
        cells[cell] = max(data[max(start, 0) : end])
        end = start
    return cells


def bar_for(value: float, ceiling: float) -> tuple[str, float]:
    """The bar character for `value` on a 0..ceiling scale, and the fraction it shows."""
    fraction = 0.0 if ceiling <= 0 else min(max(value / ceiling, 0.0), 1.0)
    return BARS[min(int(fraction * len(BARS)), len(BARS) - 1)], fraction


class ScaledSparkline(Sparkline):
    """A one-line sparkline against a fixed ceiling and a fixed number of samples."""

    DEFAULT_CSS = """
    ScaledSparkline > .sparkline--max-color {
        color: $error;
    }
    ScaledSparkline > .sparkline--min-color {
        color: $success;
    }
    """

    def __init__(
        self,
        data: Sequence[float] | None = None,
        *,
        ceiling: float = 100.0,
        span: int = 300,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(data, name=name, id=id, classes=classes)
        self.ceiling = ceiling
        """The value drawn as a full-height bar (100 for %, the total for memory)."""
        self.span = span
        """How many samples the full width covers (the sampler's history length)."""

    def render(self) -> Text:
        _, base = self.background_colors
        low = base + self.get_component_styles("sparkline--min-color").color
        high = base + self.get_component_styles("sparkline--max-color").color
        text = Text(no_wrap=True, overflow="crop")
        for value in bucket_maxima(list(self.data or ()), self.size.width, self.span):
            if value is None:
                text.append_text(Text(" "))
                continue
            bar, fraction = bar_for(value, self.ceiling)
            color = low.blend(high, fraction)
            text.append_text(Text(bar, style=Style(color=color.rich_color)))
        return text


def per_core_strip(percents: Sequence[float], max_cells: int = 32) -> Text:
    """One bar per core on a 0..100 scale (neighbouring cores share a cell past `max_cells`)."""
    if not percents:
        return Text()
    per_cell = max(1, math.ceil(len(percents) / max_cells))
    text = Text(no_wrap=True)
    low, high = Color.parse("green"), Color.parse("red")
    for start in range(0, len(percents), per_cell):
        bar, fraction = bar_for(max(percents[start : start + per_cell]), 100.0)
        text.append(bar, style=Style(color=low.blend(high, fraction).rich_color))
    return text
