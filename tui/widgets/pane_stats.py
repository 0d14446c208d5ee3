"""PaneStats: one line of a pane's figures, live while it generates and final after.

Figures follow docs/metrics.md: TTFT, decode tokens/s, tokens, elapsed, and the worker's own
RSS, CPU and GPU memory when a resource sample for its process is available; after a run
with token probabilities, the answer's mean log-probability, perplexity and mean entropy
(logp, ppl, H). Unknown figures show "—", never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.widgets import Static

from engines.machine.resources import ProcessSample
from engines.types import GenerationStats
from engines.units import MIB
from tui.formatting import number


@dataclass(frozen=True)
class StatsFigures:
    """What the stats line shows; None is unknown."""

    ttft_s: float | None = None
    decode_tps: float | None = None
    tokens: int | None = None
    elapsed_s: float | None = None
    rss_mib: float | None = None
    cpu_percent: float | None = None
    gpu_mem_mib: float | None = None
    mean_logprob: float | None = None
    """The answer's mean log-probability (token probabilities on)."""
    perplexity: float | None = None
    mean_entropy: float | None = None
    kv_cache_pct: float | None = None
    """An `openai:` pane's server: KV cache use after the answer."""
    slots: str | None = None
    """An `openai:` pane's server: "busy/total" slots."""

    @classmethod
    def from_stats(
        cls, stats: GenerationStats, process: ProcessSample | None = None
    ) -> StatsFigures:
        """The final figures of a finished generation: the run's peak RSS and GPU memory, or
        the worker's latest sampled figures where the run has none."""
        sampled = cls.live(process)
        return cls(
            ttft_s=stats.ttft_s,
            decode_tps=stats.decode_tps,
            tokens=stats.generated_tokens,
            elapsed_s=stats.elapsed_s,
            rss_mib=stats.peak_rss_mib if stats.peak_rss_mib is not None else sampled.rss_mib,
            gpu_mem_mib=stats.gpu_mem_mib if stats.gpu_mem_mib is not None else sampled.gpu_mem_mib,
            mean_logprob=stats.mean_logprob,
            perplexity=stats.perplexity,
            mean_entropy=stats.mean_entropy,
            kv_cache_pct=stats.server.kv_cache_pct if stats.server else None,
            slots=_slots(stats),
        )

    @classmethod
    def live(
        cls,
        process: ProcessSample | None,
        *,
        ttft_s: float | None = None,
        decode_tps: float | None = None,
        tokens: int | None = None,
        elapsed_s: float | None = None,
    ) -> StatsFigures:
        """The run's figures so far with the worker process's latest sampled RSS, CPU and
        GPU memory."""
        figures = cls(ttft_s=ttft_s, decode_tps=decode_tps, tokens=tokens, elapsed_s=elapsed_s)
        if process is None:
            return figures
        return replace(
            figures,
            rss_mib=process.rss_bytes / MIB,
            cpu_percent=process.cpu_percent,
            gpu_mem_mib=process.gpu_mem_mib,
        )


def _slots(stats: GenerationStats) -> str | None:
    server = stats.server
    if server is None or server.slots_total is None:
        return None
    busy = "?" if server.slots_busy is None else str(server.slots_busy)
    return f"{busy}/{server.slots_total}"


def format_figures(figures: StatsFigures) -> Text:
    """The stats line as styled text: label dim, value bright."""
    parts: list[tuple[str, str, str]] = [
        ("TTFT ", number(figures.ttft_s, ".2f"), " s"),
        ("", number(figures.decode_tps, ".1f"), " tok/s"),
        ("", number(figures.tokens, "d"), " tok"),
        ("", number(figures.elapsed_s, ".1f"), " s"),
    ]
    if figures.rss_mib is not None:
        parts.append(("RSS ", number(figures.rss_mib, ".0f"), " MiB"))
    if figures.cpu_percent is not None:
        parts.append(("CPU ", number(figures.cpu_percent, ".0f"), "%"))
    if figures.gpu_mem_mib is not None:
        parts.append(("GPU ", number(figures.gpu_mem_mib, ".0f"), " MiB"))
    if figures.mean_logprob is not None:
        parts.append(("logp ", number(figures.mean_logprob, ".2f"), ""))
        parts.append(("ppl ", number(figures.perplexity, ".2f"), ""))
        parts.append(("H ", number(figures.mean_entropy, ".2f"), ""))
    if figures.kv_cache_pct is not None:
        parts.append(("KV ", number(figures.kv_cache_pct, ".0f"), "%"))
    if figures.slots is not None:
        parts.append(("slots ", figures.slots, " busy"))
    text = Text(no_wrap=True, overflow="ellipsis")
    for index, (label, value, unit) in enumerate(parts):
        if index:
            text.append(" · ", style="dim")
        text.append(label, style="dim")
        text.append(value, style="bold")
        text.append(unit, style="dim")
    return text


class PaneStats(Static):
    """The live stats line under a pane's answer."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.figures = StatsFigures()
        """The figures shown now."""

    def show(self, figures: StatsFigures) -> None:
        """Show these figures (only redraws when they changed)."""
        if figures != self.figures:
            self.figures = figures
            self.update(format_figures(figures), layout=False)  # one line, fixed size

    def on_mount(self) -> None:
        self.update(format_figures(self.figures))
