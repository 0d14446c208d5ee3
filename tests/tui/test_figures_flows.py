"""Workbench figures that must not mislead: every row exported with its stop reason,
duplicate models told apart, the run mode on screen (fake engines)."""

from __future__ import annotations

import json
import time

from textual.widgets import DataTable
from workbench_fakes import FakeEngines, fake_app, make_profile

from engines.fake import FakeScript
from profiles.history import read_history
from tui.pane_controller import PaneState
from tui.widgets.comparison_table import ComparisonTable

SIZE = (120, 40)
SLOW = FakeScript(tokens=tuple(f"t{i} " for i in range(400)), token_delay_s=0.01, batch_size=2)


async def wait_until(pilot, condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.02)


def states(app, *wanted: PaneState):
    return lambda: all(pane.state in wanted for pane in app.workbench.panes)


async def test_export_writes_every_row_of_the_table_with_its_stop_reason(
    engines: FakeEngines, tmp_path
) -> None:
    engines.scripts = {
        "slow": SLOW,
        "broken": FakeScript(fail_generation="prompt is 3000 tokens; the context holds 2048"),
        "fragile": FakeScript(crash_after_tokens=3, batch_size=1),
    }
    app = fake_app(make_profile("good", "slow", "broken", "fragile"), engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, states(app, PaneState.READY))
        await pilot.press("ctrl+r")
        good, slow, broken, fragile = app.workbench.panes
        await wait_until(pilot, lambda: good.state is PaneState.DONE)
        await wait_until(pilot, lambda: slow.answer.startswith("t0 "))
        slow.stop()
        await wait_until(
            pilot,
            states(app, PaneState.DONE, PaneState.STOPPED, PaneState.ERROR, PaneState.CRASHED),
        )
        await wait_until(pilot, lambda: len(app.results) == 3)
        table = app.workbench.query_one(ComparisonTable).query_one(DataTable)
        # the fake's crash ends no generation, so the crashed pane has no row to export (a
        # real worker's crash ends its run as an error first: test_worker_crash_is_exported)
        assert table.row_count == 3
        app.action_export("json", str(tmp_path / "out.json"))
        await wait_until(pilot, lambda: (tmp_path / "out.json").exists())
        await wait_until(pilot, lambda: any("exported" in n.message for n in app._notifications))
        message = next(n.message for n in app._notifications if "exported" in n.message)
        app.action_export("markdown", str(tmp_path / "out.md"))
        await wait_until(pilot, lambda: (tmp_path / "out.md").exists())
    records = json.loads((tmp_path / "out.json").read_text())["results"]
    by_label = {r["pane_label"]: r for r in records}
    assert [r["pane_label"] for r in records] == ["good", "slow", "broken"]
    assert by_label["good"]["stop_reason"] in ("stop", "length")
    assert by_label["slow"]["stop_reason"] == "cancelled"
    assert by_label["broken"]["stop_reason"] == "error"
    assert "3000 tokens" in by_label["broken"]["error"]
    assert message.startswith("exported 3 results (1 cancelled, 1 error) to ")
    markdown = (tmp_path / "out.md").read_text()
    assert "| stop reason | stop | cancelled | error |" in markdown.replace("length", "stop")
    history, _ = read_history()
    assert [r.pane_label for r in history] == ["good"]  # only finished runs are history


async def test_duplicate_models_are_numbered_in_panes_rows_and_exports(
    engines: FakeEngines, tmp_path
) -> None:
    app = fake_app(make_profile("smol", "smol", "gemma"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, states(app, PaneState.READY))
        assert [p.label for p in app.workbench.panes] == ["smol #1", "smol #2", "gemma"]
        assert app.workbench.panes[1].border_title == "smol #2"
        app.workbench.add_pane("gemma")
        await wait_until(pilot, lambda: len(app.workbench.panes) == 4)
        await wait_until(pilot, states(app, PaneState.READY))
        await wait_until(
            pilot,
            lambda: (
                [p.label for p in app.workbench.panes]
                == ["smol #1", "smol #2", "gemma #1", "gemma #2"]
            ),
        )
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(app.results) == 4)
        table = app.workbench.query_one(ComparisonTable).query_one(DataTable)
        shown = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert shown == ["smol #1", "smol #2", "gemma #1", "gemma #2"]
        app.action_export("json", str(tmp_path / "out.json"))
        await wait_until(pilot, lambda: (tmp_path / "out.json").exists())
    records = json.loads((tmp_path / "out.json").read_text())["results"]
    assert [r["pane_label"] for r in records] == ["smol #1", "smol #2", "gemma #1", "gemma #2"]


async def test_the_comparison_says_when_panes_ran_in_parallel(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a", "b", mode="parallel"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, states(app, PaneState.READY))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.workbench.query_one(ComparisonTable).has_rows)
        legend = str(app.workbench.query_one(".comparison--legend").render())
        assert "Ran in parallel: speeds not comparable" in legend
