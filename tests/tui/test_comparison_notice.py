"""On a short terminal the comparison waits behind a key; the notice names keys that work."""

from __future__ import annotations

from test_app_flows import all_in, leave_prompt, ready, wait_until
from textual.widgets import TextArea
from workbench_fakes import FakeEngines, fake_app, make_profile

from tui.pane_controller import PaneState

SHORT = (80, 24)


async def run_and_collect_notices(pilot, app, *, from_prompt: bool) -> list[str]:
    notices: list[str] = []
    app.workbench.notify = lambda message, **_: notices.append(message)
    await ready(pilot, app)
    if not from_prompt:
        await leave_prompt(pilot)
    await pilot.press("ctrl+r")
    await wait_until(pilot, all_in(app, PaneState.DONE))
    await pilot.pause()
    return notices


async def test_from_the_prompt_the_notice_says_to_leave_it_first(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small", "large"), engines)
    async with app.run_test(size=SHORT) as pilot:
        notices = await run_and_collect_notices(pilot, app, from_prompt=True)
        assert isinstance(app.focused, TextArea)
        assert notices == ["the comparison is ready: press esc, then c, to see it"]
        comparison = app.workbench.query_one("#comparison")
        assert not comparison.display
        await pilot.press("escape", "c")
        assert comparison.display


async def test_outside_a_text_field_c_is_enough(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small", "large"), engines)
    async with app.run_test(size=SHORT) as pilot:
        notices = await run_and_collect_notices(pilot, app, from_prompt=False)
        assert notices == ["the comparison is ready: press c to see it"]
        await pilot.press("c")
        assert app.workbench.query_one("#comparison").display
