"""A blind vote on the real demo models: the workbench in-process, real llama.cpp workers.

Both demo models answer a short prompt; the blind vote shows the two real answers with
no model name, the vote lands in votes.jsonl with both results' ids (the same ids as in
the history), and `llmbench votes` prints the standings from it.
"""

from __future__ import annotations

import re
import time
from html import unescape

import pytest
from click.testing import CliRunner

from profiles.history import read_history
from profiles.schema import PaneSpec, Profile, SamplingValues
from profiles.votes import read_votes
from tui.app import make_app
from tui.cli import cli
from tui.pane_controller import PaneState
from tui.screens.blind_vote import BlindVoteScreen

pytestmark = pytest.mark.real_model

MODELS = {"demo:smollm2-135m": "small", "demo:gemma3-270m": "base"}


def screen_text(app) -> str:
    svg = app.export_screenshot()
    return " ".join(unescape(part) for part in re.findall(r">([^<>]+)<", svg)).replace("\xa0", " ")


async def wait_until(pilot, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        await pilot.pause(0.1)


async def test_blind_vote_on_both_demo_models() -> None:
    profile = Profile(
        name="vote-e2e",
        prompt="Name three colours.",
        sampling=SamplingValues(temperature=0.0, max_tokens=16, seed=42),
        panes=[
            PaneSpec(model=ref, label=label, settings={"n_ctx": 512})
            for ref, label in MODELS.items()
        ],
    )
    app = make_app(profile, history=True, resource_sampler=None)
    async with app.run_test(size=(120, 40)) as pilot:
        ready = (PaneState.READY,)
        await wait_until(pilot, lambda: all(p.state in ready for p in app.workbench.panes), 240)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(app.results) == 2, 240)
        await pilot.press("escape")
        await pilot.press("B")
        await wait_until(pilot, lambda: isinstance(app.screen, BlindVoteScreen), 10)
        await pilot.pause(0.2)
        before = screen_text(app)
        for name in [*MODELS, *MODELS.values(), "SmolLM", "gemma", "TTFT"]:
            assert name not in before, f"{name!r} shows before the vote"
        await pilot.press("b")
        await pilot.pause(0.2)
        after = screen_text(app)
        assert all(ref in after for ref in MODELS)
        saving = [worker for worker in app.workers if worker.group == "votes"]
        if saving:
            await app.workers.wait_for_complete(saving)
    history, _ = read_history()
    votes, warnings = read_votes()
    assert warnings == [] and len(votes) == 1
    vote = votes[0]
    assert {vote.model_a, vote.model_b} == set(MODELS)
    assert {vote.result_a, vote.result_b} == {result.id for result in history}
    assert vote.profile == "vote-e2e" and vote.vote == "b"
    printed = CliRunner().invoke(cli, ["votes", "vote-e2e"])
    assert printed.exit_code == 0, printed.output
    rows = {line.split()[0]: line.split() for line in printed.output.splitlines()[2:4]}
    assert rows[vote.model_b][1:4] == ["1", "100", "%"]
    assert rows[vote.model_a][1:4] == ["1", "0", "%"]
