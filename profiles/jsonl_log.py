"""JSON-lines logs that a crash cannot spoil: append one line, read back every good line.

Used by the results history (`profiles.history`) and the vote log (`profiles.votes`).
Each line is written with one `write` call on a file opened for appending, then flushed
to disk (fsync), so two writers never interleave inside a line. When the file ends in
the middle of a line (a line torn by a crash), the new line starts on a fresh one.
Reading skips a line that does not parse, with a warning naming the file and line.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

Record = TypeVar("Record")

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


def read_records(
    source: Path, parse: Callable[[Any], Record], kind: str
) -> tuple[list[Record], list[str]]:
    """Every line of `source` that `parse` accepts, oldest first, and one warning per line
    that could not be read (`kind` names what a line should be, e.g. "a result").

    A missing file is an empty log; an unreadable one is one warning."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return [], []
    except OSError as error:
        return [], [f"{source}: cannot be read ({error.strerror or error})"]
    records: list[Record] = []
    warnings: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            records.append(parse(json.loads(raw.decode("utf-8"))))
        except (ValueError, ValidationError) as error:
            warnings.append(
                f"{source}: line {number} skipped ({_reason(error, kind)}; "
                "probably cut short by a crash)"
            )
    return records, warnings


def _reason(error: Exception, kind: str) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8"
    if isinstance(error, json.JSONDecodeError):
        return "not valid JSON"
    return f"not {kind}"
