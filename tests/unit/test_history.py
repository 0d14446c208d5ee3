"""The results history: appended line by line, readable after a crash tore the last line."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from result_samples import make_result

from engines.paths import data_dir
from profiles import jsonl_log
from profiles.history import (
    HistoryLookupError,
    append_result,
    find_result,
    history_path,
    read_history,
)

_START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
"""Fork where the platform has it: a spawned child spends seconds importing pydantic."""


def test_history_lives_in_the_data_dir() -> None:
    assert history_path() == data_dir() / "history.jsonl"


def test_results_are_appended_one_line_each_and_read_back_in_order() -> None:
    first, second = make_result(label="a"), make_result(label="b")
    path = append_result(first)
    append_result(second)
    assert path == history_path()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3
    results, warnings = read_history()
    assert results == [first, second]
    assert warnings == []


def test_each_line_is_one_write_then_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_write, real_fsync = jsonl_log.os.write, jsonl_log.os.fsync

    def write(fd: int, data: bytes) -> int:
        calls.append("write")
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    monkeypatch.setattr(jsonl_log.os, "write", write)
    monkeypatch.setattr(jsonl_log.os, "fsync", fsync)
    append_result(make_result())
    assert calls == ["write", "fsync"]


def test_missing_history_is_empty_not_an_error() -> None:
    assert read_history() == ([], [])


def test_a_torn_last_line_is_skipped_with_a_warning_and_the_rest_stays() -> None:
    kept = [make_result(label="a"), make_result(label="b")]
    for result in kept:
        append_result(result)
    torn = make_result(label="c").model_dump_json().encode()[:150]
    with history_path().open("ab") as handle:
        handle.write(torn)
    results, warnings = read_history()
    assert results == kept
    assert len(warnings) == 1
    assert "line 3 skipped" in warnings[0] and str(history_path()) in warnings[0]


def test_an_append_after_a_torn_line_starts_on_a_new_line() -> None:
    append_result(make_result(label="a"))
    with history_path().open("ab") as handle:
        handle.write(b'{"id": "2026')
    later = make_result(label="after the crash")
    append_result(later)
    results, warnings = read_history()
    assert [r.pane_label for r in results] == ["a", "after the crash"]
    assert len(warnings) == 1


def test_garbage_and_foreign_lines_are_skipped() -> None:
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'\xff\xfe\n{"not": "a result"}\n\n[1, 2]\n')
    append_result(make_result())
    results, warnings = read_history()
    assert len(results) == 1
    assert [w.split(" skipped ")[1].split(";")[0] for w in warnings] == [
        "(not UTF-8",
        "(not a result",
        "(not a result",
    ]


def _append_many(worker: int, count: int) -> None:
    for n in range(count):
        append_result(make_result(label=f"w{worker}-{n}", text="x" * 5000))


def test_concurrent_appends_from_threads_and_processes_never_interleave() -> None:
    context = multiprocessing.get_context(_START_METHOD)
    processes = [context.Process(target=_append_many, args=(p, 15)) for p in range(3)]
    threads = [threading.Thread(target=_append_many, args=(10 + t, 15)) for t in range(2)]
    for worker in (*processes, *threads):
        worker.start()  # processes first: never fork with a thread running
    for thread in threads:
        thread.join()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    results, warnings = read_history()
    assert warnings == []
    assert len(results) == 5 * 15
    assert len({r.pane_label for r in results}) == 5 * 15


def test_find_by_exact_id_or_unique_prefix() -> None:
    a = make_result(when=datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC))
    b = make_result(when=datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC))
    assert find_result(a.id, [a, b]) == a
    assert find_result("20260302", [a, b]) == b
    with pytest.raises(HistoryLookupError, match="'202603' matches 2 results"):
        find_result("202603", [a, b])
    with pytest.raises(HistoryLookupError, match="no result with an id starting 'zzz'"):
        find_result("zzz", [a, b])
    with pytest.raises(HistoryLookupError, match="give a result id"):
        find_result(" ", [a, b])


def test_history_file_can_be_given_explicitly(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "h.jsonl"
    result = make_result()
    append_result(result, path)
    assert read_history(path) == ([result], [])
    assert not history_path().exists()
