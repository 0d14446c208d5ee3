"""Workbench behaviour found broken when llmbench was tried as a new user would (issue 12)
and the one table of actions (issue 13): save as, the sampling editor with linked
temperatures, the first prompt, the `t` field, the palette."""

from __future__ import annotations

import inspect

from test_app_flows import SIZE, leave_prompt, panes, ready, wait_until
from textual.widgets import Input, TextArea
from workbench_fakes import FakeEngines, fake_app, make_profile

from engines.types import SamplingParams
from profiles.store import default_path, load_profile, save_profile
from tui.keys import APP_ACTIONS, WORKBENCH_ACTIONS
from tui.palette import workbench_commands
from tui.screens.confirm import ConfirmScreen
from tui.screens.main import WorkbenchScreen
from tui.screens.sampling_editor import SamplingEditorScreen
from tui.screens.text_prompt import TextPromptScreen


async def save_as(pilot, app, name: str) -> None:
    await leave_prompt(pilot)
    await pilot.press("S")
    await wait_until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
    app.screen.query_one(Input).value = ""
    await pilot.press(*name, "enter")
    await pilot.pause()


async def test_save_as_switches_the_profile_so_ctrl_s_writes_the_new_name(
    engines: FakeEngines,
) -> None:
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await save_as(pilot, app, "my-copy")
        await wait_until(pilot, lambda: default_path("my-copy").exists())
        await wait_until(pilot, lambda: "my-copy" in app.title)
        assert "test-bench" not in app.title
        await pilot.press("right_square_bracket", "ctrl+s")
        await wait_until(pilot, lambda: "*" not in app.title)
        assert not default_path("test-bench").exists(), "ctrl+s wrote the old name"
        assert load_profile("my-copy").panes[0].sampling.temperature == 0.8


async def test_save_as_asks_before_overwriting_and_cancel_keeps_the_file(
    engines: FakeEngines,
) -> None:
    save_profile(make_profile("old-model").model_copy(update={"name": "taken"}))
    before = default_path("taken").read_text()
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await save_as(pilot, app, "taken")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert default_path("taken").read_text() == before
        assert app.profile.name == "test-bench"
        await save_as(pilot, app, "taken")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#yes")
        await wait_until(pilot, lambda: load_profile("taken").panes[0].model == "a")
        assert app.profile.name == "taken"


async def test_save_as_a_bundled_name_asks_first(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await save_as(pilot, app, "temperature-sweep")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not default_path("temperature-sweep").exists()


async def test_palette_deletes_a_saved_profile_and_restores_a_bundled_one(
    engines: FakeEngines,
) -> None:
    save_profile(make_profile("x").model_copy(update={"name": "mine"}))
    save_profile(make_profile("x").model_copy(update={"name": "temperature-sweep"}))
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        commands = {c.title: c for c in workbench_commands(app)}
        commands["Delete saved profile…"].callback()
        await wait_until(pilot, lambda: app.screen.query("#profiles"))
        options = app.screen.query_one("#profiles")
        assert {o.id for o in options.options} == {
            str(default_path("mine")),
            str(default_path("temperature-sweep")),
        }
        options.highlighted = [o.id for o in options.options].index(str(default_path("mine")))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#yes")
        await wait_until(pilot, lambda: not default_path("mine").exists())
        commands["Restore bundled profile…"].callback()
        await wait_until(pilot, lambda: app.screen.query("#profiles"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#yes")
        await wait_until(pilot, lambda: not default_path("temperature-sweep").exists())
        assert load_profile("temperature-sweep").panes[0].model != "x"


async def test_sampling_editor_with_linked_temperatures_keeps_every_edited_value(
    engines: FakeEngines,
) -> None:
    app = fake_app(make_profile("a", "b", "c"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        first, second, third = panes(app)
        await leave_prompt(pilot)
        await pilot.press("l")
        second.set_sampling(second.sampling.with_changes(temperature=1.5))
        app.workbench.grid.select_pane(first)

        async def edit(**values: str) -> None:
            await pilot.press("e")
            await wait_until(pilot, lambda: isinstance(app.screen, SamplingEditorScreen))
            for name, text in values.items():
                app.screen.query_one(f"#field-{name}", Input).value = text
            await pilot.click("#apply")
            await wait_until(pilot, lambda: not isinstance(app.screen, SamplingEditorScreen))
            await pilot.pause()

        await edit(top_k="7", max_tokens="99")
        assert (first.sampling.top_k, first.sampling.max_tokens) == (7, 99)
        assert second.sampling.temperature == 1.5, "an unchanged temperature was copied over"
        assert second.sampling.top_k == SamplingParams().top_k
        await edit(temperature="0.3", min_p="0.2")
        assert [p.sampling.temperature for p in (first, second, third)] == [0.3, 0.3, 0.3]
        assert (first.sampling.min_p, first.sampling.top_k) == (0.2, 7)
        assert third.sampling.min_p == SamplingParams().min_p


async def test_first_focus_selects_the_prompt_so_typing_replaces_it(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a", prompt="Why is the sky blue?"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        prompt = app.workbench.query_one("#prompt", TextArea)
        assert app.focused is prompt
        await pilot.press(*"Hello")
        assert prompt.text == "Hello"
        await pilot.press("ctrl+a", *"Bye")
        assert prompt.text == "Bye"
        await pilot.press("ctrl+l")
        assert prompt.text == ""
        keys = {key for key, b in app.screen.active_bindings.items() if b.binding.show}
        assert {"ctrl+a", "ctrl+l"} <= keys


async def test_t_returns_the_cursor_and_temperature_fields_are_not_tab_stops(
    engines: FakeEngines,
) -> None:
    app = fake_app(make_profile("a", "b"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        prompt = app.workbench.query_one("#prompt", TextArea)
        chain = app.screen.focus_chain
        assert not any(widget.id == "temperature" for widget in chain)
        await leave_prompt(pilot)
        await pilot.press("p", "escape")
        prompt.focus()
        await pilot.pause()
        app.workbench.action_type_temperature()
        await pilot.pause()
        assert getattr(app.focused, "id", None) == "temperature"
        await pilot.press(*"1.2", "enter")
        await pilot.pause()
        assert panes(app)[0].sampling.temperature == 1.2
        assert app.focused is prompt, "the next keys would type into the temperature field"
        await leave_prompt(pilot)
        await pilot.press("t", *"0.4", "enter")
        await pilot.pause()
        assert panes(app)[0].sampling.temperature == 0.4
        assert not isinstance(app.focused, Input)


async def test_clicking_the_temperature_field_still_focuses_it(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.click("#pane-0 #temperature")
        await pilot.pause()
        assert getattr(app.focused, "id", None) == "temperature"


def test_bindings_and_palette_come_from_the_one_table() -> None:
    from tui.app import WorkbenchApp

    for actions, owner in ((WORKBENCH_ACTIONS, WorkbenchScreen), (APP_ACTIONS, WorkbenchApp)):
        for action in actions:
            method = getattr(owner, action.method_name)
            assert inspect.isfunction(method), action
        bound = {b.action for b in owner.BINDINGS}
        assert bound == {a.action_text for a in actions if a.key}


async def test_the_palette_runs_the_table_actions(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        titles = [c.title for c in workbench_commands(app)]
        wanted = [a.title for a in WORKBENCH_ACTIONS + APP_ACTIONS if a.title]
        assert titles == wanted
        commands = {c.title: c for c in workbench_commands(app)}
        commands["Temperature up"].callback()
        await pilot.pause()
        assert panes(app)[0].sampling.temperature == 0.8
