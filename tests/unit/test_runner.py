"""The comparison runner with scripted (fake) models: modes, failures, repetitions, history."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from engines.fake import FakeModelHandle, FakeScript
from engines.machine.run_meter import RunMeter
from engines.protocol import Event
from engines.types import ModelSettings, SamplingParams
from profiles.history import read_history
from profiles.plan import PanePlan
from profiles.run_driver import DriverOptions
from profiles.run_report import PaneProgress
from profiles.runner import run_comparison


def plan(index: int, label: str | None = None, error: str | None = None, **sampling) -> PanePlan:
    label = label or f"pane{index}"
    return PanePlan(
        index=index,
        label=label,
        model_ref=f"/models/{label}.gguf",
        kind="local",
        settings=ModelSettings(path=f"/models/{label}.gguf", n_ctx=512, n_threads=1, label=label),
        sampling=SamplingParams(**{"max_tokens": 16, **sampling}),
        error=error,
    )


class RecordingHandle(FakeModelHandle):
    """A fake handle that notes when it is opened, generates and closes, in a shared log."""

    def __init__(self, index: int, script: FakeScript, log: list, lock: threading.Lock) -> None:
        super().__init__(script)
        self.index = index
        self.log = log
        self.lock = lock
        self.generations: list[tuple[float, float]] = []
        self._note("open")

    def _note(self, what: str) -> None:
        with self.lock:
            self.log.append((what, self.index, time.perf_counter()))

    def generate(self, request) -> None:
        self._note("generate")
        super().generate(request)

    def close(self) -> None:
        if self.alive:
            self._note("close")
        super().close()

    @property
    def pid(self) -> int | None:
        return os.getpid()


class Factory:
    """Hands out RecordingHandles following one script per pane index."""

    def __init__(self, scripts: dict[int, FakeScript]) -> None:
        self.scripts = scripts
        self.log: list[tuple[str, int, float]] = []
        self.lock = threading.Lock()
        self.handles: dict[int, RecordingHandle] = {}

    def __call__(self, pane: PanePlan) -> RecordingHandle:
        handle = RecordingHandle(
            pane.index, self.scripts.get(pane.index, FakeScript()), self.log, self.lock
        )
        self.handles[pane.index] = handle
        return handle

    def events(self, what: str) -> list[int]:
        return [index for kind, index, _ in self.log if kind == what]


SLOW = FakeScript(tokens=tuple(f" t{i}" for i in range(10)), token_delay_s=0.02, batch_size=2)


def test_sequential_runs_one_pane_at_a_time_and_records_the_mode() -> None:
    factory = Factory({0: SLOW, 1: SLOW})
    outcome = run_comparison([plan(0), plan(1)], "Hi", mode="sequential", handle_factory=factory)
    assert outcome.ok and outcome.mode == "sequential"
    # Pane 1 is opened only after pane 0 closed: one model in memory at a time.
    assert [(kind, index) for kind, index, _ in factory.log] == [
        ("open", 0), ("generate", 0), ("close", 0), ("open", 1), ("generate", 1), ("close", 1),
    ]  # fmt: skip
    assert [r.pane_label for r in outcome.results] == ["pane0", "pane1"]
    assert {r.mode for r in outcome.results} == {"sequential"}
    assert outcome.results[0].text == "".join(SLOW.tokens)
    assert outcome.results[0].figures.generated_tokens == 10
    assert outcome.results[0].sampling.max_tokens == 16


def test_parallel_runs_every_pane_at_once() -> None:
    factory = Factory({0: SLOW, 1: SLOW})
    outcome = run_comparison([plan(0), plan(1)], "Hi", mode="parallel", handle_factory=factory)
    assert outcome.ok and {r.mode for r in outcome.results} == {"parallel"}
    kinds = [kind for kind, _, _ in factory.log]
    # Both loaded and both generating before either closed.
    assert kinds.index("close") > max(i for i, k in enumerate(kinds) if k == "generate")
    assert sorted(factory.events("generate")) == [0, 1]
    assert [r.pane_index for r in outcome.results] == [0, 1]


def test_parallel_panes_start_each_repetition_together() -> None:
    fast = FakeScript(tokens=(" a",) * 2, token_delay_s=0.0)
    factory = Factory({0: fast, 1: SLOW})
    outcome = run_comparison(
        [plan(0), plan(1)], "Hi", mode="parallel", repeat=3, handle_factory=factory
    )
    assert outcome.ok and len(outcome.results) == 6
    starts = {
        i: [t for kind, index, t in factory.log if kind == "generate" and index == i]
        for i in (0, 1)
    }
    for fast_start, slow_start in zip(starts[0], starts[1], strict=True):
        assert abs(fast_start - slow_start) < 0.1  # the fast pane waited for the slow one


def test_a_pane_that_fails_to_load_is_reported_and_the_others_finish() -> None:
    factory = Factory({0: FakeScript(fail_load="model file is truncated"), 1: SLOW})
    for mode in ("sequential", "parallel"):
        for repeat in (1, 3):  # the failed pane never keeps the others waiting between runs
            outcome = run_comparison(
                [plan(0), plan(1)], "Hi", mode=mode, repeat=repeat, handle_factory=factory
            )
            assert not outcome.ok
            assert [(f.pane, f.reason) for f in outcome.failures] == [
                (0, "model file is truncated")
            ]
            assert [r.pane_label for r in outcome.results] == ["pane1"] * repeat


def test_a_crashing_pane_is_reported_and_the_others_finish() -> None:
    factory = Factory({0: SLOW, 1: FakeScript(crash_after_tokens=2, tokens=(" x",) * 8)})
    outcome = run_comparison(
        [plan(0), plan(1)], "Hi", mode="parallel", repeat=2, handle_factory=factory
    )
    assert [f.pane for f in outcome.failures] == [1]
    assert "crashed" in outcome.failures[0].reason and "signal 9" in outcome.failures[0].reason
    assert outcome.failures[0].detail == "fake log tail"
    assert [(r.pane_index, r.repetition) for r in outcome.results] == [(0, 0), (0, 1)]


def test_a_generation_error_fails_its_pane() -> None:
    factory = Factory(
        {0: FakeScript(fail_generation="prompt is longer than the context (600 > 512)")}
    )
    outcome = run_comparison([plan(0)], "Hi", handle_factory=factory)
    assert outcome.results == []
    assert outcome.failures[0].reason == "prompt is longer than the context (600 > 512)"


def test_an_unresolved_pane_fails_without_a_handle() -> None:
    factory = Factory({})
    outcome = run_comparison(
        [plan(0, error="hf:x/y:Q4_K_M: not downloaded yet"), plan(1)], "Hi", handle_factory=factory
    )
    assert [f.reason for f in outcome.failures] == ["hf:x/y:Q4_K_M: not downloaded yet"]
    assert factory.events("open") == [1]


def test_a_handle_that_cannot_start_fails_its_pane() -> None:
    def factory(pane: PanePlan):
        raise OSError("cannot start a process")

    outcome = run_comparison([plan(0)], "Hi", handle_factory=factory)
    assert outcome.failures[0].reason == "could not start the model: cannot start a process"


def test_a_silent_worker_fails_after_the_idle_timeout() -> None:
    class Silent(FakeModelHandle):
        def load(self, settings: ModelSettings) -> None:
            pass

        def next_events(self, timeout: float | None = None) -> list[Event]:
            time.sleep(timeout or 0)
            return []

    outcome = run_comparison([plan(0)], "Hi", handle_factory=lambda p: Silent(), idle_timeout_s=0.3)
    assert outcome.failures[0].reason == "no answer from the model for 0.3 s while loading"


def test_repeat_and_warmup_run_the_right_number_of_generations() -> None:
    factory = Factory({0: FakeScript(), 1: FakeScript()})
    outcome = run_comparison([plan(0), plan(1)], "Hi", repeat=3, warmup=2, handle_factory=factory)
    assert outcome.ok
    assert len(factory.handles[0].requests) == 5 and len(factory.handles[1].requests) == 5
    assert [(r.pane_index, r.repetition) for r in outcome.results] == [
        (0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2),
    ]  # fmt: skip
    assert factory.events("open") == [0, 1]  # each model loaded once for all its runs


def test_every_result_is_appended_to_the_history_as_it_finishes() -> None:
    factory = Factory({0: FakeScript(), 1: FakeScript()})
    outcome = run_comparison(
        [plan(0), plan(1)], "Tell me", system_prompt="Be brief", repeat=2,
        handle_factory=factory, profile_name="my-profile",
    )  # fmt: skip
    stored, warnings = read_history()
    assert warnings == []
    assert [r.id for r in stored] == [r.id for r in outcome.results]
    assert {r.profile for r in stored} == {"my-profile"}
    assert {r.prompt for r in stored} == {"Tell me"} and {r.system_prompt for r in stored} == {
        "Be brief"
    }
    assert all(r.host.get("cpu_model") for r in stored)


def test_history_can_be_left_alone() -> None:
    run_comparison([plan(0)], "Hi", handle_factory=Factory({}), history=False)
    assert read_history()[0] == []


def test_gpu_memory_and_energy_are_filled_in() -> None:
    class Reading:
        gpu_j = 12.5
        cpu_j = 3.0

    class Meter:
        def stop(self) -> Reading:
            return Reading()

    def meter() -> RunMeter:
        return RunMeter(
            energy_meter=Meter, gpu_memory=lambda pid: 321.0 if pid == os.getpid() else None
        )

    outcome = run_comparison(
        [plan(0)], "Hi", handle_factory=Factory({}), history=False,
        driver_options=DriverOptions(run_meter=meter),
    )  # fmt: skip
    figures = outcome.results[0].figures
    assert figures.gpu_mem_mib == 321.0
    assert figures.energy_j == 12.5 and figures.cpu_energy_j == 3.0
    assert figures.energy_per_token_j is None or figures.energy_per_token_j == pytest.approx(
        12.5 / 4
    )


def test_without_gpu_or_energy_counters_the_figures_stay_unknown() -> None:
    options = DriverOptions(
        run_meter=lambda: RunMeter(energy_meter=lambda: None, gpu_memory=lambda pid: None)
    )
    figures = (
        run_comparison(
            [plan(0)], "Hi", handle_factory=Factory({}), history=False, driver_options=options
        )
        .results[0]
        .figures
    )
    assert figures.gpu_mem_mib is None and figures.energy_j is None


def test_progress_reports_each_phase_in_order() -> None:
    seen: list[PaneProgress] = []
    run_comparison(
        [plan(0)], "Hi", repeat=2, warmup=1, handle_factory=Factory({}), on_progress=seen.append
    )
    phases = [p.phase for p in seen if p.phase != "generating" or p.tokens == 0]
    assert phases[0] == "loading" and seen[0].load_fraction is None
    assert [p.load_fraction for p in seen if p.phase == "loading"][1:] == [0.25, 0.5, 1.0]
    assert phases.index("loaded") < phases.index("generating")
    done = [p for p in seen if p.phase == "generated"]
    assert [(p.step, p.warmup) for p in done] == [(0, True), (1, False), (2, False)]
    assert seen[-1].phase == "finished" and "4 tokens" in seen[-1].message
    assert all(p.steps == 3 and p.repetitions == 2 for p in seen)


def test_load_warnings_reach_the_progress_display() -> None:
    seen: list[PaneProgress] = []
    warning = "GPU layers asked for, but this llama.cpp build has no GPU backend"
    factory = Factory({0: FakeScript(info={"warnings": (warning,)})})
    outcome = run_comparison([plan(0)], "Hi", handle_factory=factory, on_progress=seen.append)
    assert outcome.ok
    assert [p.message for p in seen if p.phase == "warning"] == [warning]
    assert outcome.results[0].model.load_warnings == [warning]


def test_cancel_stops_the_running_generation() -> None:
    cancel = threading.Event()
    long = FakeScript(tokens=(" t",) * 200, token_delay_s=0.01)
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    started = time.perf_counter()
    outcome = run_comparison(
        [plan(0, max_tokens=200), plan(1)], "Hi", handle_factory=Factory({0: long}), cancel=cancel
    )
    assert time.perf_counter() - started < 1.5
    assert [f.reason for f in outcome.failures] == ["cancelled before it finished"] * 2


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="repeat"):
        run_comparison([plan(0)], "Hi", repeat=0, handle_factory=Factory({}))
    with pytest.raises(ValueError, match="mode"):
        run_comparison([plan(0)], "Hi", mode="sideways", handle_factory=Factory({}))  # type: ignore[arg-type]


def test_results_round_trip_through_the_history_file(isolated_dirs: Path) -> None:
    outcome = run_comparison([plan(0, temperature=0.2, seed=9)], "Hi", handle_factory=Factory({}))
    stored = read_history()[0][0]
    # The history keeps everything but the per-token records (they stay in the exports).
    assert stored == outcome.results[0].model_copy(update={"logprobs": None})
    assert stored.sampling.temperature == 0.2 and stored.sampling.seed == 9


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
def test_ctrl_c_closes_every_handle_before_it_propagates(mode: str) -> None:
    import signal

    long = FakeScript(tokens=(" t",) * 500, token_delay_s=0.01)
    factory = Factory({0: long, 1: long})

    def press_ctrl_c_while_generating() -> None:
        deadline = time.perf_counter() + 5
        while len(factory.events("generate")) < (2 if mode == "parallel" else 1):
            if time.perf_counter() > deadline:
                return
            time.sleep(0.01)
        time.sleep(0.1)
        # A real SIGINT (as Ctrl-C sends), so that a main thread blocked in join() wakes up.
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press_ctrl_c_while_generating, daemon=True).start()
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run_comparison(
            [plan(0, max_tokens=500), plan(1, max_tokens=500)],
            "Hi",
            mode=mode,
            handle_factory=factory,
        )
    assert time.perf_counter() - started < 3  # a whole answer would take 5 s
    assert factory.handles and all(not handle.alive for handle in factory.handles.values())
    assert sorted(factory.events("close")) == sorted(factory.handles)
