"""Turning a finished pane into a RunResult, keeping it in the history, and exporting.

Everything here may block (hashing a model file the first time, reading the host's CPU
and GPU names, fsync on append), so the app calls it from thread workers only.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engines.types import GenerationRequest, GenerationStats, ModelInfo, TokenProbabilities
from profiles.plan import PanePlan

if TYPE_CHECKING:
    from profiles.results import RunResult

ExportFormat = Literal["markdown", "json"]

SUFFIXES: dict[ExportFormat, str] = {"markdown": ".md", "json": ".json"}


@dataclass(frozen=True)
class FinishedRun:
    """What one pane knew when its generation ended (taken on the UI thread)."""

    pane_id: int
    plan: PanePlan
    info: ModelInfo
    stats: GenerationStats
    request: GenerationRequest
    text: str
    mode: Literal["parallel", "sequential"]
    profile_name: str
    token_probabilities: tuple[TokenProbabilities, ...] = ()
    """What the sampler saw for each generated token (empty when not recorded)."""


class RunRecorder:
    """Builds RunResults and appends them to the history (thread-safe, call off the UI thread)."""

    def __init__(self, *, history: bool = True, hash_files: bool = True) -> None:
        self.history = history
        """Append each result to the history file (off in tests that check nothing of it)."""
        self.hash_files = hash_files
        self._host: Any = None
        self._lock = threading.Lock()

    def host(self) -> Any:
        """The host's description, read once."""
        with self._lock:
            if self._host is None:
                from engines.machine.host import host_info

                self._host = host_info()
            return self._host

    def record(self, run: FinishedRun) -> RunResult:
        """The run's RunResult, appended to the history when enabled."""
        from profiles.results import RunResult

        result = RunResult.from_run(
            plan=run.plan,
            info=run.info,
            stats=run.stats,
            request=run.request,
            text=run.text,
            mode=run.mode,
            host=self.host(),
            profile_name=run.profile_name,
            hash_file=self.hash_files,
        )
        if self.history:
            from profiles.history import append_result

            append_result(result)
        return result


def default_export_path(profile_name: str, fmt: ExportFormat, folder: Path | None = None) -> Path:
    """`llmbench-<profile>-<YYYYmmdd-HHMMSS>.md|.json` in `folder` (default: the current dir)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return (folder or Path.cwd()) / f"llmbench-{profile_name}-{stamp}{SUFFIXES[fmt]}"


def export_results(results: Sequence[RunResult], path: Path, fmt: ExportFormat) -> Path:
    """Write the comparison to `path` atomically; returns the absolute path."""
    from profiles.export import write_json, write_markdown

    path = path.expanduser().absolute()
    writer = write_markdown if fmt == "markdown" else write_json
    writer(results, path)
    return path
