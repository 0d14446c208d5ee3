"""The comparison after a run: a table of every pane's figures and two bar charts.

For E1 (and anyone mounting it)::

    comparison = ComparisonTable(id="comparison")
    comparison.show_results([("small", stats_a, info_a), ("large", stats_b, None)])
    comparison.clear_results()

`show_results` takes a list of `ComparisonRow` = (label, GenerationStats, ModelInfo or
None) in pane order. The table has one row per pane: model (parameters and quant, from
ModelInfo), TTFT, prompt, decode and engine tokens/s, tokens, peak RSS, GPU memory,
energy and stop reason; unknown figures show "—", never 0, and a figure that no pane
has (GPU memory and energy without a GPU) is left out and named in the legend, so
the table fits 80 columns where it can (narrower than 90 columns, the model column
goes too: each pane's header already names its model). The best value of each
column where a best exists is marked with ★ and the success colour: lowest TTFT,
memory and energy, highest speeds, by the one rule of `profiles.best` (finished panes
only, ties all starred, cached figures marked ↺ and never starred, no speed starred in
parallel mode, which the legend says). Below the table two bar charts (decode speed, peak
memory) draw the same figures with block characters.

After "Measure fidelity", `show_fidelity({label: FidelityFigures})` adds the columns PPL,
KLD and top-1 % (tui/widgets/fidelity_columns.py) and a KLD bar chart beside the others;
a pane measured for fidelity that has not generated yet gets a row of its own.

The figures follow `docs/metrics.md`; this widget only formats them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from engines.fidelity.figures import FidelityFigures
from engines.types import GenerationStats, ModelInfo
from profiles.best import BEST_MARK, CACHED_MARK, Contender, Figure, is_cached, starred
from tui.formatting import UNKNOWN, short_count, shorten
from tui.widgets.bar_chart import BarChart
from tui.widgets.fidelity_columns import (
    FIDELITY_COLUMNS,
    FIDELITY_LEGEND,
    fidelity_best,
    fidelity_cell,
    usable,
)

ComparisonRow = tuple[str, GenerationStats, ModelInfo | None]
"""One pane's result: its label, its figures and what the model was (None if it never loaded)."""

LABEL_WIDTH = 28
"""Longer pane labels are shortened in the middle (each pane's border shows it whole)."""
MODEL_COLUMN_MIN_WIDTH = 90
"""Below this width the model column is left out (each pane's header already says it)."""
SUMMARY_COLUMNS_WIDTH = 22
"""What the answer-summary columns (logp, ppl, H) add to that width when they are shown."""


@dataclass(frozen=True)
class Column:
    """One figure in the table: how to read it from a result and how to print it."""

    key: str
    header: str
    """The short table header."""
    name: str
    """The figure's name in words, for the legend."""
    value: Callable[[GenerationStats], float | None]
    format: str
    """A format spec for the value, e.g. ".2f"."""
    best: Figure | None = None
    """How the column's best value is chosen (`profiles.best`); None when it has none (tokens)."""
    quiet: bool = False
    """Left out without a word in the legend when no pane has it (the answer summary,
    which only runs with token probabilities have)."""


def _figure(
    key: str,
    better: Literal["min", "max"],
    decimals: int,
    *,
    speed: bool = False,
    cache: bool = False,
) -> Figure:
    return Figure(key, better, decimals, speed=speed, cache_sensitive=cache)


COLUMNS: tuple[Column, ...] = (
    Column(
        "ttft",
        "TTFT s",
        "TTFT",
        lambda s: s.ttft_s,
        ".2f",
        _figure("ttft", "min", 2, speed=True, cache=True),
    ),
    Column(
        "prompt_tps",
        "prompt/s",
        "prompt speed",
        lambda s: s.prompt_tps,
        ",.0f",
        _figure("prompt_tps", "max", 0, speed=True, cache=True),
    ),
    Column(
        "decode_tps",
        "decode/s",
        "decode speed",
        lambda s: s.decode_tps,
        ",.1f",
        _figure("decode_tps", "max", 1, speed=True),
    ),
    Column(
        "engine_tps",
        "engine/s",
        "engine speed",
        lambda s: s.engine_decode_tps,
        ",.1f",
        _figure("engine_tps", "max", 1, speed=True),
    ),
    Column("tokens", "tokens", "tokens", lambda s: s.generated_tokens, "d"),
    Column(
        "peak_rss",
        "RSS MiB",
        "peak RSS",
        lambda s: s.peak_rss_mib,
        ",.0f",
        _figure("peak_rss", "min", 0),
    ),
    Column(
        "gpu_mem",
        "GPU MiB",
        "GPU memory",
        lambda s: s.gpu_mem_mib,
        ",.0f",
        _figure("gpu_mem", "min", 0),
    ),
    Column(
        "energy",
        "energy J",
        "energy",
        lambda s: s.energy_j,
        ",.1f",
        _figure("energy", "min", 1, speed=True),
    ),
    Column("logp", "logp", "mean log-probability", lambda s: s.mean_logprob, ".2f", quiet=True),
    Column("ppl", "ppl", "perplexity of the answer", lambda s: s.perplexity, ".2f", quiet=True),
    Column("entropy", "H", "mean entropy (nats)", lambda s: s.mean_entropy, ".2f", quiet=True),
)
"""The numeric columns, in display order (label, model and stop reason come around them).
Speeds are in tokens per second. TTFT and prompt speed depend on the prompt cache."""

ANSWER_SUMMARY_LEGEND = "logp: mean log-probability, ppl: its perplexity, H: mean entropy"
"""What the answer-summary columns mean (token probabilities: `engines.local.token_probe`)."""


def measured_columns(rows: Sequence[ComparisonRow]) -> tuple[list[Column], list[Column]]:
    """The columns at least one pane has a value for, and those nobody measured.

    A column of nothing but "—" (GPU memory and energy on a machine without a GPU) is
    left out of the table and named once in the legend instead, so the table fits 80
    columns where it can.
    """
    shown: list[Column] = []
    unmeasured: list[Column] = []
    for column in COLUMNS:
        known = any(column.value(stats) is not None for _, stats, _ in rows)
        if known or not rows:
            shown.append(column)
        elif not column.quiet:
            unmeasured.append(column)
    return shown, unmeasured


def starred_cells(rows: Sequence[ComparisonRow], mode: str | None) -> list[set[str]]:
    """For each row, the keys of the columns where it holds the best value (`profiles.best`)."""
    contenders = [
        Contender(
            stats.stop_reason,
            {column.key: column.value(stats) for column in COLUMNS},
            cached=is_cached(stats.cached_prompt_tokens),
        )
        for _, stats, _ in rows
    ]
    return starred(contenders, [c.best for c in COLUMNS if c.best is not None], mode)


def describe_model(info: ModelInfo | None) -> str:
    """Parameters and quant, e.g. "135M Q4_1"; "—" when the model never loaded."""
    if info is None:
        return UNKNOWN
    parts = []
    if info.n_params:
        parts.append(short_count(info.n_params))
    if info.quantization:
        parts.append(info.quantization)
    return " ".join(parts) or info.architecture or UNKNOWN


def format_cell(column: Column, value: float | None, best: bool, cached: bool = False) -> Text:
    """One right-aligned cell: "—" when unknown, "★ value" in bold when it is the best,
    "↺ value" when the prompt cache made it (TTFT, prompt speed of a cached re-run)."""
    if value is None:
        return Text(UNKNOWN, justify="right")
    shown = format(value, column.format)
    if best:
        return Text(f"{BEST_MARK} {shown}", style="bold green", justify="right")
    if cached and column.best is not None and column.best.cache_sensitive:
        return Text(f"{CACHED_MARK} {shown}", style="dim", justify="right")
    return Text(shown, justify="right")


def legend_text(
    rows: Sequence[ComparisonRow], unmeasured: Sequence[Column], mode: str | None
) -> str:
    """What the marks mean, what was not measured, and whether speeds are comparable."""
    if mode == "parallel":
        legend = (
            f"Ran in parallel: speeds not comparable (no {BEST_MARK}). {BEST_MARK} lowest memory"
        )
    else:
        legend = f"{BEST_MARK} best: lowest time, memory and energy; highest speed (tokens/s)"
    if any(is_cached(stats.cached_prompt_tokens) for _, stats, _ in rows):
        legend += f". {CACHED_MARK} prompt served from the cache (not comparable)"
    if unmeasured:
        legend += f". Not measured: {', '.join(c.name for c in unmeasured)}"
    return legend


class ComparisonTable(Vertical):
    """A table of the panes' figures with the best of each column marked, and bar charts."""

    DEFAULT_CSS = """
    ComparisonTable {
        height: auto;
    }
    ComparisonTable > DataTable {
        height: auto;
        max-height: 12;
    }
    ComparisonTable > DataTable {
        scrollbar-size-horizontal: 1;
    }
    ComparisonTable > .comparison--legend {
        color: $text-muted;
    }
    ComparisonTable > Horizontal {
        height: auto;
    }
    ComparisonTable BarChart {
        width: 1fr;
        margin-right: 2;
    }
    """

    def __init__(
        self,
        rows: Sequence[ComparisonRow] = (),
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows: list[ComparisonRow] = list(rows)
        self._fidelity: dict[str, FidelityFigures] = {}
        self._mode: str | None = None
        self._shows_model_column = True

    @property
    def rows(self) -> list[ComparisonRow]:
        """The results shown now, in pane order."""
        return list(self._rows)

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="none", zebra_stripes=True)
        yield Static(classes="comparison--legend")
        with Horizontal():
            yield BarChart("decode", "tok/s", higher_is_better=True, id="chart-decode")
            yield BarChart("peak RSS", "MiB", higher_is_better=False, id="chart-memory")
            yield BarChart("KLD", "", higher_is_better=False, id="chart-kld")

    def on_mount(self) -> None:
        self._refresh_rows()

    def on_resize(self) -> None:
        if self._shows_model_column != self._wants_model_column():
            self._refresh_rows()

    def _wants_model_column(self) -> bool:
        shown, _ = measured_columns(self._rows)
        summary = SUMMARY_COLUMNS_WIDTH if any(column.quiet for column in shown) else 0
        return self.size.width >= MODEL_COLUMN_MIN_WIDTH + summary

    def show_results(self, rows: Sequence[ComparisonRow], mode: str | None = None) -> None:
        """Show these results, replacing what was there; `mode` ("sequential" or "parallel")
        is how they ran: parallel speeds are not comparable, so they get no ★."""
        self._rows = list(rows)
        self._mode = mode
        if self.is_mounted:
            self._refresh_rows()

    def show_fidelity(self, figures: Mapping[str, FidelityFigures]) -> None:
        """Show these panes' fidelity figures (by pane label) beside their cost figures."""
        self._fidelity = dict(figures)
        if self.is_mounted:
            self._refresh_rows()

    @property
    def has_rows(self) -> bool:
        """Whether the table shows anything (results or fidelity figures)."""
        return bool(self._rows or self._fidelity)

    def clear_results(self) -> None:
        """Show no results."""
        self.show_results([])

    def _refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        shown, unmeasured = measured_columns(self._rows)
        self._shows_model_column = self._wants_model_column()
        table.add_column("pane", key="pane")
        if self._shows_model_column:
            table.add_column("model", key="model")
        for column in shown:
            table.add_column(Text(column.header, justify="right"), key=column.key)
        fidelity = FIDELITY_COLUMNS if self._fidelity else ()
        for fidelity_column in fidelity:
            table.add_column(Text(fidelity_column.header, justify="right"), key=fidelity_column.key)
        table.add_column("stop", key="stop")
        legend = legend_text(self._rows, unmeasured, self._mode)
        if fidelity:
            legend += f". {FIDELITY_LEGEND}"
        if any(column.quiet for column in shown):
            legend += f". {ANSWER_SUMMARY_LEGEND}"
        self.query_one(".comparison--legend", Static).update(legend)
        stars = starred_cells(self._rows, self._mode)
        best_fidelity = fidelity_best(self._fidelity)
        for (label, stats, info), row_stars in zip(self._rows, stars, strict=True):
            cached = is_cached(stats.cached_prompt_tokens)
            cells: list[Text | str] = [shorten(label, LABEL_WIDTH)]
            if self._shows_model_column:
                cells.append(describe_model(info))
            for column in shown:
                value = column.value(stats)
                cells.append(format_cell(column, value, column.key in row_stars, cached))
            for fidelity_column in fidelity:
                figures = self._fidelity.get(label)
                cells.append(
                    fidelity_cell(fidelity_column, figures, best_fidelity.get(fidelity_column.key))
                )
            cells.append(stats.stop_reason)
            table.add_row(*cells)
        generated = {label for label, _, _ in self._rows}
        for label, figures in self._fidelity.items():
            if label in generated:
                continue
            cells = [shorten(label, LABEL_WIDTH)]
            if self._shows_model_column:
                cells.append(UNKNOWN)
            cells.extend(Text(UNKNOWN, justify="right") for _ in shown)
            for fidelity_column in fidelity:
                cells.append(
                    fidelity_cell(fidelity_column, figures, best_fidelity.get(fidelity_column.key))
                )
            cells.append("not run")
            table.add_row(*cells)
        kld_chart = self.query_one("#chart-kld", BarChart)
        kld_chart.display = bool(fidelity)
        kld_chart.bars = [
            (label, None if (f := usable(figures)) is None or f.is_reference else f.kld)
            for label, figures in self._fidelity.items()
        ]
        decode_chart = self.query_one("#chart-decode", BarChart)
        decode_chart.bars = [(label, stats.decode_tps) for label, stats, _ in self._rows]
        memory_chart = self.query_one("#chart-memory", BarChart)
        memory_chart.bars = [(label, stats.peak_rss_mib) for label, stats, _ in self._rows]
        for chart, key in ((decode_chart, "decode_tps"), (memory_chart, "peak_rss")):
            chart.mark_best(
                frozenset(
                    label for (label, _, _), s in zip(self._rows, stars, strict=True) if key in s
                )
            )
