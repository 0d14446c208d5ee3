"""A pane's run from start to end in the workbench, driven as headless runs drive it: the
same result fields, a start that fails, a hung or killed worker, a full disk, sequential
runs of one prompt."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from workbench_fakes import FakeEngines, FixedFiguresHandle, fake_app, fake_plans, make_profile

from engines.fake import FakeScript
from engines.machine.run_meter import RunMeter
from engines.types import ModelSettings, SamplingParams
from profiles.export_fields import result_to_record
from profiles.history import history_path
from profiles.plan import PanePlan
from profiles.run_driver import DriverOptions
from profiles.runner import run_comparison
from tui.app import make_app
from tui.pane_controller import PaneState
from tui.widgets.answer_view import AnswerView

SIZE = (120, 40)
UNIT_TESTS = Path(__file__).parents[1] / "unit"
STUB = "worker_stub_engine:StubEngine"


async def wait_until(pilot, condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def first_pane(app):
    return app.workbench.panes[0]


# --- the same result from the workbench and from `llmbench run` -----------------------


class Reading:
    gpu_j = 12.5
    cpu_j = 3.0


class EnergyMeter:
    def stop(self) -> Reading:
        return Reading()


def fixed_meter() -> RunMeter:
    return RunMeter(energy_meter=EnergyMeter, gpu_memory=lambda pid: 321.0)


class LocalHandle(FixedFiguresHandle):
    """A fake handle with a process id, as a local worker has."""

    @property
    def pid(self) -> int | None:
        return os.getpid()


async def test_workbench_and_headless_results_have_the_same_fields_filled_the_same_way() -> None:
    script = FakeScript(tokens=("Blue ", "light ", "scatters."))
    profile = make_profile("small", mode="sequential")
    options = DriverOptions(run_meter=fixed_meter)
    app = make_app(
        profile, lambda plan: LocalHandle(script), plan_builder=fake_plans, history=False,
        hash_files=False, resource_sampler=None, driver_options=options,
    )  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: first_pane(app).state is PaneState.READY, "ready")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: 0 in app.results, "the workbench's result")
        workbench = app.results[0]
    headless = run_comparison(
        fake_plans(profile), profile.prompt, mode="sequential",
        handle_factory=lambda plan: LocalHandle(script), history=False,
        profile_name=profile.name, driver_options=options,
    ).results[0]  # fmt: skip
    ours, theirs = result_to_record(workbench), result_to_record(headless)
    assert ours.keys() == theirs.keys()
    filled = {key for key, value in ours.items() if value not in (None, "")}
    assert filled == {key for key, value in theirs.items() if value not in (None, "")}
    for figures in (workbench.figures, headless.figures):
        assert (figures.energy_j, figures.cpu_energy_j, figures.gpu_mem_mib) == (12.5, 3.0, 321.0)
    assert workbench.text == headless.text == "Blue light scatters."
    assert workbench.model == headless.model and workbench.sampling == headless.sampling


# --- a model that cannot even start --------------------------------------------------


class CannotStart(FixedFiguresHandle):
    def load(self, settings: ModelSettings) -> None:
        raise PermissionError(13, "Permission denied", "/home/me/.cache/llmbench/logs")


async def test_a_worker_that_cannot_start_fails_its_pane_not_the_app() -> None:
    engines = FakeEngines()
    profile = make_profile("broken", "fine")

    def factory(plan: PanePlan):
        return CannotStart() if plan.model_ref == "broken" else engines(plan)

    app = make_app(
        profile, factory, plan_builder=fake_plans, history=False, hash_files=False,
        resource_sampler=None,
    )  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        broken, fine = app.workbench.panes
        await wait_until(
            pilot,
            lambda: broken.state is PaneState.ERROR and fine.state is PaneState.READY,
            "the broken pane to fail and the other to load",
        )
        assert "Permission denied" in broken.controller.reason
        assert ".cache/llmbench/logs" in broken.controller.reason
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: fine.state is PaneState.DONE, "the other pane's answer")
        assert app.is_running


# --- real worker processes (the stand-in engine) --------------------------------------


@pytest.fixture
def stub_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The workbench on one real worker process running the stand-in engine."""
    monkeypatch.syspath_prepend(str(UNIT_TESTS))  # the worker imports the stand-in engine
    from gguf_samples import write_sample_gguf

    from engines.local.handle import WorkerModelHandle

    model = write_sample_gguf(tmp_path / "tiny-model.gguf")

    def plans(profile) -> list[PanePlan]:
        return [
            PanePlan(
                index=0, label="stub", model_ref=str(model), kind="local",
                settings=ModelSettings(path=str(model), n_ctx=256, n_threads=1, label="stub"),
                sampling=SamplingParams(max_tokens=20_000),
            )
        ]  # fmt: skip

    def build(prompt: str):
        return make_app(
            make_profile("stub", prompt=prompt), lambda plan: WorkerModelHandle(STUB),
            plan_builder=plans, history=False, hash_files=False, resource_sampler=None,
            driver_options=DriverOptions(stop_grace_s=0.5),
        )  # fmt: skip

    return build


async def test_escape_stops_a_hung_worker(stub_app) -> None:
    app = stub_app("hang")
    async with app.run_test(size=SIZE) as pilot:
        pane = first_pane(app)
        await wait_until(pilot, lambda: pane.state is PaneState.READY, "the model to load")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: pane.answer.startswith("t0 "), "tokens")
        pid = pane.controller.handle.pid
        os.kill(pid, signal.SIGSTOP)  # the worker hangs: it never answers the cancel
        try:
            await pilot.press("escape")
            await wait_until(pilot, lambda: pane.state is PaneState.STOPPED, "the pane to stop")
        finally:
            _end(pid)
        # Running again starts a fresh worker.
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: pane.state is PaneState.GENERATING, "a new run")
        assert pane.controller.handle.pid != pid
        await pilot.press("escape")
        await wait_until(pilot, lambda: pane.state is PaneState.STOPPED, "the second stop")


async def test_a_killed_worker_shows_the_end_of_its_log(stub_app) -> None:
    app = stub_app("count:0.01")
    async with app.run_test(size=SIZE) as pilot:
        pane = first_pane(app)
        await wait_until(pilot, lambda: pane.state is PaneState.READY, "the model to load")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: pane.answer.startswith("t0 "), "tokens")
        os.kill(pane.controller.handle.pid, signal.SIGKILL)
        await wait_until(pilot, lambda: pane.state is PaneState.CRASHED, "the crash")
        shown = pane.query_one(AnswerView).text_with_markers
        assert "worker crashed: killed by signal 9" in shown
        assert "llama_model_load: stub engine loading" in shown  # the worker log's last lines


def _end(pid: int) -> None:
    for sig in (signal.SIGCONT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return


# --- the history on a full disk --------------------------------------------------------


async def test_a_full_disk_under_the_history_keeps_the_result_for_export(
    engines: FakeEngines, tmp_path: Path
) -> None:
    target = history_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to("/dev/full")  # every write fails with Errno 28, naming no file
    app = fake_app(make_profile("small"), engines, history=True)
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        original = app.notify
        app.notify = lambda message, **kw: (notes.append(str(message)), original(message, **kw))
        pane = first_pane(app)
        await wait_until(pilot, lambda: pane.state is PaneState.READY, "ready")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: 0 in app.results, "the result to be kept")
        await wait_until(pilot, lambda: any("history" in n for n in notes), "the warning")
        [warning] = [n for n in notes if "history" in n]
        assert str(target) in warning and "No space left on device" in warning
        assert "--no-history" in warning
        export = tmp_path / "out.json"
        app.action_export("json", str(export))
        await wait_until(pilot, export.exists, "the export")
    assert "".join(engines.default.tokens) in export.read_text()


# --- sequential runs -------------------------------------------------------------------


async def test_a_prompt_edited_mid_run_does_not_reach_the_queued_panes(
    engines: FakeEngines,
) -> None:
    from tui.widgets.prompt_editor import PromptEditor

    engines.scripts["first"] = FakeScript(tokens=("a ",) * 100, token_delay_s=0.01)
    app = fake_app(make_profile("first", "second", mode="sequential"), engines)
    async with app.run_test(size=SIZE) as pilot:
        first, second = app.workbench.panes
        await wait_until(
            pilot, lambda: first.state is second.state is PaneState.READY, "both to load"
        )
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: first.state is PaneState.GENERATING, "the first pane")
        editor = app.workbench.query_one(PromptEditor)
        editor.query_one("#prompt").load_text("A different question")
        await wait_until(pilot, lambda: second.state is PaneState.DONE, "the second pane")
        assert editor.prompt == "A different question"
    asked = [engines.last(ref).requests[0].prompt for ref in ("first", "second")]
    assert asked == ["Why is the sky blue?", "Why is the sky blue?"]
