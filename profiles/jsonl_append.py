"""Appending one JSON line to a log file so that a crash loses at most that line.

Used by the results history (`profiles.history`) and the vote log (`profiles.votes`).
Each line is written with one `write` call on a file opened for appending, then flushed
to disk (fsync), so two writers never interleave inside a line. When the file ends in
the middle of a line (a line torn by a crash), the new line starts on a fresh one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_append_lock = threading.Lock()


def append_line(path: Path, line: bytes) -> None:
    """Append `line` (ending in a newline) to `path`, creating the file and its folder.

    Raises OSError when the file cannot take it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _append_lock:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if _ends_mid_line(fd):
                line = b"\n" + line
            _write_all(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """One write call for the whole line; only a short write (disk nearly full) needs more."""
    written = os.write(fd, data)
    while written < len(data):
        written += os.write(fd, data[written:])


def _ends_mid_line(fd: int) -> bool:
    """Whether the file's last byte is not a newline (a line torn by a crash)."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
