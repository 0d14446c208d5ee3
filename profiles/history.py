"""The results history: one JSON line per finished pane, appended as each pane finishes.

The file is `engines.paths.data_dir()/history.jsonl`. Each result is written with one
`write` call on a file opened for appending, then flushed to disk
(`profiles.jsonl_log`), so a crash or a
dropped SSH session loses at most the pane that was still running, and two writers (two
panes, or two llmbench instances) never interleave inside a line. A line torn by a
crash is skipped with a warning on reading; the rest stays readable, and the next
append starts on a fresh line.
"""

from __future__ import annotations

from pathlib import Path

from engines.paths import data_dir
from profiles.jsonl_log import append_line, read_records
from profiles.results import RunResult

HISTORY_FILE_NAME = "history.jsonl"


class HistoryWriteError(OSError):
    """The history file could not take a result (a full disk, no permission).

    str() is one line naming the file: the operating system's own error often names none
    (a full disk is "[Errno 28] No space left on device").
    """

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.path = path
        self.filename = str(path)

    def __str__(self) -> str:
        return f"{self.path}: {self.strerror}"


class HistoryLookupError(LookupError):
    """No result, or more than one, matches an id prefix. str() is one line."""


def history_path() -> Path:
    """The history file (created on the first append)."""
    return data_dir() / HISTORY_FILE_NAME


def append_result(result: RunResult, path: Path | None = None) -> Path:
    """Append one result as a JSON line and flush it to disk; returns the file's path.

    Raises `HistoryWriteError` (naming the file) when the file cannot take it.
    """
    target = path or history_path()
    line = result.model_dump_json(exclude={"logprobs"}).encode("utf-8") + b"\n"
    try:
        append_line(target, line)
    except OSError as error:
        raise HistoryWriteError(target, error) from error
    return target


def read_history(path: Path | None = None) -> tuple[list[RunResult], list[str]]:
    """Every readable result, oldest first, and one warning per line that could not be read."""
    return read_records(path or history_path(), RunResult.model_validate, "a result")


def find_result(id_prefix: str, results: list[RunResult]) -> RunResult:
    """The one result whose id starts with `id_prefix`; HistoryLookupError otherwise."""
    wanted = id_prefix.strip()
    if not wanted:
        raise HistoryLookupError("give a result id (or the start of one); see `llmbench history`")
    exact = [r for r in results if r.id == wanted]
    if exact:
        return exact[-1]
    matches = [r for r in results if r.id.startswith(wanted)]
    if not matches:
        raise HistoryLookupError(
            f"no result with an id starting '{wanted}'; see `llmbench history`"
        )
    if len(matches) > 1:
        shown = ", ".join(r.id for r in matches[:5])
        more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
        raise HistoryLookupError(
            f"'{wanted}' matches {len(matches)} results ({shown}{more}); give more of the id"
        )
    return matches[0]
