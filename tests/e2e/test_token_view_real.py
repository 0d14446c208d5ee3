"""The token view and "where answers part" in the real workbench: the SmolLM2 demo model in
two panes (two worker processes), greedy and hot, on one prompt."""

from __future__ import annotations

import time

import pytest

from profiles.schema import ModelSettingsSpec, PaneSpec, Profile, SamplingOverrides, SamplingValues
from tui.app import make_app
from tui.pane_controller import PaneState
from tui.screens.answer_parting import AnswerPartingScreen

pytestmark = pytest.mark.real_model


def profile() -> Profile:
    settings = ModelSettingsSpec(n_ctx=512)
    return Profile(
        name="greedy-vs-hot",
        prompt="Write a short poem about the sea.",
        sampling=SamplingValues(temperature=0.0, max_tokens=24, seed=3),
        panes=[
            PaneSpec(model="demo:smollm2-135m", label="greedy", settings=settings),
            PaneSpec(
                model="demo:smollm2-135m",
                label="hot",
                settings=settings,
                sampling=SamplingOverrides(temperature=1.5),
            ),
        ],
    )


async def test_w_marks_the_token_where_sampling_parted_greedy_and_hot() -> None:
    app = make_app(profile(), history=False, hash_files=False, resource_sampler=None)

    async def wait_for(states: tuple, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(pane.state in states for pane in app.workbench.panes):
            assert time.monotonic() < deadline, [p.state for p in app.workbench.panes]
            await pilot.pause(0.2)

    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for((PaneState.READY, PaneState.ERROR), 120)
        await pilot.press("ctrl+r")
        await wait_for((PaneState.DONE, PaneState.ERROR, PaneState.CRASHED), 300)
        greedy, hot = app.workbench.panes
        assert [greedy.state, hot.state] == [PaneState.DONE, PaneState.DONE]
        for pane in (greedy, hot):  # a record per token, summary in the stats
            assert len(pane.answer_area.token_records) == pane.controller.stats.generated_tokens
            assert pane.controller.stats.mean_entropy is not None
        assert greedy.controller.stats.mean_entropy == 0.0 < hot.controller.stats.mean_entropy
        await pilot.press("escape", "w")
        await pilot.pause(0.3)
        assert isinstance(app.screen, AnswerPartingScreen)
        parting = app.screen.divergence.partings
        index = parting[0].token_index
        assert index is not None and index == parting[1].token_index
        ids = [
            [r.token_id for r in pane.answer_area.token_records[:index]] for pane in (greedy, hot)
        ]
        assert ids[0] == ids[1]
        assert (
            greedy.answer_area.token_records[index].token_id
            != hot.answer_area.token_records[index].token_id
        )
        assert (
            greedy.answer_area.token_records[index].rank == 1
            and hot.answer_area.token_records[index].rank > 1
        )
        await pilot.press("escape")
        await pilot.pause(0.2)
        view = hot.answer_area.tokens.view
        assert hot.answer_area.tokens_on and view.parting == index == view.cursor
        assert hot.answer_area.tokens.panel.record is hot.answer_area.token_records[index]
