"""The workbench's "Measure fidelity" palette action (fake engines: they give no logits)."""

from __future__ import annotations

import time

from textual.widgets import DataTable
from workbench_fakes import FakeEngines, fake_app, make_profile

from tui.palette import workbench_commands
from tui.widgets.comparison_table import ComparisonTable

SIZE = (120, 40)


async def _wait(pilot, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_the_palette_offers_fidelity_and_each_pane_says_why_it_cannot():
    app = fake_app(make_profile("fake:a", "fake:b"), FakeEngines())
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, lambda: all(p.controller is not None for p in app.workbench.panes))
        titles = [command.title for command in workbench_commands(app)]
        assert "Measure fidelity" in titles and "Cancel fidelity" in titles
        app.fidelity.start()
        await _wait(pilot, lambda: not app.fidelity.running)
        messages = [n.message for n in app._notifications]
        summary = next(m for m in messages if "cannot run a fidelity pass" in m)
        assert summary.count("failed: this kind of model cannot run a fidelity pass") == 2
        pane = app.workbench.panes[0]
        assert "fidelity: failed" in str(pane.border_subtitle)
        comparison = app.workbench.query_one(ComparisonTable)
        assert comparison.display and comparison.has_rows
        table = comparison.query_one(DataTable)
        headers = [str(column.key.value) for column in table.ordered_columns]
        assert {"fidelity_ppl", "fidelity_kld", "fidelity_top1"} <= set(headers)
        assert table.row_count == 2  # both panes, though neither has generated yet


async def test_cancel_without_a_run_says_so():
    app = fake_app(make_profile("fake:a"), FakeEngines())
    async with app.run_test(size=SIZE) as pilot:
        app.fidelity.cancel()
        await pilot.pause()
        assert any("no fidelity run" in n.message for n in app._notifications)
