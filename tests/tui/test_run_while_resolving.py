"""A run asked for while the panes' model references are still being resolved is kept and
starts once each pane has its plan (ctrl+r right after launch used to do nothing)."""

from __future__ import annotations

import threading
import time

from workbench_fakes import FakeEngines, fake_plans, make_profile

from tui.app import make_app
from tui.pane_controller import PaneState

SIZE = (120, 40)


async def _wait(pilot, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def _gated_app(engines: FakeEngines, release: threading.Event):
    def slow_plans(profile):
        release.wait(10)
        return fake_plans(profile)

    return make_app(
        make_profile("fake:a", "fake:b"),
        engines,
        plan_builder=slow_plans,
        history=False,
        hash_files=False,
        resource_sampler=None,
    )


async def test_ctrl_r_while_resolving_runs_every_pane_once_they_are_ready():
    release = threading.Event()
    app = _gated_app(FakeEngines(), release)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert all(pane.controller is None for pane in app.workbench.panes)
        await pilot.press("ctrl+r")
        release.set()
        await _wait(pilot, lambda: all(p.state is PaneState.DONE for p in app.workbench.panes))
        assert all(pane.answer.strip() for pane in app.workbench.panes)


async def test_escape_while_resolving_drops_the_waiting_run():
    release = threading.Event()
    app = _gated_app(FakeEngines(), release)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        app.workbench.action_stop()
        release.set()
        await _wait(pilot, lambda: all(p.controller is not None for p in app.workbench.panes))
        await _wait(pilot, lambda: all(p.state is PaneState.READY for p in app.workbench.panes))
        assert not any(pane.answer.strip() for pane in app.workbench.panes)
