"""Waiting helpers for Pilot tests (the same as test_app_flows' own, importable)."""

from __future__ import annotations

import time

from tui.pane_controller import PaneState


async def wait_until(pilot, condition, timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition.__doc__ or condition}")
        await pilot.pause(0.02)


def all_in(app, *states: PaneState):
    def check() -> bool:
        return all(pane.state in states for pane in app.workbench.panes)

    return check


async def ready(pilot, app) -> None:
    await wait_until(pilot, all_in(app, PaneState.READY, PaneState.ERROR))
