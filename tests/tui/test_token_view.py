"""The token view (`v`), its cursor and candidate panel, and where answers part (`w`),
on fake engines that send scripted token records (`engines.fake.fake_token_record`)."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Static
from tui_waits import all_in, ready, wait_until
from workbench_fakes import FakeEngines, fake_app, make_profile

from engines.fake import FakeScript
from engines.temperature_lens import lens_probabilities
from tui.pane_controller import PaneState
from tui.screens.answer_parting import AnswerPartingScreen
from tui.widgets.candidate_panel import candidate_rows
from tui.widgets.token_view import TokenView, band

SIZE = (120, 40)
WORDS = tuple(f"w{i} " for i in range(30))


async def run_to_done(pilot, app) -> None:
    await ready(pilot, app)
    await pilot.press("ctrl+r")
    await wait_until(pilot, all_in(app, PaneState.DONE))
    await pilot.press("escape")  # leave the prompt: letter keys act on the panes
    await pilot.pause()


async def test_v_shows_tokens_coloured_and_the_cursor_moves_with_keys() -> None:
    engines = FakeEngines(default=FakeScript(tokens=WORDS))
    app = fake_app(make_profile("a", "b"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_done(pilot, app)
        pane = app.workbench.current_pane
        await pilot.press("v")
        await pilot.pause()
        assert all(p.answer_area.tokens_on for p in app.workbench.panes)
        view = pane.answer_area.tokens.view
        assert app.focused is view
        assert "".join(view.wrapped_lines) == "".join(WORDS)
        assert view.cursor == 0
        await pilot.press("right", "right", "right")
        assert view.cursor == 3
        panel = pane.answer_area.tokens.panel
        assert panel.record is pane.answer_area.token_records[3]
        await pilot.press("end")
        assert view.cursor == len(WORDS) - 1
        await pilot.press("right")  # stays on the last token
        assert view.cursor == len(WORDS) - 1
        await pilot.press("home", "left")
        assert view.cursor == 0
        assert panel.record is pane.answer_area.token_records[0]
        await pilot.press("v")
        await pilot.pause()
        assert not pane.answer_area.tokens_on and pane.answer == "".join(WORDS)


async def test_a_click_puts_the_cursor_on_the_token_clicked() -> None:
    engines = FakeEngines(default=FakeScript(tokens=WORDS))
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_done(pilot, app)
        await pilot.press("v")
        await pilot.pause()
        view = app.workbench.current_pane.answer_area.tokens.view
        column = len("".join(WORDS[:5])) + 1  # inside "w5 "
        await pilot.click(TokenView, offset=(column, 0))
        await pilot.pause()
        assert view.cursor == 5
        assert app.workbench.current_pane.answer_area.tokens.panel.record.text == "w5 "


async def test_the_panel_shows_candidates_the_chosen_marked_and_the_lens() -> None:
    engines = FakeEngines(default=FakeScript(tokens=WORDS))
    app = fake_app(make_profile("a", temperature=0.9), engines)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_done(pilot, app)
        await pilot.press("v")
        await pilot.pause()
        pane = app.workbench.current_pane
        await pilot.press("right", "right", "right", "right")  # w4: a rival is more likely
        await pilot.pause()
        record = pane.answer_area.token_records[4]
        assert record.rank == 2
        shown = pane.answer_area.tokens.panel.content
        text = _render_text(shown)
        assert "token 5/30" in text and "rank 2" in text
        for header in ("T.2", "T.7", "T1", "T1.5", "now.9"):
            assert header in text
        chosen_line = next(line for line in text.splitlines() if "▸" in line)
        assert "w4" in chosen_line
        # the lens at 0.2 gives the rival (its logit is higher) most of the mass
        rows = candidate_rows(record)
        cold = lens_probabilities(rows, 0.2)
        assert rows[0].text == "alt1" and cold[0] > 0.9
        rival_line = next(line for line in text.splitlines() if "alt1" in line)
        assert rival_line.split()[3] == f"{cold[0]:.2f}".lstrip("0")


def _render_text(renderable) -> str:
    from rich.console import Console

    console = Console(width=110, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_colour_bands_follow_the_chosen_tokens_probability() -> None:
    assert [band(p) for p in (0.95, 0.9, 0.7, 0.4, 0.2, 0.05)] == [0, 0, 1, 2, 3, 4]


async def test_a_server_without_probabilities_says_the_token_view_is_unavailable() -> None:
    engines = FakeEngines(default=FakeScript(tokens=WORDS, token_probabilities=False))
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_done(pilot, app)
        pane = app.workbench.current_pane
        assert engines.last("a").requests[-1].top_candidates == 0
        await pilot.press("v")
        await pilot.pause()
        text = _render_text(pane.answer_area.tokens.panel.content)
        assert "token view unavailable" in text


async def test_w_marks_where_two_answers_part_and_shows_each_ones_candidates() -> None:
    same = tuple(f"s{i} " for i in range(6))
    engines = FakeEngines(
        scripts={
            "cold": FakeScript(tokens=same + ("blue ", "sky ")),
            "hot": FakeScript(tokens=same + ("green ", "sea ")),
        }
    )
    app = fake_app(make_profile("cold", "hot"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_done(pilot, app)
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, AnswerPartingScreen))
        screen = app.screen
        assert [p.token_index for p in screen.divergence.partings] == [6, 6]
        text = _render_text(screen.query_one("#parting", Static).content)
        assert "blue" in text and "green" in text and "cold" in text and "hot" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, AnswerPartingScreen))
        for pane in app.workbench.panes:
            assert pane.answer_area.tokens_on
            assert pane.answer_area.tokens.view.parting == 6
            assert pane.answer_area.tokens.view.cursor == 6


async def test_w_with_one_pane_or_equal_answers_says_why_and_opens_nothing() -> None:
    engines = FakeEngines(default=FakeScript(tokens=WORDS))
    app = fake_app(make_profile("a", "b"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.press("w")  # nothing has run
        await pilot.pause()
        assert not isinstance(app.screen, AnswerPartingScreen)
        await run_to_done(pilot, app)
        await pilot.press("w")  # both answers are the same
        await pilot.pause()
        assert not isinstance(app.screen, AnswerPartingScreen)
        assert any("same" in n.message for n in app._notifications)


async def test_stats_line_and_comparison_show_the_answer_summary() -> None:
    engines = FakeEngines(default=FakeScript(tokens=WORDS))
    app = fake_app(make_profile("a", "b"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_done(pilot, app)
        pane = app.workbench.current_pane
        stats = pane.controller.stats
        assert stats.mean_logprob is not None and stats.mean_logprob < 0
        line = _render_text(pane.query_one("PaneStats").content)
        assert f"logp {stats.mean_logprob:.2f}" in line
        assert f"ppl {stats.perplexity:.2f}" in line and f"H {stats.mean_entropy:.2f}" in line
        from tui.widgets.comparison_table import measured_columns

        rows = [(p.label, p.controller.stats, None) for p in app.workbench.panes]
        shown, _ = measured_columns(rows)
        assert {"logp", "ppl", "entropy"} <= {column.key for column in shown}


class ViewApp(App):
    def compose(self):
        yield TokenView()


def records_for(*texts: str, special: tuple[int, ...] = ()) -> list:
    from engines.types import TokenCandidate, TokenProbabilities

    out = []
    for index, text in enumerate(texts):
        chosen = TokenCandidate(index, text, 0.5, 1.0, index in special)
        out.append(
            TokenProbabilities(index, index, text, 0.5, 1, 1.0, (chosen,), (chosen,), 0.1, 1, 0.7)
        )
    return out


async def test_line_breaks_long_tokens_and_appends_lay_out_as_drawn() -> None:
    app = ViewApp()
    async with app.run_test(size=(20, 8)) as pilot:
        view = app.query_one(TokenView)
        records = records_for("Hi", "\n", "x" * 30, "<eot>", "", special=(3,))
        view.sync(records[:2])
        assert view.wrapped_lines == ["Hi↵"]
        view.sync(records)  # the same list, grown: only the new tokens are laid out
        width = view._wrap_width
        assert view.wrapped_lines[1:] == ["x" * width, "x" * (30 - width) + "<eot>∅"]
        await pilot.press("down")
        assert view.cursor == 2  # "Hi" → the line below starts the long token
        await pilot.press("end", "up")
        assert view.cursor == 2
        await pilot.resize_terminal(14, 8)
        await pilot.pause()
        assert view._wrap_width < width and view.cursor == 2
        assert "".join(view.wrapped_lines) == "Hi↵" + "x" * 30 + "<eot>∅"
        view.sync(records_for("new"))  # another list: a new run
        assert view.wrapped_lines == ["new"] and view.cursor == 0 and view.parting is None


async def test_the_token_view_fills_while_the_answer_streams_and_end_follows_it() -> None:
    slow = FakeScript(tokens=WORDS, token_delay_s=0.03, batch_size=2)
    app = fake_app(make_profile("a"), FakeEngines(default=slow))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("escape", "v")  # on before the run
        pane = app.workbench.current_pane
        view = pane.answer_area.tokens.view
        assert app.focused is view
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: 2 <= len(view.records) < len(WORDS))
        await pilot.press("end")
        await wait_until(pilot, all_in(app, PaneState.DONE))
        assert "".join(view.wrapped_lines) == "".join(WORDS)
        assert view.cursor == len(WORDS) - 1  # it followed the answer to its end
        assert pane.answer_area.tokens.panel.record is pane.answer_area.token_records[-1]
        await pilot.pause(0.2)  # the finished run is recorded before the app closes


async def test_markdown_and_the_token_view_take_turns() -> None:
    engines = FakeEngines(default=FakeScript(tokens=WORDS))
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_done(pilot, app)
        pane = app.workbench.current_pane
        await pane.toggle_markdown()
        assert pane.answer_area.showing_markdown
        await pilot.press("v")
        await pilot.pause()
        assert pane.answer_area.tokens_on and not pane.answer_area.showing_markdown
        await pane.toggle_markdown()
        await pilot.pause()
        assert pane.answer_area.showing_markdown and not pane.answer_area.tokens_on


async def test_a_run_with_the_token_view_on_streams_into_the_tokens_not_under_them() -> None:
    engines = FakeEngines(default=FakeScript(tokens=WORDS))
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_done(pilot, app)
        pane = app.workbench.current_pane
        await pilot.press("v")
        await pilot.press("ctrl+r")  # runs again with the tokens shown
        await wait_until(pilot, all_in(app, PaneState.DONE))
        area = pane.answer_area
        assert area.tokens_on and area.tokens.display
        assert not area.text_view.display  # the text stays hidden under the tokens
        assert "".join(area.tokens.view.wrapped_lines) == "".join(WORDS)
