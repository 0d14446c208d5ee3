"""The workbench's prompt suite: n / N step through it, "Run suite" runs every prompt."""

from __future__ import annotations

import pytest
from test_app_flows import SIZE, all_in, leave_prompt, panes, ready, wait_until
from workbench_fakes import FakeEngines, fake_app, make_profile

from profiles.suite import SuitePrompt
from tui.pane_controller import PaneState
from tui.widgets.prompt_editor import PromptEditor

PROMPTS = [
    SuitePrompt(id="first", text="Prompt one"),
    SuitePrompt(id="second", text="Prompt two", system="Be brief."),
    SuitePrompt(id="third", text="Prompt three"),
]


@pytest.fixture
def engines() -> FakeEngines:
    return FakeEngines()


def suite_profile(*models: str, prompt: str = ""):
    return make_profile(*models, prompt=prompt).model_copy(update={"prompts": PROMPTS})


async def test_n_and_shift_n_step_through_the_suite(engines: FakeEngines) -> None:
    app = fake_app(suite_profile("small"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        editor = app.workbench.query_one(PromptEditor)
        assert editor.prompt == "Prompt one"
        assert editor.position == "prompt 1/3 (first)"
        await leave_prompt(pilot)
        await pilot.press("n")
        assert (editor.prompt, editor.system_prompt) == ("Prompt two", "Be brief.")
        assert editor.position == "prompt 2/3 (second)"
        await pilot.press("n", "n")
        assert editor.position == "prompt 1/3 (first)"  # wraps around
        await pilot.press("N")
        assert editor.prompt == "Prompt three" and editor.position == "prompt 3/3 (third)"


async def test_run_suite_runs_every_prompt_on_every_pane(engines: FakeEngines) -> None:
    app = fake_app(suite_profile("small", "large"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("R")
        await wait_until(
            pilot,
            lambda: (
                len(engines.last("small").requests) == 3
                and len(engines.last("large").requests) == 3
                and not app.workbench.suite.running
            ),
        )
        await wait_until(pilot, all_in(app, PaneState.DONE))
        for model in ("small", "large"):
            sent = engines.last(model).requests
            assert [r.prompt for r in sent] == ["Prompt one", "Prompt two", "Prompt three"]
            assert sent[1].system_prompt == "Be brief."
        editor = app.workbench.query_one(PromptEditor)
        assert editor.position == "prompt 3/3 (third)"
        assert all(pane.answer for pane in panes(app))


async def test_without_a_suite_n_says_so_and_shows_no_position(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("n")
        await pilot.pause()
        editor = app.workbench.query_one(PromptEditor)
        assert editor.prompt == "Why is the sky blue?" and editor.position == ""
        assert any("no prompt suite" in n.message for n in app._notifications)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Next prompt", "Previous prompt", "Run suite", "Quality × cost"} <= titles


async def test_suite_answers_carry_their_checks_and_fill_the_quality_view(
    engines: FakeEngines,
) -> None:
    from profiles.history import read_history
    from tui.screens.quality_view import QualityScreen

    checked = [
        SuitePrompt(id="a", text="Prompt one", expect={"contains": "word1"}),
        SuitePrompt(id="b", text="Prompt two", expect={"contains": "nope", "max_words": 50}),
    ]
    profile = make_profile("small", "large", prompt="").model_copy(update={"prompts": checked})
    app = fake_app(profile, engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        app.action_show_quality()
        await pilot.pause()
        assert not isinstance(app.screen, QualityScreen)  # nothing to show yet
        await pilot.press("R")
        await wait_until(pilot, lambda: len(app.suite_results) == 4, timeout=10)
        app.action_show_quality()
        await pilot.pause()
        assert isinstance(app.screen, QualityScreen)
        rows = {row.label: row for row in app.screen.rows}
        assert set(rows) == {"small", "large"}
        assert all((r.checks_passed, r.checks_total) == (2, 3) for r in rows.values())
        assert all(r.answers == 2 for r in rows.values())
    history, _ = read_history()
    tags = [r.suite for r in history]
    assert len(history) == 4 and all(tags)
    assert len({tag.run_id for tag in tags}) == 1
    assert sorted(tag.prompt_id for tag in tags) == ["a", "a", "b", "b"]


async def _first_prompt_only(engines: FakeEngines) -> str:
    """A session that answers only the suite's first prompt (ctrl+r), then quits; returns
    the suite run id its answers carry in the history."""
    from profiles.history import read_history

    app = fake_app(suite_profile("small", "large"), engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(read_history()[0]) == 2, timeout=10)
    history, _ = read_history()
    assert {r.suite.prompt_id for r in history if r.suite} == {"first"}
    return history[0].suite.run_id


async def test_run_suite_resumes_the_unfinished_run_in_the_history(engines: FakeEngines) -> None:
    from profiles.history import read_history

    run_id = await _first_prompt_only(engines)
    app = fake_app(suite_profile("small", "large"), engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("R")
        await wait_until(
            pilot,
            lambda: (
                len(engines.last("small").requests) == 2
                and len(engines.last("large").requests) == 2
                and not app.workbench.suite.running
            ),
            timeout=10,
        )
        await wait_until(pilot, lambda: len(read_history()[0]) == 6, timeout=10)
        for model in ("small", "large"):  # only the missing answers ran
            sent = engines.last(model).requests
            assert [r.prompt for r in sent] == ["Prompt two", "Prompt three"]
        assert any("resuming suite run" in n.message for n in app._notifications)
    history, _ = read_history()
    assert {r.suite.run_id for r in history if r.suite} == {run_id}  # one run, completed
    assert sorted(r.suite.prompt_id for r in history if r.suite) == sorted(
        ["first", "second", "third"] * 2
    )


async def test_run_suite_afresh_starts_a_new_run_from_the_first_prompt(
    engines: FakeEngines,
) -> None:
    from profiles.history import read_history

    run_id = await _first_prompt_only(engines)
    app = fake_app(suite_profile("small", "large"), engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await app.workbench.run_action("run_suite(True)")
        await wait_until(
            pilot,
            lambda: len(engines.last("small").requests) == 3 and not app.workbench.suite.running,
            timeout=10,
        )
        sent = engines.last("large").requests
        assert [r.prompt for r in sent] == ["Prompt one", "Prompt two", "Prompt three"]
        await wait_until(pilot, lambda: len(read_history()[0]) == 8, timeout=10)
    ids = {r.suite.run_id for r in read_history()[0] if r.suite}
    assert len(ids) == 2 and run_id in ids


async def test_an_unreadable_history_is_told_and_the_suite_runs_from_the_prompt_shown(
    engines: FakeEngines,
) -> None:
    from profiles.history import history_path

    history_path().mkdir(parents=True)  # a folder where the history file should be
    app = fake_app(suite_profile("small"), engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("R")
        await wait_until(
            pilot,
            lambda: len(engines.last("small").requests) == 3 and not app.workbench.suite.running,
            timeout=10,
        )
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("history: ") and "cannot be read" in m for m in messages)


async def test_opening_another_profile_leaves_the_last_ones_suite_answers_behind(
    engines: FakeEngines,
) -> None:
    app = fake_app(suite_profile("small"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("R")
        await wait_until(pilot, lambda: len(app.suite_results) == 3, timeout=10)
        assert app.open_profile("temperature-sweep")
        await pilot.pause()
        assert app.suite_results == {}  # its quality view starts empty
