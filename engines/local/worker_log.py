"""llama.cpp's own log: one file per worker, never the terminal, quoted when things fail.

llama.cpp (and anything else in the worker: a Python traceback, a C assertion) writes to
file descriptors 1 and 2. A worker points both at its own log file before it imports
llama_cpp, so nothing can scribble over the terminal UI. When a load fails or the worker
dies, the parent quotes the last relevant lines of that file.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from engines.paths import log_dir

RELEVANT = re.compile(
    r"error|fail|exception|traceback|abort|assert|segmentation|fatal|killed|out of memory|"
    r"unknown model|not within the file|llama_model_load:|invalid|corrupt",
    re.IGNORECASE,
)
"""Lines worth quoting to a person when a load fails or a worker dies."""
TAIL_BYTES = 64 * 1024
"""How much of the end of a log file is searched for relevant lines."""
KEEP_LOGS = 40
"""Worker log files kept in the log directory; older ones are removed."""


def worker_log_stem(label: str) -> str:
    """The start of a worker log file's name: the model label (file-name safe) and a timestamp.

    The worker appends its process id (`worker_log_path`), which the parent knows once
    the process has started, so both sides name the same file.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "model"
    return f"{safe[:60]}-{time.strftime('%Y%m%d-%H%M%S')}"


def worker_log_path(stem: str, pid: int, directory: Path | None = None) -> Path:
    """The log file of the worker with process id `pid`."""
    return (directory or log_dir()) / f"{stem}-{pid}.log"


def redirect_output_to(path: Path) -> None:
    """Point this process's file descriptors 1 and 2 at `path` (appending), for good.

    Called first thing in a worker, before llama_cpp is imported, so that everything C
    code prints lands in the file. stdin is pointed at /dev/null: a worker never reads it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.close(null_fd)


def log_tail(path: Path | None, max_lines: int = 6, last_lines: int = 2) -> str:
    """The lines of a worker log worth quoting: the last relevant ones, and the very last.

    Relevant lines are errors, failures, assertions, llama_model_load… (up to `max_lines`);
    the final `last_lines` lines are always included, since a process that died often
    said why just before. "" when there is no log to read.
    """
    if path is None:
        return ""
    try:
        with path.open("rb") as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - TAIL_BYTES))
            text = stream.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    relevant = [index for index, line in enumerate(lines) if RELEVANT.search(line)][-max_lines:]
    last = range(max(0, len(lines) - last_lines), len(lines))
    return "\n".join(lines[index] for index in sorted(set(relevant) | set(last)))


LLAMA_ERROR = re.compile(r"error loading model(?: architecture)?: (?P<why>.+)$", re.MULTILINE)
"""llama.cpp's own one-line reason for a failed load."""


def llama_load_error(log_text: str) -> str | None:
    """llama.cpp's last "error loading model: …" reason in a log text, if any."""
    reasons = LLAMA_ERROR.findall(log_text)
    return reasons[-1].strip() if reasons else None


def prune_old_logs(directory: Path | None = None, keep: int = KEEP_LOGS) -> None:
    """Remove all but the newest `keep` worker logs (a long session must not fill the disk)."""
    folder = directory or log_dir()
    try:
        logs = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in logs[keep:]:
        try:
            old.unlink()
        except OSError:
            pass
