"""What the NVIDIA and AMD GPU readers share: a vendor library started on first use.

`GpuLibrary` starts the library once, on the first question asked of it, under a lock
(the host report, the resource sampler and the energy meter share one reader across
threads). When it cannot start, `available` is False and `reason` says why in plain
words, logged once. Each query that fails mid-way degrades to None and is logged once per
query and device (never an error per sample). A reader says how its library starts
(`_start`: fill `_handles` and set `_available`, or set `_reason`), how it shuts down
(`_shut_down`), and which errors a query may raise (`_errors`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")


class GpuLibrary:
    """A vendor's GPU library, started on first use; thread-safe (see the module docstring)."""

    library = "GPU library"
    """The library's name in log lines ("NVML", "AMD SMI")."""

    def __init__(self, module: Any, log: logging.Logger, unavailable: str) -> None:
        """`module`: the library's Python module, or a stand-in (None: imported at start);
        `log`: where failures are logged; `unavailable`: the log line's words when it
        cannot start ("GPU figures not available")."""
        self._module: Any = module
        self._log = log
        self._unavailable = unavailable
        self._lock = threading.Lock()
        self._started = False
        self._available = False
        self._reason = ""
        self._handles: list[Any] = []
        self._logged: set[tuple[str, int | None]] = set()

    # --- state ---------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether the library started and found at least one GPU."""
        self._ensure_started()
        return self._available

    @property
    def reason(self) -> str:
        """Why the GPUs cannot be read, in plain words ("" when they can)."""
        self._ensure_started()
        return self._reason

    @property
    def device_count(self) -> int:
        self._ensure_started()
        return len(self._handles)

    def _ensure_started(self) -> None:
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            self._start()
            self._started = True
        if not self._available:
            self._log.info("%s: %s", self._unavailable, self._reason)

    def _start(self) -> None:
        raise NotImplementedError

    def _shut_down(self) -> None:
        raise NotImplementedError

    def _errors(self) -> tuple[type[BaseException], ...]:
        """What a call into the library raises when it fails."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Release the library (safe to call when it never started)."""
        with self._lock:
            if self._available and self._module is not None:
                try:
                    self._shut_down()
                except self._errors():
                    pass
            self._started = False
            self._available = False
            self._handles = []

    # --- one query, degraded to None on failure --------------------------------------------

    def _query(self, query: str, index: int | None, call: Callable[[], _T]) -> _T | None:
        """Run one library call; on failure log once per (query, device) and return None."""
        try:
            return call()
        except self._errors() as error:
            key = (query, index)
            if key not in self._logged:
                self._logged.add(key)
                where = f" on GPU {index}" if index is not None else ""
                self._log.warning(
                    "%s %s failed%s (%s); shown as n/a", self.library, query, where, error
                )
            return None
