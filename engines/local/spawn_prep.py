"""Make starting a worker process independent of what `sys.stderr` is at the time.

Starting a "spawn" process first starts multiprocessing's resource tracker (once per
parent), and that passes `sys.stderr.fileno()` to the tracker as a descriptor to keep.
Inside a running Textual app `sys.stderr` is Textual's capture object, whose `fileno()`
is -1, so the start fails with "ValueError: bad value(s) in fds_to_keep". A `fileno()`
that raises is fine: the tracker is then started without it (it still inherits
descriptor 2, the real standard error). `ensure_resource_tracker` starts the tracker with
such a stand-in in place of an unusable `sys.stderr`; writes still go to the original.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from typing import Any

_swap_lock = threading.Lock()


def ensure_resource_tracker() -> None:
    """Start multiprocessing's resource tracker if it is not running (call before spawning)."""
    from multiprocessing import resource_tracker

    with _swap_lock:
        stderr = sys.stderr
        if has_usable_fileno(stderr):
            resource_tracker.ensure_running()
            return
        stand_in = _WithoutFileno(stderr)
        sys.stderr = stand_in
        try:
            resource_tracker.ensure_running()
        finally:
            if sys.stderr is stand_in:  # someone else may have replaced it meanwhile
                sys.stderr = stderr


def has_usable_fileno(stream: Any) -> bool:
    """Whether `stream.fileno()` is an open file descriptor."""
    try:
        descriptor = stream.fileno()
        if not isinstance(descriptor, int) or descriptor < 0:
            return False
        os.fstat(descriptor)
    except (AttributeError, OSError, ValueError):
        return False
    return True


class _WithoutFileno:
    """A text stream that writes to `stream` but has no file descriptor."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def fileno(self) -> int:
        raise io.UnsupportedOperation("this standard error has no file descriptor")

    def write(self, text: str) -> int:
        return self._stream.write(text) if self._stream is not None else len(text)

    def flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
