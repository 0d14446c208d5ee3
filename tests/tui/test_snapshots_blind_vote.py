"""Screenshots of the blind vote: before the vote (no names, no figures) and after it.

The answers come from fake engines with fixed figures; the pair's order comes from a
fixed seed. Regenerate with `--snapshot-update` on this file, and look.
"""

from __future__ import annotations

from itertools import count

from test_snapshots_main import engines_for_snapshots, settle
from workbench_fakes import fake_app, make_profile

from profiles.votes import VoteLog
from tui.screens.blind_vote import BlindVoteScreen


def vote_app():
    return fake_app(make_profile("SmolLM2 135M", "Qwen2.5 0.5B"), engines_for_snapshots())


async def open_vote(pilot) -> None:
    await settle(pilot, run=True)
    app = pilot.app
    answers = [app.results[pane.pane_id] for pane in app.workbench.panes]
    seeds = count(7)
    app.push_screen(BlindVoteScreen(answers, VoteLog(None), "test-bench", lambda: next(seeds)))
    await pilot.pause(0.1)


def test_blind_vote_before_the_vote_80x24(snap_compare) -> None:
    assert snap_compare(vote_app(), terminal_size=(80, 24), run_before=open_vote)


def test_blind_vote_after_the_vote(snap_compare) -> None:
    async def vote(pilot) -> None:
        await open_vote(pilot)
        await pilot.press("b")
        await pilot.pause(0.1)

    assert snap_compare(vote_app(), terminal_size=(120, 30), run_before=vote)
