"""The pane driver and headless runs on real worker processes (the stand-in engine, no
llama.cpp): starts that fail, hung and killed workers, Ctrl-C, the deadline, a full disk."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from gguf_samples import write_sample_gguf
from openai_stub_server import OpenAIStub, StubReply, chunk

from engines.config import ConfigError, load_config
from engines.fake import FakeScript
from engines.local.handle import WorkerModelHandle
from engines.protocol import GenerationFinished, LoadFailed, ModelLoaded, TokensGenerated
from engines.types import GenerationRequest, ModelSettings, SamplingParams
from profiles.history import history_path, read_history
from profiles.plan import PanePlan
from profiles.result_recorder import ResultRecorder
from profiles.run_driver import DriverOptions, PaneDriver
from profiles.run_report import PaneProgress
from profiles.runner import run_comparison

STUB = "worker_stub_engine:StubEngine"


def stub_plan(model: Path, index: int = 0, max_tokens: int = 10_000) -> PanePlan:
    label = f"stub{index}"
    return PanePlan(
        index=index,
        label=label,
        model_ref=str(model),
        kind="local",
        settings=ModelSettings(path=str(model), n_ctx=256, n_threads=1, label=label),
        sampling=SamplingParams(max_tokens=max_tokens),
    )


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    return write_sample_gguf(tmp_path / "tiny-model.gguf")


def stub_factory(handles: list[WorkerModelHandle]):
    def factory(plan: PanePlan) -> WorkerModelHandle:
        handle = WorkerModelHandle(STUB)
        handles.append(handle)
        return handle

    return factory


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def pump_until(driver: PaneDriver, done, timeout: float = 30.0) -> list:
    events: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = driver.poll(0.1)
        events.extend(batch)
        if any(done(event) for event in batch):
            return events
    raise AssertionError(f"timed out; events so far: {events}")


# --- a model that cannot start -------------------------------------------------------


def test_a_worker_that_cannot_start_is_a_failed_load_not_an_exception(
    tiny_model: Path, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unwritable cache directory (here: a file where the folder should be) makes
    starting the worker raise OSError; the driver turns it into one line."""
    blocker = isolated_dirs / "not-a-folder"
    blocker.write_text("a file")
    monkeypatch.setenv("LLMBENCH_CACHE_DIR", str(blocker))
    driver = PaneDriver(stub_plan(tiny_model), stub_factory([]))
    [failed] = driver.open()
    assert isinstance(failed, LoadFailed)
    assert failed.reason.startswith("could not start the model: ")
    assert "not-a-folder" in failed.reason and "\n" not in failed.reason
    assert not driver.alive


# --- stop and the deadline -----------------------------------------------------------


def test_stopping_a_hung_worker_kills_it_after_the_grace_period(tiny_model: Path) -> None:
    handles: list[WorkerModelHandle] = []
    driver = PaneDriver(
        stub_plan(tiny_model), stub_factory(handles), DriverOptions(stop_grace_s=0.5)
    )
    assert driver.open() == []
    pump_until(driver, lambda e: isinstance(e, ModelLoaded))
    pid = driver.pid
    assert pid
    request = GenerationRequest(prompt="hang", sampling=SamplingParams(), request_id="r1")
    driver.generate(request)
    pump_until(driver, lambda e: isinstance(e, TokensGenerated))
    os.kill(pid, signal.SIGSTOP)  # the worker hangs: it will never answer the cancel
    try:
        assert driver.stop()
        events = pump_until(driver, lambda e: isinstance(e, GenerationFinished))
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    [finished] = [e for e in events if isinstance(e, GenerationFinished)]
    assert finished.stats.stop_reason == "cancelled" and finished.stats.generated_tokens > 0
    assert driver.finished is not None and driver.finished.text.startswith("t0 ")
    assert not driver.alive
    wait_for(lambda: not _running(pid), "the hung worker to be gone", 10)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_headless_a_hung_worker_fails_at_the_generation_deadline(tiny_model: Path) -> None:
    handles: list[WorkerModelHandle] = []
    stopped: list[int] = []

    def progress(p: PaneProgress) -> None:
        pid = handles[0].pid if handles else None
        if p.phase == "generating" and p.tokens and pid and not stopped:
            os.kill(pid, signal.SIGSTOP)  # the worker hangs: it never answers the cancel
            stopped.append(pid)

    outcome = run_comparison(
        [stub_plan(tiny_model)],
        "hang",
        handle_factory=stub_factory(handles),
        history=False,
        on_progress=progress,
        driver_options=DriverOptions(generation_deadline_s=1.0, stop_grace_s=0.5),
    )
    [failure] = outcome.failures
    assert "no end after 1 s" in failure.reason
    assert "generation_deadline_s" in failure.reason and "--deadline" in failure.reason
    assert outcome.results == []


def test_the_deadline_also_ends_a_server_that_streams_forever() -> None:
    from profiles.plan import build_plan
    from profiles.schema import Profile

    endless = StubReply(chunks=[chunk("go")], chunk_delay_s=0.02, forever=True, done=False)
    with OpenAIStub(replies=[endless]) as stub:
        profile = Profile.model_validate(
            {
                "name": "remote",
                "sampling": {"max_tokens": 32_768},
                "panes": [{"model": f"openai:{stub.url}"}],
            }
        )
        outcome = run_comparison(
            build_plan(profile),
            "Go on",
            history=False,
            driver_options=DriverOptions(generation_deadline_s=1.0, stop_grace_s=1.0),
        )
    [failure] = outcome.failures
    assert "no end after 1 s" in failure.reason


def test_the_deadline_comes_from_config_toml(isolated_dirs: Path) -> None:
    config = load_config().path
    config.parent.mkdir(parents=True, exist_ok=True)
    assert DriverOptions.from_config().generation_deadline_s == 600.0
    config.write_text("[run]\ngeneration_deadline_s = 45\n")
    assert DriverOptions.from_config().generation_deadline_s == 45.0
    config.write_text("[run]\ngeneration_deadline_s = 0\n")
    assert DriverOptions.from_config().generation_deadline_s is None
    config.write_text('[run]\ngeneration_deadline_s = "soon"\n')
    with pytest.raises(ConfigError, match=r"config.toml: \[run\] generation_deadline_s"):
        load_config()


# --- Ctrl-C ------------------------------------------------------------------------------


def test_ctrl_c_cancels_the_panes_instead_of_crashing_their_workers(tiny_model: Path) -> None:
    """Ctrl-C in a terminal reaches the whole process group: the workers first, here."""
    handles: list[WorkerModelHandle] = []
    seen: list[PaneProgress] = []

    def press_ctrl_c() -> None:
        wait_for(
            lambda: len({p.pane for p in seen if p.phase == "generating" and p.tokens}) == 2,
            "both panes to generate",
        )
        for handle in handles:
            os.kill(handle.pid, signal.SIGINT)
        time.sleep(0.5)  # a worker that took the SIGINT has died by now
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_comparison(
            [stub_plan(tiny_model, 0), stub_plan(tiny_model, 1)],
            "count:0.01",
            mode="parallel",
            handle_factory=stub_factory(handles),
            history=False,
            on_progress=seen.append,
        )
    failed = {p.pane: p.message for p in seen if p.phase == "failed"}
    assert failed == {0: "cancelled before it finished", 1: "cancelled before it finished"}
    assert all(not handle.alive for handle in handles)


# --- the history on a full disk -----------------------------------------------------------


def test_a_full_disk_under_the_history_keeps_every_result(isolated_dirs: Path) -> None:
    """/dev/full: every write fails with Errno 28, which names no file."""
    target = history_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to("/dev/full")
    from test_runner import Factory, plan

    seen: list[PaneProgress] = []
    outcome = run_comparison(
        [plan(0), plan(1)], "Hi", repeat=2, handle_factory=Factory({1: FakeScript()}),
        on_progress=seen.append,
    )  # fmt: skip
    assert outcome.ok, outcome.failures
    assert [(r.pane_index, r.repetition) for r in outcome.results] == [
        (0, 0), (0, 1), (1, 0), (1, 1),
    ]  # fmt: skip
    warnings = [p.message for p in seen if p.phase == "warning"]
    assert len(warnings) == 4
    assert str(target) in warnings[0] and "No space left on device" in warnings[0]
    assert "--no-history" in warnings[0]


def test_the_recorder_keeps_a_result_the_history_refuses() -> None:
    from test_runner import plan

    from engines.fake import fake_model_info
    from profiles.run_driver import FinishedGeneration

    def full(result) -> None:
        raise OSError(28, "No space left on device")

    recorder = ResultRecorder(append=full, hash_files=False)
    pane = plan(0)
    stats = GenerationFinished("r", _stats()).stats
    request = GenerationRequest(prompt="Hi", sampling=pane.sampling, request_id="r")
    finished = FinishedGeneration(request, stats, "Hello", fake_model_info(pane.settings))
    recorded = recorder.record(pane, finished, mode="sequential", profile_name="p")
    assert recorded.result.text == "Hello"
    assert recorded.warning is not None and str(history_path()) in recorded.warning
    assert read_history()[0] == []


def test_the_recorder_refuses_a_generation_whose_model_never_loaded() -> None:
    from test_runner import plan

    from profiles.run_driver import FinishedGeneration

    recorder = ResultRecorder(append=lambda result: None, hash_files=False)
    pane = plan(0)
    request = GenerationRequest(prompt="Hi", sampling=pane.sampling, request_id="r")
    finished = FinishedGeneration(request, _stats(), "", None)
    with pytest.raises(ValueError) as caught:
        recorder.record(pane, finished, mode="sequential", profile_name="p")
    message = str(caught.value)
    assert "\n" not in message and repr(pane.label) in message and "never loaded" in message


def _stats():
    from engines.types import GenerationStats

    return GenerationStats(
        stop_reason="stop", prompt_mode="chat", prompt_tokens=3, generated_tokens=2,
        ttft_s=0.1, prompt_tps=None, decode_tps=None, engine_decode_tps=None,
    )  # fmt: skip


# --- worker logs ---------------------------------------------------------------------------


def test_starting_a_worker_keeps_the_documented_number_of_logs(tiny_model: Path) -> None:
    from engines.local.worker_log import KEEP_LOGS
    from engines.paths import log_dir

    folder = log_dir()
    folder.mkdir(parents=True)
    for index in range(KEEP_LOGS + 5):
        old = folder / f"old-{index}.log"
        old.write_text("llama.cpp said things\n")
        os.utime(old, (1_000_000 + index, 1_000_000 + index))
    driver = PaneDriver(stub_plan(tiny_model), stub_factory([]))
    try:
        assert driver.open() == []
        pump_until(driver, lambda e: isinstance(e, ModelLoaded))
        logs = sorted(folder.glob("*.log"))
        assert len(logs) == KEEP_LOGS == 40
        assert any(log.name.startswith("stub0-") for log in logs)  # this worker's own
    finally:
        driver.close()
