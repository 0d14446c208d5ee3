"""A small horizontal bar chart drawn with block characters.

For E1 (and anyone mounting it)::

    chart = BarChart("decode", "tok/s", higher_is_better=True)
    chart.bars = [("small", 105.2), ("large", 38.0), ("broken", None)]

Each bar is scaled to the largest value and drawn with eighth blocks, so a ratio reads
at a glance; an unknown value shows "—" and no bar (never a zero-length bar that looks
like a real zero). The best bar (highest, or lowest when `higher_is_better` is False)
is drawn in the success colour. The widget is one line per bar plus a title line and
fits any width of 30 columns or more.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.formatting import UNKNOWN, chart_value, shorten

EIGHTHS = " ▏▎▍▌▋▊▉"
"""Partial blocks: index n is n eighths of a cell wide."""


def block_bar(value: float, maximum: float, width: int) -> str:
    """A bar of `width` cells scaled so that `maximum` fills it; at least one eighth when > 0."""
    if width <= 0 or maximum <= 0 or value <= 0:
        return ""
    eighths = max(1, round(min(value / maximum, 1.0) * width * 8))
    full, remainder = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[remainder] if remainder else "")


class BarChart(Widget):
    """One titled group of horizontal bars, one per labelled value."""

    DEFAULT_CSS = """
    BarChart {
        height: auto;
    }
    BarChart > .bar-chart--title {
        text-style: bold;
    }
    BarChart > .bar-chart--bar {
        color: $primary;
    }
    BarChart > .bar-chart--best {
        color: $success;
    }
    """
    COMPONENT_CLASSES = {"bar-chart--title", "bar-chart--bar", "bar-chart--best"}

    bars: reactive[Sequence[tuple[str, float | None]]] = reactive((), layout=True)
    """The (label, value) pairs to draw, in order; None means unknown."""

    def __init__(
        self,
        title: str,
        unit: str,
        *,
        higher_is_better: bool = True,
        bars: Sequence[tuple[str, float | None]] = (),
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = title
        """What the bars measure, shown above them."""
        self.unit = unit
        """The unit printed after each value."""
        self.higher_is_better = higher_is_better
        """Whether the longest bar is the best one (speeds) or the shortest (memory, time)."""
        self.set_reactive(BarChart.bars, tuple(bars))
        self.best_labels: frozenset[str] | None = None
        """The labels whose bar is drawn as the best, when the caller decides it
        (`profiles.best`: finished panes only, no speeds in parallel mode); None: the best
        known value."""

    def mark_best(self, labels: frozenset[str] | None) -> None:
        """Draw these labels' bars as the best (None: the best known value)."""
        self.best_labels = labels
        self.refresh()

    def validate_bars(self, bars: Sequence[tuple[str, float | None]]) -> tuple:
        return tuple((str(label), value) for label, value in bars)

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1 + len(self.bars)

    def best_value(self) -> float | None:
        """The best known value, or None when fewer than two values are known (nothing to compare)."""
        known = [value for _, value in self.bars if value is not None]
        if len(known) < 2:
            return None
        return max(known) if self.higher_is_better else min(known)

    def render(self) -> Text:
        title_style = self.get_component_rich_style("bar-chart--title")
        bar_style = self.get_component_rich_style("bar-chart--bar")
        best_style = self.get_component_rich_style("bar-chart--best")
        better = "higher" if self.higher_is_better else "lower"
        text = Text(f"{self.title} ({self.unit}, {better} is better)", style=title_style)
        if not self.bars:
            return text
        label_width = min(max(len(label) for label, _ in self.bars), 16)
        shown = [chart_value(v) if v is not None else UNKNOWN for _, v in self.bars]
        value_width = max(len(v) for v in shown)
        bar_width = max(self.size.width - label_width - value_width - 3, 1)
        maximum = max((v for _, v in self.bars if v is not None), default=0.0)
        best = self.best_value()
        for (label, value), value_text in zip(self.bars, shown, strict=True):
            text.append("\n")
            text.append(shorten(label, label_width).ljust(label_width) + " ")
            if value is None:
                text.append(" " * bar_width)
            else:
                bar = block_bar(value, maximum, bar_width)
                is_best = (
                    label in self.best_labels if self.best_labels is not None else value == best
                )
                text.append(bar, style=best_style if is_best else bar_style)
                text.append(" " * (bar_width - len(bar)))
            text.append(" " + value_text.rjust(value_width))
        return text
