"""The worker process and its handle, with a stand-in engine (fast; no llama.cpp).

The real engine's tests are in test_worker_real.py; these cover the process machinery:
spawn, pipes, live commands, the parent's figures, crashes of every kind, the log file,
the checks made before a worker is started, and the end of the process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from gguf_samples import write_sample_gguf

from engines.local.handle import WorkerModelHandle
from engines.local.timing import delivery_lag_p95_ms
from engines.local.worker_process import describe_exit
from engines.protocol import (
    Event,
    GenerationFinished,
    GenerationStarted,
    LoadFailed,
    LoadProgressed,
    ModelLoaded,
    SamplingChanged,
    TokensGenerated,
    WorkerCrashed,
)
from engines.types import GenerationRequest, ModelSettings, SamplingParams

STUB = "worker_stub_engine:StubEngine"
GIB = 1024**3


def collect(
    handle: WorkerModelHandle, done: Callable[[Event], bool], timeout: float = 20.0
) -> list[Event]:
    """Events until a batch holds one that satisfies `done` (the whole batch is kept).

    Fails the test after `timeout` seconds.
    """
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = handle.next_events(0.2)
        events.extend(batch)
        if any(done(event) for event in batch):
            return events
    raise AssertionError(f"timed out; events so far: {events}")


def finished(event: Event) -> bool:
    return isinstance(event, GenerationFinished)


def the(kind: type, events: list[Event]):
    matches = [event for event in events if isinstance(event, kind)]
    assert len(matches) == 1, f"expected one {kind.__name__} in {events}"
    return matches[0]


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    return write_sample_gguf(tmp_path / "tiny-model.gguf")


def loaded_handle(
    path: Path, label: str = "stub", **kwargs
) -> tuple[WorkerModelHandle, list[Event]]:
    handle = WorkerModelHandle(STUB, **kwargs)
    handle.load(ModelSettings(path=str(path), n_ctx=256, label=label))
    events = collect(handle, lambda e: isinstance(e, ModelLoaded | LoadFailed))
    return handle, events


@pytest.fixture
def stub(tiny_model: Path):
    handle, events = loaded_handle(tiny_model)
    assert isinstance(events[-1], ModelLoaded), events
    yield handle
    handle.close()


def run(
    handle: WorkerModelHandle, prompt: str, max_tokens: int = 20, request_id: str = "r1"
) -> list[Event]:
    handle.generate(
        GenerationRequest(prompt, SamplingParams(max_tokens=max_tokens), request_id=request_id)
    )
    return collect(handle, lambda e: finished(e) and e.request_id == request_id)


# --- loading --------------------------------------------------------------------------


def test_load_reports_progress_and_load_time_and_keeps_the_terminal_clean(
    tiny_model: Path, capfd
) -> None:
    asked = time.perf_counter()
    handle, events = loaded_handle(tiny_model)
    waited = time.perf_counter() - asked
    try:
        loaded = events[-1]
        assert isinstance(loaded, ModelLoaded)
        assert [e.fraction for e in events if isinstance(e, LoadProgressed)] == [0.5, 1.0]
        assert 0 < loaded.info.load_s <= waited  # asked → ready, including the process start
        assert handle.pid is not None and psutil.pid_exists(handle.pid)
        assert handle.log_path is not None and str(handle.pid) in handle.log_path.name
        log = handle.log_path.read_text()
        assert "stub engine loading" in log and "stub stdout: loading" in log
    finally:
        handle.close()
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_engine_load_failure_quotes_the_log_and_a_new_load_can_follow(tiny_model: Path) -> None:
    handle, events = loaded_handle(tiny_model, label="fail-load")
    try:
        failed = events[-1]
        assert isinstance(failed, LoadFailed)
        assert (
            failed.reason == "tiny-model.gguf: stub says no"
        )  # llama.cpp's own reason, from the log
        assert "error loading model: stub says no" in failed.detail
        assert handle.alive
        handle.load(ModelSettings(path=str(tiny_model), n_ctx=256, label="stub"))
        assert isinstance(
            collect(handle, lambda e: isinstance(e, ModelLoaded | LoadFailed))[-1], ModelLoaded
        )
        assert not [e for e in handle.next_events(0.3) if isinstance(e, WorkerCrashed)]
    finally:
        handle.close()


def test_without_llamas_own_reason_the_engine_error_is_the_reason(tiny_model: Path) -> None:
    handle, events = loaded_handle(tiny_model, label="quiet-fail-load")
    try:
        assert isinstance(events[-1], LoadFailed)
        assert events[-1].reason == "tiny-model.gguf: stub engine refused to load"
    finally:
        handle.close()


def test_an_engine_that_cannot_be_imported_fails_the_load_with_a_reason(tiny_model: Path) -> None:
    handle = WorkerModelHandle("no_such_module_here:Engine")
    handle.load(ModelSettings(path=str(tiny_model), n_ctx=256))
    try:
        failed = collect(handle, lambda e: isinstance(e, ModelLoaded | LoadFailed))[-1]
        assert isinstance(failed, LoadFailed)
        assert failed.reason == (
            "tiny-model.gguf: the engine no_such_module_here:Engine cannot start: "
            "ModuleNotFoundError: No module named 'no_such_module_here'"
        )
    finally:
        handle.close()


def test_a_worker_that_dies_while_loading_gives_load_failed_not_a_hang(tiny_model: Path) -> None:
    handle, events = loaded_handle(tiny_model, label="abort-load")
    try:
        failed = events[-1]
        assert isinstance(failed, LoadFailed)
        assert "died while loading" in failed.reason and "SIGABRT" in failed.reason
        assert "tiny-model.gguf" in failed.reason
        assert "GGML_ASSERT(stub) failed" in failed.detail
    finally:
        handle.close()


# --- checks before a worker starts ----------------------------------------------------


def _bad_files(tmp_path: Path, tiny_model: Path) -> dict[str, tuple[Path, str]]:
    text = tmp_path / "notes.gguf"
    text.write_text("these are my notes, not a model\n")
    safetensors = tmp_path / "model.safetensors"
    header = b'{"weight":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]}}'
    safetensors.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 8)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.gguf"
    folder.mkdir()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_model.read_bytes()[:200])
    return {
        "missing": (tmp_path / "nowhere.gguf", "no such file"),
        "directory": (folder, "is a directory"),
        "empty": (empty, "empty file"),
        "text": (text, "not a GGUF file"),
        "safetensors": (safetensors, "safetensors"),
        "truncated header": (cut, "truncated"),
    }


def test_bad_files_are_refused_in_the_parent_without_starting_a_worker(
    tmp_path: Path, tiny_model: Path
) -> None:
    for kind, (path, problem) in _bad_files(tmp_path, tiny_model).items():
        handle = WorkerModelHandle(STUB)
        started = time.perf_counter()
        handle.load(ModelSettings(path=str(path)))
        events = handle.next_events(1.0)
        assert time.perf_counter() - started < 1.0, kind
        assert len(events) == 1 and isinstance(events[0], LoadFailed), (kind, events)
        reason = events[0].reason
        assert path.name in reason and problem in reason, (kind, reason)
        assert "\n" not in reason
        assert handle.pid is None, kind
        handle.close()


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    handle = WorkerModelHandle(STUB)
    handle.load(ModelSettings(path=str(fifo)))
    (event,) = handle.next_events(1.0)
    assert isinstance(event, LoadFailed) and "not a regular file" in event.reason


def test_no_path_at_all_is_refused() -> None:
    handle = WorkerModelHandle(STUB)
    handle.load(ModelSettings(path=""))
    assert [e.reason for e in handle.next_events(1.0)] == ["no model file given"]


def test_a_model_that_does_not_fit_is_refused_with_both_numbers(tiny_model: Path) -> None:
    handle = WorkerModelHandle(STUB, ram_available=lambda: 50 * 1024 * 1024)
    handle.load(ModelSettings(path=str(tiny_model), n_ctx=256))
    (event,) = handle.next_events(1.0)
    assert isinstance(event, LoadFailed)
    assert "will not fit in RAM: needs about" in event.reason and "50 MiB available" in event.reason
    assert "allow_oversize" in event.reason
    assert handle.pid is None


def test_allow_oversize_loads_anyway(tiny_model: Path) -> None:
    handle = WorkerModelHandle(STUB, ram_available=lambda: 1)
    handle.load(ModelSettings(path=str(tiny_model), n_ctx=256, allow_oversize=True))
    try:
        assert isinstance(
            collect(handle, lambda e: isinstance(e, ModelLoaded | LoadFailed))[-1], ModelLoaded
        )
    finally:
        handle.close()


# --- generating -----------------------------------------------------------------------


def test_tokens_arrive_stamped_and_the_parent_fills_in_its_figures(stub: WorkerModelHandle) -> None:
    sent = time.perf_counter()
    events = run(stub, "count:0.005", max_tokens=30)
    done = time.perf_counter()
    batches = [e for e in events if isinstance(e, TokensGenerated)]
    assert len(batches) > 1
    assert "".join(b.text for b in batches) == "".join(f"t{i} " for i in range(30))
    assert [b.first_token_index for b in batches] == [
        sum(x.n_tokens for x in batches[:i]) for i in range(len(batches))
    ]
    for batch in batches:
        assert all(sent < ready <= batch.received_at for ready in batch.ready_times)
    stats = the(GenerationFinished, events).stats
    assert stats.stop_reason == "length" and stats.generated_tokens == 30
    assert stats.ttft_s == pytest.approx(batches[0].received_at - sent, abs=0.005)
    assert stats.ttft_s < stats.elapsed_s <= done - sent
    lags = [b.received_at - t for b in batches for t in b.ready_times]
    assert stats.delivery_lag_p95_ms == pytest.approx(delivery_lag_p95_ms(lags))
    assert 0 < stats.delivery_lag_p95_ms < 1000
    assert stats.peak_rss_mib is not None and stats.peak_rss_mib > 1


def test_cancel_stops_a_running_generation(stub: WorkerModelHandle) -> None:
    stub.generate(GenerationRequest("hang", SamplingParams(), request_id="c"))
    collect(stub, lambda e: isinstance(e, TokensGenerated))
    cancelled_at = time.perf_counter()
    stub.cancel()
    stats = the(GenerationFinished, collect(stub, finished)).stats
    assert stats.stop_reason == "cancelled" and stats.generated_tokens > 0
    assert time.perf_counter() - cancelled_at < 1.0
    # A cancel left over from that run does not cancel the next one.
    assert (
        the(GenerationFinished, run(stub, "count", max_tokens=5, request_id="n")).stats.stop_reason
        == "length"
    )


def test_live_sampling_change_reaches_the_running_generation(stub: WorkerModelHandle) -> None:
    stub.generate(GenerationRequest("count:0.005", SamplingParams(max_tokens=60), request_id="s"))
    collect(stub, lambda e: isinstance(e, TokensGenerated))
    hot = SamplingParams(temperature=1.5, max_tokens=60)
    stub.update_sampling(hot)
    events = collect(stub, finished)
    change = the(SamplingChanged, events)
    assert change.sampling == hot and 0 < change.at_token < 60
    stats = the(GenerationFinished, events).stats
    assert [(c.at_token, c.sampling) for c in stats.sampling_changes] == [(change.at_token, hot)]


def test_a_change_made_between_runs_does_not_leak_into_the_next_run(
    stub: WorkerModelHandle,
) -> None:
    stub.update_sampling(SamplingParams(temperature=0.1))
    time.sleep(0.1)
    events = run(stub, "count", max_tokens=5)
    assert not [e for e in events if isinstance(e, SamplingChanged)]


def test_an_engine_error_finishes_the_run_and_the_worker_carries_on(
    stub: WorkerModelHandle,
) -> None:
    events = run(stub, "raise")
    assert the(GenerationStarted, events).prompt_tokens == 3
    stats = the(GenerationFinished, events).stats
    assert stats.stop_reason == "error"
    assert stats.error == "the prompt is longer than the context (9000 > 512 tokens)"
    assert stub.alive
    assert the(GenerationFinished, run(stub, "count", 5, "again")).stats.generated_tokens == 5


def test_generate_before_loading_fails_at_once() -> None:
    handle = WorkerModelHandle(STUB)
    handle.generate(GenerationRequest("count", request_id="early"))
    (event,) = handle.next_events(1.0)
    assert isinstance(event, GenerationFinished) and event.stats.stop_reason == "error"
    assert event.stats.error == "the model is not loaded"


# --- crashes --------------------------------------------------------------------------


def test_sigkill_mid_generation_is_reported_within_a_second(stub: WorkerModelHandle) -> None:
    stub.generate(GenerationRequest("hang", request_id="k"))
    collect(stub, lambda e: isinstance(e, TokensGenerated))
    pid = stub.pid
    killed_at = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    events = collect(stub, lambda e: isinstance(e, WorkerCrashed), timeout=5)
    assert time.perf_counter() - killed_at < 1.0
    crash = events[-1]
    assert crash.reason == "killed by signal 9 (SIGKILL)" and crash.exitcode == -9
    stats = the(GenerationFinished, events).stats  # the running generation is not left hanging
    assert stats.stop_reason == "error" and "killed by signal 9" in stats.error
    assert stats.generated_tokens > 0
    assert not stub.alive and not psutil.pid_exists(pid)
    stub.generate(GenerationRequest("count", request_id="after"))
    (after,) = stub.next_events(1.0)
    assert (
        isinstance(after, GenerationFinished)
        and after.stats.error == "the model's worker is crashed"
    )


@pytest.mark.parametrize(
    ("prompt", "reason", "in_log"),
    [
        ("abort", "killed by signal 6 (SIGABRT)", "GGML_ASSERT(n_tokens > 0) failed"),
        ("segfault", "killed by signal 11 (SIGSEGV)", "Segmentation fault"),
        ("exit:3", "exited with code 3", "stub exiting on request"),
    ],
)
def test_every_kind_of_death_is_named_with_the_log_tail(
    tiny_model: Path, prompt: str, reason: str, in_log: str
) -> None:
    handle, _ = loaded_handle(tiny_model)
    try:
        events = run(handle, prompt)
        crash = the(WorkerCrashed, events)
        assert crash.reason == reason
        assert in_log in crash.log_tail
        assert the(GenerationFinished, events).stats.stop_reason == "error"
    finally:
        handle.close()


def test_describe_exit_words() -> None:
    assert describe_exit(-9) == "killed by signal 9 (SIGKILL)"
    assert describe_exit(134) == "exited with code 134"
    assert describe_exit(0) == "exited unexpectedly (code 0)"
    assert describe_exit(None) == "stopped responding"


def test_delivery_lag_p95_is_the_nearest_rank() -> None:
    assert delivery_lag_p95_ms([]) is None
    assert delivery_lag_p95_ms([i / 1000 for i in range(1, 101)]) == pytest.approx(95.0)
    assert delivery_lag_p95_ms([0.002]) == pytest.approx(2.0)


# --- the end of a worker --------------------------------------------------------------


def test_close_ends_the_process_and_is_safe_twice(tiny_model: Path) -> None:
    handle, _ = loaded_handle(tiny_model)
    pid = handle.pid
    handle.generate(GenerationRequest("hang", request_id="h"))
    collect(handle, lambda e: isinstance(e, TokensGenerated))
    started = time.perf_counter()
    handle.close()
    assert time.perf_counter() - started < 3.0
    assert not psutil.pid_exists(pid)
    assert not handle.alive and handle.pid is None
    handle.close()
    events = handle.next_events(0.1)
    assert [type(e) for e in events] == [GenerationFinished]  # the run in flight, not left hanging
    assert events[0].stats.stop_reason == "cancelled"
    assert not [e for e in handle.next_events(0.2) if isinstance(e, WorkerCrashed)]


def test_the_worker_ends_when_its_parent_dies(tiny_model: Path, tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from engines.local.handle import WorkerModelHandle\n"
        "from engines.types import ModelSettings\n"
        "from engines.protocol import ModelLoaded\n"
        f"h = WorkerModelHandle({STUB!r})\n"
        f"h.load(ModelSettings(path={str(tiny_model)!r}, n_ctx=256))\n"
        "while not any(isinstance(e, ModelLoaded) for e in h.next_events(1.0)): pass\n"
        "print(h.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        worker_pid = int(parent.stdout.readline())
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _running(worker_pid):
            time.sleep(0.05)
        assert not _running(worker_pid)
    finally:
        parent.kill()


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_loading_again_replaces_the_worker(stub: WorkerModelHandle, tiny_model: Path) -> None:
    first_pid = stub.pid
    stub.generate(GenerationRequest("hang", request_id="old"))
    collect(stub, lambda e: isinstance(e, TokensGenerated))
    stub.load(ModelSettings(path=str(tiny_model), n_ctx=128, label="stub"))
    assert not psutil.pid_exists(first_pid)
    events = collect(stub, lambda e: isinstance(e, ModelLoaded))
    old = [e for e in events if isinstance(e, GenerationFinished)]
    assert [(e.request_id, e.stats.stop_reason) for e in old] == [("old", "cancelled")]
    assert not [e for e in events if isinstance(e, WorkerCrashed | LoadFailed)]
    assert stub.pid != first_pid and stub.alive
    assert the(GenerationFinished, run(stub, "count", 3, "new")).stats.generated_tokens == 3


def test_close_from_another_thread_wakes_a_waiting_consumer(tiny_model: Path) -> None:
    handle, _ = loaded_handle(tiny_model)
    pid = handle.pid
    got: list[list[Event]] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            got.append(handle.next_events(10.0))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    consumer = threading.Thread(target=consume)
    consumer.start()
    time.sleep(0.2)
    handle.close()
    consumer.join(5.0)
    assert not consumer.is_alive() and not errors
    assert not [e for e in got[0] if isinstance(e, WorkerCrashed)]
    assert not psutil.pid_exists(pid)


def test_a_home_relative_path_reaches_the_worker_expanded(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tiny_model.parent))
    handle = WorkerModelHandle(STUB)
    handle.load(ModelSettings(path="~/tiny-model.gguf", n_ctx=256))
    try:
        loaded = collect(handle, lambda e: isinstance(e, ModelLoaded | LoadFailed))[-1]
        assert isinstance(loaded, ModelLoaded), loaded
        assert loaded.info.path == str(tiny_model)
        assert loaded.info.n_threads >= 1  # chosen by llmbench when not asked for
    finally:
        handle.close()
