"""The workbench on the real demo model (real workers, real llama.cpp): two panes of the same
model are numbered; a re-run served from the prompt cache has its prompt figures marked ↺
and never starred; a sequential run says nothing about parallel speeds."""

from __future__ import annotations

import time

import pytest
from textual.widgets import DataTable

from profiles.schema import PaneSpec, Profile, SamplingValues
from tui.app import make_app
from tui.pane_controller import PaneState
from tui.widgets.comparison_table import ComparisonTable

SIZE = (140, 44)


async def wait_until(pilot, condition, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def table_cells(app) -> list[dict[str, str]]:
    table = app.workbench.query_one(ComparisonTable).query_one(DataTable)
    keys = [str(column.key.value) for column in table.ordered_columns]
    return [
        dict(zip(keys, map(str, table.get_row_at(i)), strict=True)) for i in range(table.row_count)
    ]


@pytest.mark.real_model
async def test_two_panes_of_one_real_model_numbered_and_cached_figures_marked() -> None:
    profile = Profile(
        name="same-model",
        prompt="Name three colours.",
        mode="sequential",
        sampling=SamplingValues(temperature=0.0, max_tokens=6),
        panes=[PaneSpec(model="demo:smollm2-135m"), PaneSpec(model="demo:smollm2-135m")],
    )
    app = make_app(profile, history=False, hash_files=False, resource_sampler=None)
    async with app.run_test(size=SIZE) as pilot:
        done = lambda: all(p.state is PaneState.DONE for p in app.workbench.panes)  # noqa: E731
        await wait_until(
            pilot, lambda: all(p.state is PaneState.READY for p in app.workbench.panes), "loads"
        )
        first, second = app.workbench.panes
        assert first.label.endswith(" #1") and second.label.endswith(" #2")
        assert first.label[:-3] == second.label[:-3]
        await pilot.press("ctrl+r")
        # the table fills when the last pane's RunFinished reaches the screen, just after DONE
        await wait_until(pilot, lambda: done() and len(table_cells(app)) == 2, "the first run")
        cold = table_cells(app)
        # long labels are shortened in the middle: the numbers stay visible
        assert [row["pane"][-3:] for row in cold] == [" #1", " #2"]
        assert not any("↺" in value for row in cold for value in row.values())
        await wait_until(pilot, lambda: len(app.results) == 2, "the first results")
        first_ids = {result.id for result in app.results.values()}
        await pilot.press("ctrl+r")

        def rerun_recorded() -> bool:
            ids = {result.id for result in app.results.values()}
            return done() and len(ids) == 2 and not ids & first_ids

        await wait_until(pilot, rerun_recorded, "the re-run's results")
        await pilot.pause(0.2)
        warm = table_cells(app)
        legend = str(app.workbench.query_one(".comparison--legend").render())
    for row in warm:
        assert row["prompt_tps"].startswith("↺ ") and row["ttft"].startswith("↺ "), row
        assert "★" not in row["prompt_tps"] and "★" not in row["ttft"]
    assert "↺ prompt served from the cache" in legend and "parallel" not in legend
    assert all(result.figures.cached_prompt_tokens > 0 for result in app.results.values())
