"""What `llmbench run` prints for a suite: progress with a bar and an ETA, and the tables.

Progress goes to standard error: on a terminal one status line redrawn in place (a bar
over all the answers, the ETA, what each pane is doing); otherwise one plain line per
finished answer, with the count and the ETA. The quality × cost table
(`profiles.quality_table`) and the per-prompt check results go to standard output.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING

from profiles.quality_table import QUALITY_COLUMNS, quality_caption, quality_cells, quality_rows

if TYPE_CHECKING:
    from profiles.results import RunResult
    from profiles.run_report import PaneProgress
    from profiles.standings import Standing

DASH = "—"
_BAR_WIDTH = 20
_REDRAW_EVERY_S = 0.1


def eta_text(seconds: float | None) -> str:
    """A duration as 1h02m, 3m05s or 42s; "—" when unknown."""
    if seconds is None:
        return DASH
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class SuiteProgressPrinter:
    """A `run_comparison` progress callback for suite runs: answers done of `total`, ETA."""

    def __init__(
        self,
        stream: IO[str],
        total: int,
        tty: bool | None = None,
        clock=time.monotonic,
    ) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.tty = stream.isatty() if tty is None else tty
        self._clock = clock
        self._started = clock()
        self._first_answer_at: float | None = None
        self._status: dict[int, str] = {}
        self._line_shown = False
        self._drawn_at = 0.0

    def eta_s(self) -> float | None:
        """Seconds left at the pace of the answers so far (loading excluded); None before one."""
        if self.done == 0 or self._first_answer_at is None:
            return None
        left = self.total - self.done
        if left <= 0:
            return 0.0
        elapsed = self._clock() - self._started
        return elapsed / self.done * left

    def __call__(self, progress: PaneProgress) -> None:
        line = None
        prefix = f"{progress.label}"
        where = f"prompt {progress.item + 1}/{progress.items}"
        if progress.phase == "generated" and not progress.warmup:
            self.done += 1
            if self._first_answer_at is None:
                self._first_answer_at = self._clock()
            line = (
                f"[{self.done}/{self.total}] {prefix}: {where}: {progress.message} "
                f"(ETA {eta_text(self.eta_s())})"
            )
        elif progress.phase == "loaded":
            line = f"{prefix}: loaded"
        elif progress.phase == "failed":
            line = f"{prefix}: FAILED: {progress.message}"
        elif progress.phase == "warning":
            line = f"{prefix}: warning: {progress.message}"
        if not self.tty:
            if line:
                self.stream.write(line + "\n")
                self.stream.flush()
            return
        if progress.phase in ("finished", "failed"):
            self._status.pop(progress.pane, None)
        elif progress.phase == "loading":
            self._status[progress.pane] = f"{prefix} loading"
        elif progress.phase == "generating":
            self._status[progress.pane] = f"{prefix} {where} {progress.tokens} tok"
        now = self._clock()
        if line is None and now - self._drawn_at < _REDRAW_EVERY_S:
            return
        self._drawn_at = now
        self._clear()
        if line:
            self.stream.write(line + "\n")
        self._draw()
        self.stream.flush()

    def close(self) -> None:
        """Leave the terminal on a clean line."""
        if self.tty:
            self._clear()
            self.stream.flush()

    def _clear(self) -> None:
        if self._line_shown:
            self.stream.write("\r\x1b[2K")
            self._line_shown = False

    def _draw(self) -> None:
        fraction = self.done / self.total if self.total else 1.0
        filled = max(0, min(_BAR_WIDTH, round(fraction * _BAR_WIDTH)))
        bar = "[" + "#" * filled + "." * (_BAR_WIDTH - filled) + "]"
        text = f"{bar} {self.done}/{self.total} ETA {eta_text(self.eta_s())}"
        if self._status:
            text += " | " + " | ".join(self._status[p] for p in sorted(self._status))
        width = shutil.get_terminal_size((100, 24)).columns - 1
        if len(text) > width:
            text = text[: max(0, width - 1)] + "…"
        self.stream.write(text)
        self._line_shown = True


def quality_table_text(
    results: Sequence[RunResult],
    standings: Mapping[str, Standing] | None = None,
    mode: str | None = None,
) -> str:
    """The quality × cost table as aligned plain text, with what its speeds mean."""
    rows = quality_rows(results, standings)
    table = [["pane", *(title for title, _ in QUALITY_COLUMNS)]]
    table += [[row.label, *quality_cells(row)] for row in rows]
    widths = [max(len(r[c]) for r in table) for c in range(len(table[0]))]
    lines = ["", "Quality x cost over the suite:"]
    for row in table:
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    caption = quality_caption(rows, mode)
    if caption:
        lines.append(f"({caption}.)")
    return "\n".join(lines)


def checks_text(results: Sequence[RunResult], show_text: bool = False) -> str:
    """Per prompt and pane: the checks passed and the failed ones (and the answer with
    `show_text`)."""
    lines = ["", "Answers and checks:"]
    for result in results:
        tag = result.suite
        if tag is None:
            continue
        passed = f"{tag.checks_passed}/{len(tag.checks)}" if tag.checks else "no checks"
        failed = [check.name for check in tag.checks if not check.passed]
        miss = f"  failed: {'; '.join(failed)}" if failed else ""
        lines.append(f"  {tag.prompt_id:<14} {result.pane_label}: {passed}{miss}")
        if show_text:
            lines += [f"      {line}" for line in result.text.splitlines() or [""]]
    return "\n".join(lines)
