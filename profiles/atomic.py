"""Atomic file writes: a reader sees the old file or the new one, never half of either.

The text goes to a temporary file with a unique name in the same directory, is flushed
and fsynced, then renamed over the target with `os.replace` (atomic on POSIX and on
Windows for files on the same volume). A crash or a full disk before the rename leaves
the previous file untouched and the temporary file removed; two processes writing the
same path at once each rename a complete file of their own, so the last one wins whole.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Replace the file at `path` with `text` atomically; returns the path written.

    Creates the parent directory when missing. Keeps the permission bits of an existing
    file. On any failure the temporary file is removed and the error propagates.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode(encoding)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        _copy_mode(target, temp_name)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_directory(target.parent)
    return target


def _copy_mode(existing: Path, temp_name: str) -> None:
    """Give the new file the old file's permissions (mkstemp creates it 0600)."""
    try:
        mode = existing.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_current_umask()
    os.chmod(temp_name, mode)


def _current_umask() -> int:
    """The process umask, read without changing it (setting it is racy across threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable where the platform allows syncing a directory."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
