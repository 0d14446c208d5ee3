"""A finished answer as Markdown and back (`M`), and mouse selection of part of an answer."""

from __future__ import annotations

import time

from workbench_fakes import FakeEngines, fake_app, make_profile

from engines.fake import FakeScript
from tui.pane_controller import PaneState
from tui.widgets.answer_markdown import AnswerMarkdown
from tui.widgets.answer_view import AnswerView

SIZE = (120, 40)
ANSWER = (
    "Three things:\n\n"
    "- **mass** bends space\n"
    "- nothing escapes\n\n"
    "```python\nprint('event horizon')\n```\n\n"
    "| object | radius |\n| --- | --- |\n| Sgr A* | 12 Gm |\n"
)
TOKENS = tuple(ANSWER[i : i + 7] for i in range(0, len(ANSWER), 7))


async def wait_until(pilot, condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        await pilot.pause(0.02)


async def finished_app(pilot, app) -> None:
    await wait_until(pilot, lambda: all(p.state is PaneState.READY for p in app.workbench.panes))
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: all(p.state is PaneState.DONE for p in app.workbench.panes))
    await pilot.press("escape")
    await pilot.pause()


async def test_shift_m_shows_a_finished_answer_as_markdown_and_back():
    engines = FakeEngines(default=FakeScript(tokens=TOKENS))
    app = fake_app(make_profile("small"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await finished_app(pilot, app)
        pane = app.workbench.panes[0]
        raw, rendered = pane.query_one(AnswerView), pane.query_one(AnswerMarkdown)
        assert pane.answer == ANSWER
        assert raw.display and not rendered.display
        await pilot.press("M")
        await pilot.pause()
        assert pane.answer_area.showing_markdown and rendered.display and not raw.display
        assert rendered.answer == ANSWER
        kinds = {type(block).__name__ for block in rendered.query("*")}
        assert {"MarkdownBulletList", "MarkdownFence", "MarkdownTable"} <= kinds, kinds
        await pilot.press("M")
        await pilot.pause()
        assert not pane.answer_area.showing_markdown and raw.display and not rendered.display


async def test_markdown_waits_for_the_answer_to_finish():
    slow = FakeScript(tokens=tuple(f"t{i} " for i in range(300)), token_delay_s=0.01)
    app = fake_app(make_profile("small"), FakeEngines(default=slow))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.workbench.panes[0].state is PaneState.READY)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.workbench.panes[0].state is PaneState.GENERATING)
        await pilot.press("escape")  # leave the prompt; escape also stops: run again
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.workbench.panes[0].state is PaneState.GENERATING)
        pane = app.workbench.panes[0]
        assert await pane.toggle_markdown() is not None
        assert not pane.answer_area.showing_markdown


async def test_a_new_run_goes_back_to_raw_text():
    engines = FakeEngines(default=FakeScript(tokens=TOKENS))
    app = fake_app(make_profile("small"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await finished_app(pilot, app)
        pane = app.workbench.panes[0]
        await pilot.press("M")
        await pilot.pause()
        assert pane.answer_area.showing_markdown
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not pane.answer_area.showing_markdown


async def test_dragging_the_mouse_selects_part_of_the_raw_answer():
    engines = FakeEngines(default=FakeScript(tokens=TOKENS))
    app = fake_app(make_profile("small"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await finished_app(pilot, app)
        view = app.workbench.panes[0].query_one(AnswerView)
        assert view.wrapped_lines[2] == "- **mass** bends space"
        await pilot.mouse_down(view, offset=(2, 2))
        await pilot.hover(view, offset=(9, 2))
        await pilot.mouse_up(view, offset=(9, 2))
        await pilot.pause()
        assert app.screen.get_selected_text() == "**mass**"


async def test_dragging_selects_in_the_markdown_view_too():
    engines = FakeEngines(default=FakeScript(tokens=TOKENS))
    app = fake_app(make_profile("small"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await finished_app(pilot, app)
        await pilot.press("M")
        await pilot.pause()
        rendered = app.workbench.panes[0].query_one(AnswerMarkdown)
        first = rendered.query("MarkdownParagraph").first()
        await pilot.mouse_down(first, offset=(0, 0))
        await pilot.hover(first, offset=(4, 0))
        await pilot.mouse_up(first, offset=(4, 0))
        await pilot.pause()
        assert app.screen.get_selected_text() == "Three"
