"""What `llmbench run` prints: progress on standard error, the results table on standard output.

Plain text only (no Rich): the table must read the same in a terminal, a CI log and a
file. On a terminal the progress is one status line redrawn in place with a bar per
running pane; otherwise it is one plain line per event worth keeping.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Sequence
from typing import IO, Any

from engines.types import FINISHED_STOP_REASONS
from profiles.best import BEST_MARK, CACHED_MARK, Contender, Figure, starred
from profiles.plan import PanePlan
from profiles.results import RunResult
from profiles.run_report import ComparisonOutcome, PaneFailure, PaneProgress

DASH = "—"
"""Shown for a figure that cannot be known (docs/metrics.md: never 0 or infinity)."""

_BAR_WIDTH = 12
_REDRAW_EVERY_S = 0.1
"""The status line is redrawn at most this often (token batches arrive faster)."""


class ProgressPrinter:
    """A `run_comparison` progress callback that writes to `stream` (standard error)."""

    def __init__(self, stream: IO[str], total_panes: int, tty: bool | None = None) -> None:
        self.stream = stream
        self.total_panes = total_panes
        self.tty = stream.isatty() if tty is None else tty
        self._status: dict[int, str] = {}
        self._line_shown = False
        self._drawn_at = 0.0

    def __call__(self, progress: PaneProgress) -> None:
        line = self._permanent_line(progress)
        if not self.tty:
            if line:
                self.stream.write(line + "\n")
                self.stream.flush()
            return
        self._update_status(progress)
        now = time.monotonic()
        if line is None and now - self._drawn_at < _REDRAW_EVERY_S:
            return
        self._drawn_at = now
        self._clear_status()
        if line:
            self.stream.write(line + "\n")
        self._draw_status()
        self.stream.flush()

    def close(self) -> None:
        """Leave the terminal on a clean line."""
        if self.tty:
            self._clear_status()
            self.stream.flush()

    def _prefix(self, progress: PaneProgress) -> str:
        return f"[{progress.pane + 1}/{self.total_panes}] {progress.label}"

    def _permanent_line(self, progress: PaneProgress) -> str | None:
        prefix = self._prefix(progress)
        if progress.phase == "loading" and progress.load_fraction is None:
            return f"{prefix}: loading"
        if progress.phase == "loaded":
            return f"{prefix}: loaded"
        if progress.phase == "generated":
            return f"{prefix}: {_step_name(progress)}: {progress.message}"
        if progress.phase == "failed":
            return f"{prefix}: FAILED: {progress.message}"
        if progress.phase == "warning":
            return f"{prefix}: warning: {progress.message}"
        return None

    def _update_status(self, progress: PaneProgress) -> None:
        if progress.phase in ("finished", "failed"):
            self._status.pop(progress.pane, None)
            return
        if progress.phase == "loading":
            fraction = progress.load_fraction or 0.0
            self._status[progress.pane] = f"{progress.label} loading {_bar(fraction)}"
        elif progress.phase == "generating":
            fraction = progress.tokens / progress.max_tokens if progress.max_tokens else 0.0
            self._status[progress.pane] = (
                f"{progress.label} {_step_name(progress)} {_bar(fraction)} "
                f"{progress.tokens}/{progress.max_tokens}"
            )

    def _clear_status(self) -> None:
        if self._line_shown:
            self.stream.write("\r\x1b[2K")
            self._line_shown = False

    def _draw_status(self) -> None:
        if not self._status:
            return
        text = " | ".join(self._status[pane] for pane in sorted(self._status))
        width = shutil.get_terminal_size((100, 24)).columns - 1
        if len(text) > width:  # a wrapped line could not be redrawn in place
            text = text[: max(0, width - 1)] + "…"
        self.stream.write(text)
        self._line_shown = True


def _step_name(progress: PaneProgress) -> str:
    warmups = progress.steps - progress.repetitions
    if progress.warmup:
        return f"warm-up {progress.step + 1}/{warmups}"
    return f"run {progress.step - warmups + 1}/{progress.repetitions}"


def _bar(fraction: float) -> str:
    filled = max(0, min(_BAR_WIDTH, round(fraction * _BAR_WIDTH)))
    return "[" + "#" * filled + "." * (_BAR_WIDTH - filled) + "]"


# --- the results table --------------------------------------------------------------------

_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("n_prompt", "n_prompt", 0),
    ("n_gen", "n_gen", 0),
    ("TTFT s", "ttft_s", 3),
    ("prompt tok/s", "prompt_tps", 1),
    ("decode tok/s", "decode_tps", 1),
    ("engine tok/s", "engine_decode_tps", 1),
    ("peak RSS MiB", "peak_rss_mib", 1),
)
"""Figure columns: title, record field (profiles.export_fields names), decimals."""

CACHE_FIELDS = ("ttft_s", "prompt_tps")
"""Figures the prompt cache changes: marked ↺ when a run took its prompt from the cache."""

_FIDELITY_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("PPL", "ppl", 3),
    ("KLD", "kld", 4),
    ("top-1 %", "top1_pct", 1),
)
"""Added when the run measured fidelity (`llmbench run --fidelity`)."""


def results_table(
    plans: Sequence[PanePlan], outcome: ComparisonOutcome, show_text: bool = False
) -> str:
    """The comparison as plain aligned text: one row per pane, mean ± sd over repetitions."""
    from profiles.export_fields import result_to_record

    by_pane: dict[int, list[dict[str, Any]]] = {}
    for result in outcome.results:
        by_pane.setdefault(result.pane_index or 0, []).append(result_to_record(result))
    failed = {failure.pane for failure in outcome.failures}
    columns = _COLUMNS
    if any(result.fidelity for result in outcome.results):
        columns += _FIDELITY_COLUMNS
    header = ["pane", "model", "temp", *(title for title, _, _ in columns), "stop"]
    rows = [header]
    stars = _stars(plans, by_pane, failed, outcome.mode)
    for plan, starred_fields in zip(plans, stars, strict=True):
        records = by_pane.get(plan.index, [])
        cached = any(r.get("n_prompt_cached") for r in records)
        figures = []
        for _, field, decimals in columns:
            shown = _figure(records, field, decimals)
            if field in starred_fields:
                shown = f"{BEST_MARK} {shown}"
            elif cached and field in CACHE_FIELDS and shown != DASH:
                shown = f"{CACHED_MARK} {shown}"
            figures.append(shown)
        stops = sorted({str(r["stop_reason"]) for r in records})
        stop = "FAILED" if plan.index in failed else ("/".join(stops) or DASH)
        temperature = f"{plan.sampling.temperature:g}"
        rows.append([plan.label, plan.model_ref, temperature, *figures, stop])
    lines = [_caption(outcome, rows_have_repeats=any(len(r) > 1 for r in by_pane.values()))]
    lines += _aligned(rows)
    if show_text:
        lines += _answers(plans, by_pane)
    return "\n".join(lines)


_BEST: tuple[Figure, ...] = (
    Figure("ttft_s", "min", 3, speed=True, cache_sensitive=True),
    Figure("prompt_tps", "max", 1, speed=True, cache_sensitive=True),
    Figure("decode_tps", "max", 1, speed=True),
    Figure("engine_decode_tps", "max", 1, speed=True),
    Figure("peak_rss_mib", "min", 1),
)
"""The run table's columns that have a best value (`profiles.best`), compared on the means."""


def _stars(
    plans: Sequence[PanePlan],
    by_pane: dict[int, list[dict[str, Any]]],
    failed: set[int],
    mode: str,
) -> list[set[str]]:
    """Per pane, the fields where its mean is the best (finished panes only: `profiles.best`)."""
    contenders = []
    for plan in plans:
        records = by_pane.get(plan.index, [])
        stops = {str(r["stop_reason"]) for r in records}
        unfinished = plan.index in failed or not records or stops - set(FINISHED_STOP_REASONS)
        values = {}
        for figure in _BEST:
            known = [float(r[figure.key]) for r in records if r.get(figure.key) is not None]
            values[figure.key] = statistics.fmean(known) if known else None
        contenders.append(
            Contender(
                "error" if unfinished else "stop",
                values,
                cached=any(r.get("n_prompt_cached") for r in records),
            )
        )
    return starred(contenders, _BEST, mode)


def _caption(outcome: ComparisonOutcome, rows_have_repeats: bool) -> str:
    mode = {
        "sequential": "sequential (panes ran one after another: speeds are comparable)",
        "parallel": "parallel (panes shared the machine: speeds are not a fair comparison)",
    }[outcome.mode]
    caption = f"Mode: {mode}; {BEST_MARK} best of the finished panes"
    if outcome.warm:
        caption += "; runs warm (after the warm-up: prompt from the cache, ↺)"
    else:
        caption += "; runs cold (prompt cache off: every run evaluates the whole prompt)"
    if rows_have_repeats:
        caption += "; figures are mean ± standard deviation over the runs"
    return caption + "."


def _figure(records: list[dict[str, Any]], field: str, decimals: int) -> str:
    values = [float(r[field]) for r in records if r.get(field) is not None]
    if not values:
        return DASH
    if len(records) == 1 or len(values) == 1:
        return f"{values[0]:.{decimals}f}"
    mean = statistics.fmean(values)
    spread = statistics.stdev(values)
    return f"{mean:.{decimals}f} ± {spread:.{decimals}f}"


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    numeric = {
        column for column, title in enumerate(rows[0]) if title not in ("pane", "model", "stop")
    }
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _answers(plans: Sequence[PanePlan], by_pane: dict[int, list[dict[str, Any]]]) -> list[str]:
    lines: list[str] = []
    for plan in plans:
        records = by_pane.get(plan.index, [])
        for record in records:
            run = f" (run {record['repetition'] + 1})" if len(records) > 1 else ""
            lines += ["", f"--- {plan.label}{run} ---", str(record["text"])]
    return lines


def probabilities_table(plans: Sequence[PanePlan], outcome: ComparisonOutcome) -> str:
    """Per pane: the answers' token-probability summary (docs/metrics.md), mean ± sd."""
    from profiles.export_fields import result_to_record

    by_pane: dict[int, list[dict[str, Any]]] = {}
    for result in outcome.results:
        by_pane.setdefault(result.pane_index or 0, []).append(result_to_record(result))
    rows = [["pane", "temp", "mean logprob", "perplexity", "mean entropy"]]
    for plan in plans:
        records = by_pane.get(plan.index, [])
        figures = [
            _figure(records, field, 3) for field in ("mean_logprob", "perplexity", "mean_entropy")
        ]
        rows.append([plan.label, f"{plan.sampling.temperature:g}", *figures])
    return "\n".join(
        ["", "Token probabilities (as the sampler saw them; entropy in nats):"] + _aligned(rows)
    )


def seed_spread_table(results: Sequence[RunResult]) -> str:
    """Per model and temperature: distinct answers out of the runs, mean pairwise similarity."""
    from profiles.seed_spread import seed_spread

    rows = [["model", "temp", "distinct answers", "mean similarity"]]
    for spread in seed_spread(results):
        similarity = DASH if spread.mean_similarity is None else f"{spread.mean_similarity:.2f}"
        rows.append(
            [
                spread.model_ref,
                f"{spread.temperature:g}",
                f"{spread.distinct} of {spread.runs}",
                similarity,
            ]
        )
    return "\n".join(["", "Answers over seeds:"] + _aligned(rows))


def failures_text(failures: Sequence[PaneFailure]) -> str:
    """The failed panes, one line each (with the last lines of a worker's log, indented)."""
    lines = ["", "Failed panes:"]
    for failure in failures:
        lines.append(
            f"  [{failure.pane + 1}] {failure.label} ({failure.model_ref}): {failure.reason}"
        )
        detail = [line for line in failure.detail.splitlines() if line.strip()][-5:]
        lines += [f"      {line.strip()}" for line in detail]
    return "\n".join(lines)
