"""Threads per model: models running at the same time share the cores."""

from __future__ import annotations

import pytest

from engines.machine import threads
from engines.machine.threads import allocate_threads, available_cores, default_threads


def test_models_running_together_share_the_cores() -> None:
    assert default_threads(1, cores=8) == 8
    assert default_threads(2, cores=8) == 4
    assert default_threads(3, cores=8) == 2
    assert default_threads(2, cores=2) == 1


def test_never_fewer_than_one_thread() -> None:
    assert default_threads(5, cores=2) == 1
    assert default_threads(0, cores=4) == 4
    assert default_threads(1, cores=0) == 1


def test_default_uses_the_available_physical_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads.psutil, "cpu_count", lambda logical=True: 16 if logical else 8)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda _pid: set(range(16)), raising=False)
    assert available_cores() == 8
    assert default_threads(2) == 4


def test_a_narrower_cpu_affinity_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads.psutil, "cpu_count", lambda logical=True: 16 if logical else 8)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda _pid: {0, 1, 2}, raising=False)
    assert available_cores() == 3


def test_unknown_physical_count_falls_back_to_logical(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads.psutil, "cpu_count", lambda logical=True: None)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 6)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda _pid: set(range(6)), raising=False)
    assert available_cores() == 6


def test_sequential_panes_each_get_all_cores() -> None:
    assert allocate_threads(3, [None, None, None], parallel=False, cores=8) == [8, 8, 8]


def test_parallel_panes_share_and_explicit_requests_are_kept() -> None:
    assert allocate_threads(2, [None, None], parallel=True, cores=8) == [4, 4]
    assert allocate_threads(3, [None, 2, None], parallel=True, cores=8) == [3, 2, 3]
    assert allocate_threads(2, [6, None], parallel=True, cores=4) == [6, 1]
    assert allocate_threads(2, [3, None], parallel=False, cores=4) == [3, 4]


def test_request_count_must_match_the_panes() -> None:
    with pytest.raises(ValueError, match="2 thread requests for 3 panes"):
        allocate_threads(3, [None, None], parallel=True, cores=4)
