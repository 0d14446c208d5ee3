"""Pilot flows of the blind vote: names hidden before, revealed after, vote stored, order recorded."""

from __future__ import annotations

import re
from html import unescape

from test_app_flows import SIZE, all_in, leave_prompt, ready, wait_until
from textual.widgets import Static
from workbench_fakes import FakeEngines, fake_app, make_profile

from engines.fake import FakeScript
from profiles.vote_pairs import draw_pair, judged_counts
from profiles.votes import read_votes, votes_path
from tui.pane_controller import PaneState
from tui.screens.blind_vote import BlindVoteScreen

ANSWERS = {
    "tiny-model": "Rayleigh scattering makes short waves scatter more.",
    "huge-model": "Air molecules scatter blue light the most.",
    "mid-model": "Because of the way sunlight meets the air.",
}


def scripted_engines() -> FakeEngines:
    return FakeEngines(
        {
            ref: FakeScript(tokens=tuple(f"{word} " for word in text.split()))
            for ref, text in ANSWERS.items()
        }
    )


def screen_text(app) -> str:
    """Every character on screen, as plain text (from the SVG screenshot)."""
    svg = app.export_screenshot()
    return " ".join(unescape(part) for part in re.findall(r">([^<>]+)<", svg)).replace("\xa0", " ")


async def votes_saved(app) -> None:
    """Wait for the vote log writes (the screen's "votes" workers) to finish."""
    saving = [worker for worker in app.workers if worker.group == "votes"]
    if saving:  # wait_for_complete([]) would wait for every worker, the panes' included
        await app.workers.wait_for_complete(saving)


async def run_and_open_vote(pilot, app, panes: int) -> BlindVoteScreen:
    await ready(pilot, app)
    await pilot.press("ctrl+r")
    await wait_until(pilot, all_in(app, PaneState.DONE))
    await wait_until(pilot, lambda: len(app.results) == panes)
    await leave_prompt(pilot)
    await pilot.press("B")
    await wait_until(pilot, lambda: isinstance(app.screen, BlindVoteScreen))
    await pilot.pause()
    return app.screen


async def test_names_are_hidden_until_the_vote_then_revealed_and_the_vote_is_stored() -> None:
    app = fake_app(make_profile("tiny-model", "huge-model"), scripted_engines(), history=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_and_open_vote(pilot, app, 2)
        shown_a = screen.query_one("#answer-a", Static).render().plain.strip()
        shown_b = screen.query_one("#answer-b", Static).render().plain.strip()
        assert {shown_a, shown_b} == {ANSWERS["tiny-model"], ANSWERS["huge-model"]}
        before = screen_text(app)
        for secret in ("tiny-model", "huge-model", "TTFT", "tok/s", "tokens"):
            assert secret not in before, f"{secret!r} shows before the vote"

        await pilot.press("a")
        await pilot.pause()
        after = screen_text(app)
        assert "tiny-model" in after and "huge-model" in after
        assert "TTFT" in after and "Voted A is better" in after
        await votes_saved(app)
        pair = screen.pair
        standings = app.blind_vote.standings()  # what the Quality × cost view shows
        assert {model: s.votes for model, s in standings.items()} == {
            "tiny-model": 1,
            "huge-model": 1,
        }

    votes, warnings = read_votes()
    assert warnings == [] and len(votes) == 1
    vote = votes[0]
    assert vote.vote == "a" and vote.profile == "test-bench"
    assert vote.prompt == "Why is the sky blue?"
    results = {result.id: result for result in app.results.values()}
    assert results[vote.result_a].text.strip() == shown_a
    assert results[vote.result_b].text.strip() == shown_b
    assert vote.winner == results[vote.result_a].model_ref
    # The order is random but recorded: the seed redraws exactly what was shown.
    redrawn = draw_pair(["tiny-model", "huge-model"], {}, seed=vote.order_seed)
    assert (redrawn.shown_a, redrawn.shown_b) == (pair.shown_a, pair.shown_b)
    assert vote.swapped == (vote.pane_a == 1) == redrawn.swapped


async def test_three_panes_judge_every_pair_once_least_judged_first() -> None:
    app = fake_app(
        make_profile("tiny-model", "huge-model", "mid-model"), scripted_engines(), history=True
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_and_open_vote(pilot, app, 3)
        await pilot.press("n")  # no next pair before a vote
        assert screen.vote is None and len(screen.judged) == 0
        seen = []
        for verdict in ("b", "t", "x"):
            seen.append(screen.pair.in_order)
            await pilot.press(verdict)
            await pilot.pause()
            await pilot.press("a")  # a second vote on the same pair is ignored
            await pilot.press("n")
            await pilot.pause()
        assert sorted(seen) == [(0, 1), (0, 2), (1, 2)]
        assert screen.pair is None
        assert "Every pair of answers to this prompt is judged" in screen_text(app)
        await votes_saved(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, BlindVoteScreen)
    votes, _ = read_votes()
    assert [vote.vote for vote in votes] == ["b", "tie", "both_bad"]
    assert set(judged_counts(votes).values()) == {1}


async def test_blind_vote_needs_two_answers_and_says_so() -> None:
    app = fake_app(make_profile("tiny-model", "huge-model"), scripted_engines(), history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("B")
        await pilot.pause()
        assert not isinstance(app.screen, BlindVoteScreen)
        assert any("two finished answers" in n.message for n in app._notifications)


async def test_without_history_votes_stay_in_the_session_and_the_log_is_untouched() -> None:
    votes_path().parent.mkdir(parents=True, exist_ok=True)
    votes_path().write_text('{"vote_version": 1, "id": "cut sho')
    app = fake_app(make_profile("tiny-model", "huge-model"), scripted_engines(), history=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_and_open_vote(pilot, app, 2)
        await pilot.press("t")
        await votes_saved(app)
        assert [vote.vote for vote in screen.vote_log.votes] == ["tie"]
    assert votes_path().read_text() == '{"vote_version": 1, "id": "cut sho'


async def test_a_torn_vote_log_is_told_and_the_new_vote_still_lands() -> None:
    votes_path().parent.mkdir(parents=True, exist_ok=True)
    votes_path().write_text('{"vote_version": 1, "id": "cut sho')
    app = fake_app(make_profile("tiny-model", "huge-model"), scripted_engines(), history=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_and_open_vote(pilot, app, 2)
        assert any("line 1 skipped" in n.message for n in app._notifications)
        await pilot.press("b")
        await votes_saved(app)
        assert len(screen.vote_log.votes) == 1
    votes, warnings = read_votes()
    assert [vote.vote for vote in votes] == ["b"] and len(warnings) == 1


async def test_in_a_suite_the_vote_judges_the_prompt_shown_and_feeds_the_quality_view() -> None:
    from profiles.suite import SuitePrompt
    from tui.screens.quality_view import QualityScreen

    prompts = [SuitePrompt(id="one", text="Prompt one"), SuitePrompt(id="two", text="Prompt two")]
    profile = make_profile("tiny-model", "huge-model", prompt="").model_copy(
        update={"prompts": prompts}
    )
    app = fake_app(profile, scripted_engines(), history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("R")
        await wait_until(pilot, lambda: len(app.suite_results) == 4, timeout=10)
        await wait_until(pilot, lambda: not app.workbench.suite.running)
        await pilot.press("n")  # back to the first prompt (the run ended on the second)
        await pilot.pause()
        await pilot.press("B")
        await wait_until(pilot, lambda: isinstance(app.screen, BlindVoteScreen))
        screen = app.screen
        assert {answer.prompt for answer in screen.answers} == {"Prompt one"}
        await pilot.press("a")
        await votes_saved(app)
        await pilot.press("escape")
        await pilot.pause()
        app.action_show_quality()
        await pilot.pause()
        assert isinstance(app.screen, QualityScreen)
        rows = {row.label: row for row in app.screen.rows}
        assert sorted(row.votes for row in rows.values()) == [1, 1]
        assert sorted(row.win_rate for row in rows.values()) == [0.0, 1.0]
    votes, _ = read_votes()
    assert [vote.prompt_id for vote in votes] == ["one"]


async def test_a_failed_answer_is_not_offered_for_a_vote() -> None:
    engines = scripted_engines()
    engines.scripts["broken-model"] = FakeScript(tokens=("half ",), fail_generation="boom")
    profile = make_profile("tiny-model", "huge-model", "broken-model")
    app = fake_app(profile, engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, all_in(app, PaneState.DONE, PaneState.ERROR))
        await wait_until(pilot, lambda: len(app.results) == 3)
        assert app.results[app.workbench.panes[2].pane_id].figures.stop_reason == "error"
        await leave_prompt(pilot)
        await pilot.press("B")
        await wait_until(pilot, lambda: isinstance(app.screen, BlindVoteScreen))
        assert [a.model_ref for a in app.screen.answers] == ["tiny-model", "huge-model"]
