"""The help table fits its box on small terminals: long descriptions wrap, nothing scrolls sideways."""

from __future__ import annotations

import pytest
from test_app_flows import ready
from textual.widgets import DataTable
from workbench_fakes import FakeEngines, fake_app, make_profile

from tui.screens.help import HelpScreen


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
async def test_help_needs_no_sideways_scrolling(engines: FakeEngines, size) -> None:
    app = fake_app(make_profile("small"), engines)
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert table.max_scroll_x == 0
