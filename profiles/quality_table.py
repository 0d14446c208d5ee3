"""Quality beside cost: one row per pane over a whole suite.

`quality_rows(results, standings)` sums up a suite run's results per pane: the share of
checks passed, the blind-vote standing (win rate with its 95 % Wilson interval, the
Bradley–Terry rating; from `profiles.standings`, absent without votes), and the cost
figures of docs/metrics.md over the answers: median TTFT, median decode speed, mean
tokens per answer, peak memory, mean energy per answer where measured. The same rows feed
`llmbench run`'s table, the exports (`profiles.suite_export`) and the workbench view.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from profiles.results import RunResult
    from profiles.standings import Standing


@dataclass(frozen=True)
class QualityRow:
    """One pane over a suite. None: unknown or not measured (shown "—")."""

    pane_index: int | None
    label: str
    model_ref: str
    answers: int
    """Answers recorded for the pane."""
    prompts: int
    """Distinct prompts answered."""
    checks_passed: int
    checks_total: int
    win_rate: float | None = None
    win_low: float | None = None
    win_high: float | None = None
    rating: float | None = None
    votes: int = 0
    median_ttft_s: float | None = None
    decode_tps: float | None = None
    """Median decode speed over the answers (per request under `concurrency`)."""
    tokens_per_answer: float | None = None
    peak_rss_mib: float | None = None
    gpu_mem_mib: float | None = None
    energy_per_answer_j: float | None = None
    concurrency: int = 1
    """Requests in flight at once for this pane: above 1, speeds are per request."""

    @property
    def checks_pct(self) -> float | None:
        """Checks passed, in percent; None when the suite has no checks."""
        if not self.checks_total:
            return None
        return 100.0 * self.checks_passed / self.checks_total

    def to_record(self) -> dict[str, Any]:
        """A flat dict for the exports (every field, plus `checks_pct`)."""
        return {**asdict(self), "checks_pct": self.checks_pct}


def standing_for(
    standings: Mapping[str, Standing] | None, model_ref: str, label: str
) -> Standing | None:
    """The standing of a pane: by model reference, else by label."""
    if not standings:
        return None
    return standings.get(model_ref) or standings.get(label)


def quality_rows(
    results: Sequence[RunResult], standings: Mapping[str, Standing] | None = None
) -> list[QualityRow]:
    """One row per pane (pane order) over `results`, with its standing when there is one."""
    groups: dict[tuple[Any, str, str], list[RunResult]] = {}
    for result in results:
        key = (result.pane_index, result.pane_label, result.model_ref)
        groups.setdefault(key, []).append(result)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0] is None, item[0][0] or 0))
    return [
        _row(index, label, model_ref, answers, standing_for(standings, model_ref, label))
        for (index, label, model_ref), answers in ordered
    ]


def _row(
    index: int | None,
    label: str,
    model_ref: str,
    answers: list[RunResult],
    standing: Standing | None,
) -> QualityRow:
    figures = [r.figures for r in answers]
    checks = [check for r in answers if r.suite for check in r.suite.checks]
    energy = [f.energy_j for f in figures if f.energy_j is not None]
    return QualityRow(
        pane_index=index,
        label=label,
        model_ref=model_ref,
        answers=len(answers),
        prompts=len({r.suite.prompt_id if r.suite else r.prompt for r in answers}),
        checks_passed=sum(1 for check in checks if check.passed),
        checks_total=len(checks),
        win_rate=standing.win_rate if standing else None,
        win_low=standing.win_low if standing else None,
        win_high=standing.win_high if standing else None,
        rating=standing.rating if standing else None,
        votes=standing.votes if standing else 0,
        median_ttft_s=_median(f.ttft_s for f in figures),
        decode_tps=_median(f.decode_tps for f in figures),
        tokens_per_answer=_mean(f.generated_tokens for f in figures),
        peak_rss_mib=_max(f.peak_rss_mib for f in figures),
        gpu_mem_mib=_max(f.gpu_mem_mib for f in figures),
        energy_per_answer_j=statistics.fmean(energy) if energy else None,
        concurrency=max((r.suite.concurrency for r in answers if r.suite), default=1),
    )


def _known(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None]


def _median(values: Iterable[float | None]) -> float | None:
    known = _known(values)
    return statistics.median(known) if known else None


def _mean(values: Iterable[float | None]) -> float | None:
    known = _known(values)
    return statistics.fmean(known) if known else None


def _max(values: Iterable[float | None]) -> float | None:
    known = _known(values)
    return max(known) if known else None


QUALITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("checks %", "checks"),
    ("win rate (95 % CI)", "win"),
    ("BT rating", "rating"),
    ("median TTFT s", "median_ttft_s"),
    ("decode tok/s", "decode_tps"),
    ("tokens/answer", "tokens_per_answer"),
    ("peak RSS MiB", "peak_rss_mib"),
    ("GPU MiB", "gpu_mem_mib"),
    ("energy J/answer", "energy_per_answer_j"),
)
"""Column titles and what each shows, in order (text table, Markdown, workbench view)."""

DASH = "—"


def quality_cells(row: QualityRow) -> list[str]:
    """The row's cells for `QUALITY_COLUMNS`, as text ("—" for unknown)."""
    return [_cell(row, what) for _, what in QUALITY_COLUMNS]


def _cell(row: QualityRow, what: str) -> str:
    if what == "checks":
        pct = row.checks_pct
        return DASH if pct is None else f"{pct:.0f} % ({row.checks_passed}/{row.checks_total})"
    if what == "win":
        if row.win_rate is None:
            return DASH
        low = 0.0 if row.win_low is None else row.win_low
        high = 1.0 if row.win_high is None else row.win_high
        return f"{row.win_rate * 100:.0f} % ({low * 100:.0f}–{high * 100:.0f} %, {row.votes} votes)"
    if what == "rating":
        return DASH if row.rating is None else f"{row.rating:.0f}"
    value = getattr(row, what)
    if value is None:
        return DASH
    decimals = {"median_ttft_s": 3, "tokens_per_answer": 0, "energy_per_answer_j": 2}
    return f"{value:.{decimals.get(what, 1)}f}"


def quality_caption(rows: Sequence[QualityRow], mode: str | None) -> str:
    """What the table's speeds mean: the run mode, and per-request speeds under concurrency."""
    parts = []
    if mode == "parallel":
        parts.append("panes ran at the same time: speeds are not a fair comparison")
    elif mode == "sequential":
        parts.append("panes ran one after another: speeds are comparable")
    concurrent = [row for row in rows if row.concurrency > 1]
    if concurrent:
        names = ", ".join(f"{row.label} (concurrency {row.concurrency})" for row in concurrent)
        parts.append(f"speeds are per request under concurrency for {names}")
    return "; ".join(parts)
