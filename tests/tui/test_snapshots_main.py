"""Screenshots of the workbench at fixed sizes, with fixed fake streams and fixed figures.

Nothing in these pictures depends on time: the fake engines finish with fixed figures
(workbench_fakes.FixedFiguresHandle), the live clock only runs while a pane generates,
cursors do not blink and the resource panel (live machine figures) is hidden.
Regenerate with `pytest tests/tui/test_snapshots_main.py --snapshot-update` and look.
"""

from __future__ import annotations

import time

from textual.widgets import Input, TextArea
from workbench_fakes import FakeEngines, fake_app, make_profile

from engines.fake import FakeScript
from tui.pane_controller import PaneState

ANSWER = (
    "Rayleigh scattering: air molecules scatter short (blue) wavelengths of sunlight much more ",
    "than long (red) ones, so blue light reaches your eyes from every part of the sky. ",
    "At sunset the light crosses more air, the blue is scattered away, and reds remain.",
)
SHORT_ANSWER = ("The sky looks blue ", "because of scattering.")


def engines_for_snapshots(**scripts: FakeScript) -> FakeEngines:
    words = tuple(word + " " for chunk in ANSWER for word in chunk.split())
    engines = FakeEngines(default=FakeScript(tokens=words))
    engines.scripts = {"SmolLM2 135M": FakeScript(tokens=SHORT_ANSWER), **scripts}
    return engines


async def settle(pilot, *, run: bool) -> None:
    """Wait for every pane to finish (or fail), with nothing left moving on screen."""
    app = pilot.app
    bench = app.workbench
    bench.query_one("#resources").display = False
    for widget in bench.query(TextArea):
        widget.cursor_blink = False
    for widget in bench.query(Input):
        widget.cursor_blink = False
    settled = (
        (PaneState.DONE, PaneState.ERROR, PaneState.CRASHED)
        if run
        else (PaneState.READY, PaneState.ERROR)
    )
    if run:
        await pilot.press("ctrl+r")
    deadline = time.monotonic() + 10
    while not all(pane.state in settled for pane in bench.panes) or any(
        worker.is_running for worker in app.workers if worker.group in ("history", "plan")
    ):
        assert time.monotonic() < deadline, "the panes did not settle"
        await pilot.pause(0.05)
    app.clear_notifications()
    await pilot.pause(0.1)


def test_main_screen_after_a_run(snap_compare) -> None:
    app = fake_app(make_profile("SmolLM2 135M", "Gemma 3 270M"), engines_for_snapshots())

    async def run_before(pilot) -> None:
        await settle(pilot, run=True)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_main_screen_at_80x24_stacks_the_panes(snap_compare) -> None:
    app = fake_app(make_profile("SmolLM2 135M", "Gemma 3 270M"), engines_for_snapshots())

    async def run_before(pilot) -> None:
        await settle(pilot, run=True)
        await pilot.press("escape")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_main_screen_ready_to_run(snap_compare) -> None:
    app = fake_app(make_profile("SmolLM2 135M", "Gemma 3 270M"), engines_for_snapshots())

    async def run_before(pilot) -> None:
        await settle(pilot, run=False)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_error_pane_beside_a_finished_one(snap_compare) -> None:
    engines = engines_for_snapshots(
        broken=FakeScript(fail_generation="prompt is 3000 tokens; the context holds 2048")
    )
    app = fake_app(make_profile("SmolLM2 135M", "broken"), engines)

    async def run_before(pilot) -> None:
        await settle(pilot, run=True)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_help_screen(snap_compare) -> None:
    app = fake_app(make_profile("SmolLM2 135M", "Gemma 3 270M"), engines_for_snapshots())

    async def run_before(pilot) -> None:
        await settle(pilot, run=False)
        await pilot.press("f1")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
