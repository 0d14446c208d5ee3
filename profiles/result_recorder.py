"""A finished generation becomes a `RunResult`, kept in the history where it can be.

`ResultRecorder` is what the workbench and headless runs (`profiles.runner`) share to
turn a `profiles.run_driver.FinishedGeneration` into a result: the same fields, filled
the same way. A result is kept whatever happens to the history: when the history file
cannot take it (a full disk, no permission), `record` still returns the result, with a
one-line warning that names the file and the way around it.

Everything here may block (hashing a model file the first time, reading the host's CPU
and GPU names, fsync on append): call it off the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engines.messages import one_line

if TYPE_CHECKING:
    from profiles.plan import PanePlan
    from profiles.results import RunResult
    from profiles.run_driver import FinishedGeneration
    from profiles.schema import RunMode


def append_to_history(result: RunResult) -> None:
    """Append `result` to the history file (`profiles.history`)."""
    from profiles.history import append_result

    append_result(result)


def read_host() -> Any:
    """This machine, or None if it cannot be read (results then carry no host)."""
    from engines.machine import host

    try:
        return host.host_info()
    except Exception:  # noqa: BLE001 - provenance is never worth failing a run over
        return None


def model_sha256(info: Any) -> str | None:
    """The model file's SHA-256 (cached by path, size and mtime), or None."""
    from profiles import results

    return results.model_sha256(info)


@dataclass(frozen=True)
class Recorded:
    """A result, and why it is not in the history if it could not be added."""

    result: RunResult
    warning: str | None = None


class ResultRecorder:
    """Builds results and appends them to the history (thread-safe).

    `history`: append each result (off: `--no-history`). `hash_files`: hash the model
    file for the result's provenance when no hash is given. `append`, `host` and `sha256`
    are where the history, the host and the hash come from (injectable).
    """

    def __init__(
        self,
        *,
        history: bool = True,
        hash_files: bool = True,
        append: Callable[[RunResult], Any] = append_to_history,
        host: Callable[[], Any] = read_host,
        sha256: Callable[[Any], str | None] = model_sha256,
    ) -> None:
        self.history = history
        self.hash_files = hash_files
        self._append = append
        self._read_host = host
        self._sha256 = sha256
        self._host: Any = None
        self._host_read = False
        self._lock = threading.Lock()

    def host(self) -> Any:
        """This machine's description, read once."""
        with self._lock:
            if not self._host_read:
                self._host = self._read_host()
                self._host_read = True
            return self._host

    def model_sha256(self, info: Any) -> str | None:
        """The model file's hash (for a caller that hashes before any timed run), or None."""
        return self._sha256(info) if self.hash_files else None

    def record(
        self,
        plan: PanePlan,
        finished: FinishedGeneration,
        *,
        mode: RunMode,
        profile_name: str | None,
        repetition: int = 0,
        sha256: str | None = None,
        suite: Any = None,
        to_history: bool = True,
    ) -> Recorded:
        """The generation's result, appended to the history when enabled and `to_history`
        (a cancelled or failed generation is exported with its stop reason, never kept in
        the history of finished results); `suite` (a `profiles.suite_record.SuiteRecord`)
        tags a suite run's answer."""
        from profiles.results import RunResult

        info = finished.info
        if info is None:
            raise ValueError(f"pane {plan.label!r}: no result, the model never loaded")
        if sha256 is None and self.hash_files:
            sha256 = self._sha256(info)
        result = RunResult.from_run(
            plan=plan,
            info=info,
            stats=finished.stats,
            request=finished.request,
            text=finished.text,
            mode=mode,
            host=self.host(),
            profile_name=profile_name,
            repetition=repetition,
            sha256=sha256,
            hash_file=False,
            token_probabilities=finished.token_probabilities,
            top_logprobs=finished.request.top_candidates,
        )
        if suite is not None:
            result = result.model_copy(update={"suite": suite})
        if not self.history or not to_history:
            return Recorded(result)
        try:
            self._append(result)
        except OSError as error:
            return Recorded(result, history_warning(error))
        return Recorded(result)


def history_warning(error: OSError) -> str:
    """One line: the history file that could not take a result, why, and the way around it."""
    from profiles.history import HistoryWriteError, history_path

    if isinstance(error, HistoryWriteError):
        where, why = error.path, error.strerror
    else:
        where, why = error.filename or history_path(), error.strerror or one_line(error)
    return one_line(
        f"could not add the result to the history {where} ({why}); it is kept for this "
        "run's table and exports (--no-history leaves the history alone)"
    )
