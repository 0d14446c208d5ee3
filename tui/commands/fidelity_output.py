"""What `llmbench run --fidelity` prints: progress per pane, then the fidelity table.

Plain text, like `tui.commands.run_output`: one line per step on standard error (the
tokens/s and ETA of every window on a terminal), the table on standard output.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import IO

from engines.fidelity.figures import FidelityFigures
from profiles.fidelity_run import FidelityOutcome, FidelityProgress
from profiles.plan import PanePlan
from profiles.results import RunResult
from tui.commands.run_output import DASH


class FidelityProgressPrinter:
    """A `run_fidelity` progress callback writing to `stream` (standard error)."""

    def __init__(self, stream: IO[str], total_panes: int, tty: bool | None = None) -> None:
        self.stream = stream
        self.total_panes = total_panes
        self.tty = stream.isatty() if tty is None else tty
        self._open_line = False

    def __call__(self, progress: FidelityProgress) -> None:
        prefix = f"[fidelity {progress.pane + 1}/{self.total_panes}] {progress.label}"
        if progress.phase == "evaluating" and progress.total_tokens:
            if not self.tty:
                return
            eta = progress.eta_s
            left = DASH if eta is None else f"{eta:.0f} s"
            self.stream.write(
                f"\r\x1b[2K{prefix}: {progress.evaluated_tokens}/{progress.total_tokens} tokens, "
                f"{progress.tokens_per_s:.1f} tok/s, ETA {left}"
            )
            self._open_line = True
        else:
            words = {
                "loading": "loading",
                "evaluating": "evaluating",
                "done": "done",
                "cached": "reference candidates from the cache",
                "failed": f"FAILED: {progress.message}",
            }[progress.phase]
            if self._open_line:
                self.stream.write("\r\x1b[2K")
                self._open_line = False
            self.stream.write(f"{prefix}: {words}\n")
        self.stream.flush()

    def close(self) -> None:
        if self._open_line:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._open_line = False


def fidelity_table(
    plans: Sequence[PanePlan], outcome: FidelityOutcome, results: Sequence[RunResult] = ()
) -> str:
    """One row per pane: size and decode speed (from `results`, the generations of the same
    run) beside perplexity ±, KLD (mean, 99th percentile), same top token and Δp, so what a
    quantization saves and what it costs read on one line."""
    header = ["pane", "size MiB", "decode/s", "PPL", "KLD", "KLD p99", "top-1 %", "Δp %"]
    header += ["eval tok/s", "note"]
    rows = [header]
    for plan in plans:
        figures = outcome.figures.get(plan.index) or FidelityFigures(error="not run")
        cost = _cost_cells([r for r in results if r.pane_index == plan.index])
        note = _note(figures, plan.index == outcome.reference)
        rows.append([plan.label, *cost, *_cells(figures), note])
    first = next(iter(outcome.figures.values()), None)
    n_ctx = first.n_ctx if first else 0
    lines = [
        f"Fidelity: perplexity over windows of {n_ctx} tokens (second half of each scored); "
        "KLD, top-1 % and Δp against the reference."
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = [
            cell.ljust(widths[i]) if i in (0, len(header) - 1) else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _cost_cells(results: Sequence[RunResult]) -> list[str]:
    """The model file's size and the pane's median decode speed over its generations."""
    size = next((r.model.file_size for r in results if r.model and r.model.file_size), None)
    speeds = [r.figures.decode_tps for r in results if r.figures.decode_tps is not None]
    return [
        DASH if size is None else f"{size / 2**20:,.0f}",
        DASH if not speeds else f"{statistics.median(speeds):,.1f}",
    ]


def _cells(figures: FidelityFigures) -> list[str]:
    def number(value: float | None, decimals: int) -> str:
        return DASH if value is None else f"{value:.{decimals}f}"

    ppl = DASH if figures.ppl is None else f"{figures.ppl:.3f} ± {figures.ppl_err or 0:.3f}"
    return [
        ppl,
        number(figures.kld, 4),
        number(figures.kld_p99, 4),
        number(figures.same_top_pct, 1),
        number(figures.dp_mean_pct, 2),
        number(figures.tokens_per_s, 1),
    ]


def _note(figures: FidelityFigures, is_reference: bool) -> str:
    if figures.error:
        return f"FAILED: {figures.error}"
    if figures.cancelled:
        return "cancelled"
    parts = ["reference"] if is_reference else []
    if figures.note:
        parts.append(figures.note)
    return "; ".join(parts)
