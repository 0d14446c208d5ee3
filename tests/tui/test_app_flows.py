"""Pilot flows through the workbench with fake engines: run, stop, temperature, panes, profiles."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
from textual.widgets import Input
from workbench_fakes import FakeEngines, fake_app, make_profile

from engines.fake import FakeScript
from profiles.history import read_history
from profiles.store import load_profile
from tui.pane_controller import PaneState
from tui.screens.help import HelpScreen
from tui.screens.open_profile import OpenProfileScreen
from tui.screens.sampling_editor import SamplingEditorScreen
from tui.screens.text_prompt import TextPromptScreen
from tui.widgets.answer_view import AnswerView
from tui.widgets.model_pane import ModelPane

SIZE = (120, 40)
SLOW = FakeScript(tokens=tuple(f"t{i} " for i in range(400)), token_delay_s=0.01, batch_size=2)
"""About four seconds of tokens: long enough to act while it generates."""


async def wait_until(pilot, condition, timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition.__doc__ or condition}")
        await pilot.pause(0.02)


def panes(app) -> list[ModelPane]:
    return app.workbench.panes


def all_in(app, *states: PaneState):
    def check() -> bool:
        return all(pane.state in states for pane in panes(app))

    return check


async def ready(pilot, app) -> None:
    await wait_until(pilot, all_in(app, PaneState.READY, PaneState.ERROR))


async def leave_prompt(pilot) -> None:
    """Escape leaves the prompt, so the letter keys act on the current pane."""
    await pilot.press("escape")
    await pilot.pause()


async def test_run_streams_every_pane_and_keeps_results_in_history(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small", "large"), engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, all_in(app, PaneState.DONE))
        expected = "".join(engines.default.tokens)
        assert [pane.answer for pane in panes(app)] == [expected, expected]
        assert engines.last("small").requests[0].prompt == "Why is the sky blue?"
        await wait_until(pilot, lambda: len(app.results) == 2)
        assert app.workbench.query_one("#comparison").display
    results, warnings = read_history()
    assert warnings == []
    assert sorted(result.pane_label for result in results) == ["large", "small"]
    assert all(result.text == expected for result in results)


async def test_f5_runs_too_and_an_empty_prompt_does_not(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small", prompt=""), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("f5")
        await pilot.pause(0.1)
        assert engines.last("small").requests == []
        await pilot.press(*"Hi")
        await pilot.press("f5")
        await wait_until(pilot, all_in(app, PaneState.DONE))
        assert engines.last("small").requests[0].prompt == "Hi"


async def test_stop_cancels_every_generation(engines: FakeEngines) -> None:
    engines.default = SLOW
    app = fake_app(make_profile("small", "large"), engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: all(len(p.answer) > 10 for p in panes(app)))
        await pilot.press("escape")
        await wait_until(pilot, all_in(app, PaneState.STOPPED))
        for pane in panes(app):
            assert pane.controller.stats.stop_reason == "cancelled"
            assert len(pane.answer) < len("".join(SLOW.tokens))
        await wait_until(pilot, lambda: len(app.results) == 2)
        # a stopped run is exported as what it is (issue 12), never history
        assert {r.figures.stop_reason for r in app.results.values()} == {"cancelled"}
    assert read_history()[0] == []


async def test_run_while_loading_is_queued(engines: FakeEngines) -> None:
    engines.load_gate = threading.Event()
    app = fake_app(make_profile("small"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        pane = panes(app)[0]
        await wait_until(pilot, lambda: pane.controller is not None)
        assert pane.state is PaneState.LOADING
        assert "run queued" in str(pane.border_subtitle)
        engines.load_gate.set()
        await wait_until(pilot, all_in(app, PaneState.DONE))
        assert pane.answer == "".join(engines.default.tokens)


async def test_nudge_changes_only_the_current_pane_and_clamps(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small", "large", temperature=0.7), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket")
        first, second = panes(app)
        assert first.sampling.temperature == 0.9
        assert second.sampling.temperature == 0.7
        await pilot.press(*["left_square_bracket"] * 12)
        assert first.sampling.temperature == 0.0
        assert "*" in app.title, "a changed temperature is an unsaved change"


async def test_letter_keys_type_into_the_prompt(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small", prompt=""), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("right_square_bracket", "l", "q")
        assert app.workbench.current_profile().prompt == "]lq"
        assert panes(app)[0].sampling.temperature == 0.7
        assert app.is_running


async def test_link_moves_every_pane(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a", "b", "c", temperature=0.5), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("l", "right_square_bracket")
        assert [p.sampling.temperature for p in panes(app)] == [0.6, 0.6, 0.6]
        await pilot.press("l", "right_square_bracket")
        assert [p.sampling.temperature for p in panes(app)] == [0.7, 0.6, 0.6]


async def test_live_change_applies_from_the_next_token_and_is_marked(engines: FakeEngines) -> None:
    engines.default = SLOW
    app = fake_app(make_profile("small", temperature=0.7), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        pane = panes(app)[0]
        await wait_until(pilot, lambda: len(pane.answer) > 20)
        app.workbench.action_nudge_temperature(0.2)
        await wait_until(pilot, lambda: "⟨T=0.9⟩" in pane.query_one(AnswerView).text_with_markers)
        await pilot.press("escape")
        await wait_until(pilot, all_in(app, PaneState.STOPPED))
        (change,) = pane.controller.stats.sampling_changes
        assert change.sampling.temperature == 0.9
        shown = pane.query_one(AnswerView).text_with_markers
        before_marker = shown.split("⟨T=0.9⟩")[0]
        assert before_marker == "".join(SLOW.tokens[: change.at_token])
        assert "⟨T=" not in pane.answer, "markers are not part of the answer"


async def test_rerun_on_change_generates_again_with_the_new_value(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small", temperature=0.7), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, all_in(app, PaneState.DONE))
        await leave_prompt(pilot)
        await pilot.press("right_square_bracket")
        await pilot.pause(0.1)
        assert len(engines.last("small").requests) == 1, "re-run on change is off by default"
        await pilot.press("r", "right_square_bracket")
        await wait_until(pilot, lambda: len(engines.last("small").requests) == 2)
        await wait_until(pilot, all_in(app, PaneState.DONE))
        assert engines.last("small").requests[-1].sampling.temperature == 0.9
        assert "re-run on change" in app.workbench.sub_title


async def test_typing_an_exact_temperature(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small", "large"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("t")
        await pilot.press(*"1.35", "enter")
        assert panes(app)[0].sampling.temperature == 1.35
        await pilot.press("escape", "t", "7", "enter")
        await pilot.pause()
        assert panes(app)[0].sampling.temperature == 1.35
        assert any("must be 0 to 2" in n.message for n in app._notifications)


async def test_sampling_editor_changes_the_other_values(engines: FakeEngines) -> None:
    app = fake_app(make_profile("small"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, SamplingEditorScreen))
        editor = app.screen
        editor.query_one("#field-top_k").value = "5000"
        await pilot.press("enter")
        await pilot.pause()
        assert "top_k" in str(editor.query_one(".sampling--error").render()), "the range is stated"
        editor.query_one("#field-top_k").value = "12"
        editor.query_one("#field-seed").value = "7"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, SamplingEditorScreen))
        sampling = panes(app)[0].sampling
        assert (sampling.top_k, sampling.seed) == (12, 7)


async def test_add_and_remove_panes(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a", "b"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        bench = app.workbench
        bench.add_pane("c")
        bench.add_pane("d")
        await wait_until(pilot, lambda: len(panes(app)) == 4)
        await ready(pilot, app)
        assert [p.label for p in panes(app)] == ["a", "b", "c", "d"]
        await pilot.press("ctrl+r")
        await wait_until(pilot, all_in(app, PaneState.DONE))
        await leave_prompt(pilot)
        removed = bench.current_pane
        await pilot.press("d")
        await pilot.pause()
        assert removed not in panes(app) and len(panes(app)) == 3
        await wait_until(pilot, lambda: not engines.last(removed.label).alive)
        assert [spec.model for spec in bench.current_profile().panes] == [
            p.label for p in panes(app)
        ]


async def test_the_add_key_asks_for_a_model(engines: FakeEngines, monkeypatch) -> None:
    monkeypatch.setattr(
        "tui.screens.choose_model.choose_model_screen", lambda: TextPromptScreen("model")
    )
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        await pilot.press(*"extra", "enter")
        await wait_until(pilot, lambda: [p.label for p in panes(app)] == ["a", "extra"])


async def test_narrow_terminal_stacks_the_panes(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a", "b"), engines)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        first, second = panes(app)
        assert app.workbench.has_class("-narrow")
        assert second.region.y > first.region.y and second.region.x == first.region.x
    app = fake_app(make_profile("a", "b"), engines)
    async with app.run_test(size=(140, 30)) as pilot:
        await ready(pilot, app)
        first, second = panes(app)
        assert not app.workbench.has_class("-narrow")
        assert second.region.x > first.region.x and second.region.y == first.region.y


async def test_a_failing_pane_stays_in_its_pane(engines: FakeEngines) -> None:
    engines.scripts = {
        "broken": FakeScript(fail_generation="out of context: prompt is 3000 tokens, context 2048"),
        "noload": FakeScript(fail_load="not a GGUF file"),
    }
    app = fake_app(
        make_profile("good", "broken", "noload", "missing:nowhere"), engines, history=True
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: panes(app)[2].state is PaneState.ERROR)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: panes(app)[0].state is PaneState.DONE)
        await wait_until(pilot, lambda: panes(app)[1].state is PaneState.ERROR)
        good, broken, noload, missing = panes(app)
        assert "out of context" in str(broken.border_subtitle)
        assert "load failed: not a GGUF file" in str(noload.border_subtitle)
        assert "no model file at missing:nowhere" in str(missing.border_subtitle)
        assert (
            "✗ no model file at missing:nowhere" in missing.query_one(AnswerView).text_with_markers
        )
        assert good.answer == "".join(engines.default.tokens)
        await wait_until(pilot, lambda: len(app.results) == 2)  # the failed run is exported
    results, _ = read_history()  # ...but only the finished one is history
    assert [r.pane_label for r in results] == ["good"]


async def test_a_crashed_worker_shows_why_and_running_again_starts_a_new_one(
    engines: FakeEngines,
) -> None:
    engines.scripts = {"fragile": FakeScript(crash_after_tokens=3, batch_size=1)}
    app = fake_app(make_profile("fragile", "steady"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: panes(app)[0].state is PaneState.CRASHED)
        await wait_until(pilot, lambda: panes(app)[1].state is PaneState.DONE)
        fragile = panes(app)[0]
        assert "worker crashed: killed by signal 9" in str(fragile.border_subtitle)
        shown = fragile.query_one(AnswerView).text_with_markers
        assert "⟨crashed⟩" in shown and "✗ worker crashed: killed by signal 9" in shown
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(engines.handles["fragile"]) == 2)
        await wait_until(pilot, lambda: fragile.state is PaneState.CRASHED)
        assert engines.handles["fragile"][1].requests, "the queued run went to the new worker"


async def test_sequential_mode_runs_one_pane_at_a_time(engines: FakeEngines) -> None:
    engines.default = FakeScript(tokens=tuple(f"t{i} " for i in range(40)), token_delay_s=0.01)
    app = fake_app(make_profile("first", "second", mode="sequential"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, all_in(app, PaneState.DONE), timeout=10)
        first, second = engines.last("first"), engines.last("second")
        assert second.generate_times[0] > first.finished_times[0], "the second waited for the first"
        assert first.requests[0].prompt == second.requests[0].prompt


async def test_save_marks_clean_and_open_restores_the_profile(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a", "b", prompt="first prompt"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        assert "*" not in app.title
        await pilot.press("end", *" edited")
        await wait_until(pilot, lambda: "*" in app.title)
        await leave_prompt(pilot)
        await pilot.press("right_square_bracket", "ctrl+s")
        await wait_until(pilot, lambda: "*" not in app.title)
        saved = load_profile("test-bench")
        assert saved.prompt == "first prompt edited"
        assert saved.panes[0].sampling.temperature == 0.8
        assert saved.panes[1].sampling.temperature is None

        old_handles = [engines.last("a"), engines.last("b")]
        assert app.open_profile("temperature-sweep")
        await pilot.pause()
        assert app.profile.name == "temperature-sweep"
        assert "temperature-sweep" in app.title
        await wait_until(pilot, lambda: not any(handle.alive for handle in old_handles))

        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, OpenProfileScreen))
        options = app.screen.query_one("#profiles")
        wanted = next(
            i
            for i in range(options.option_count)
            if options.get_option_at_index(i).id.endswith("test-bench.toml")
        )
        options.highlighted = wanted
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.profile.name == "test-bench")
        assert app.workbench.current_profile().prompt == "first prompt edited"
        assert [p.sampling.temperature for p in panes(app)] == [0.8, 0.7]


async def test_an_edit_undone_is_not_an_unsaved_change(engines: FakeEngines) -> None:
    profile = make_profile("a", "b", temperature=0.7)
    profile.panes[0].sampling.temperature = 0.7  # an explicit override equal to the default
    app = fake_app(profile, engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("right_square_bracket")
        assert "*" in app.title
        await pilot.press("left_square_bracket")
        assert "*" not in app.title


async def test_save_as_asks_for_a_valid_name(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("S")
        await wait_until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        field = app.screen.query_one(Input)
        field.value = ""
        await pilot.press(*"bad name!", "enter")
        await pilot.pause()
        assert "not a profile name" in str(app.screen.query_one(".prompt--error").render())
        field.value = ""
        await pilot.press(*"my-copy", "enter")
        await wait_until(pilot, lambda: app.profile.name == "my-copy")
        assert load_profile("my-copy").panes[0].model == "a"


async def test_export_and_copy_answer(engines: FakeEngines, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = fake_app(make_profile("small", "large"), engines)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await leave_prompt(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert any("nothing to export" in n.message for n in app._notifications)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(app.results) == 2)
        await leave_prompt(pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: list(tmp_path.glob("llmbench-test-bench-*.md")))
        markdown = next(tmp_path.glob("*.md")).read_text()
        assert "small" in markdown and "large" in markdown
        app.action_export("json", str(tmp_path / "out.json"))
        await wait_until(pilot, lambda: (tmp_path / "out.json").exists())
        document = json.loads((tmp_path / "out.json").read_text())
        assert [r["pane_label"] for r in document["results"]] == ["small", "large"]
        await pilot.press("y")
        assert copied == ["".join(engines.default.tokens)]


async def test_help_lists_the_bindings(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        table = app.screen.query_one("DataTable")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        keys_by_action = {row[2]: row[1] for row in rows}
        assert "ctrl+r / f5" in keys_by_action["Run the prompt on every pane"]
        assert (
            keys_by_action["Raise the temperature by 0.1 (current pane, or all when linked)"] == "]"
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_every_action_is_in_the_command_palette(engines: FakeEngines) -> None:
    app = fake_app(make_profile("a"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for title in (
            "Run",
            "Stop",
            "Temperature up",
            "Link temperatures",
            "Re-run on change",
            "Add pane…",
            "Remove pane",
            "Open profile…",
            "Save profile",
            "Save profile as…",
            "Export Markdown",
            "Export JSON",
            "Copy answer",
            "Help: keys",
        ):
            assert title in titles
        (run,) = [c for c in app.get_system_commands(app.screen) if c.title == "Run"]
        run.callback()
        await wait_until(pilot, all_in(app, PaneState.DONE))


async def test_quit_closes_every_worker(engines: FakeEngines) -> None:
    engines.default = SLOW
    app = fake_app(make_profile("a", "b"), engines)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running)
    assert all(not engines.last(label).alive for label in ("a", "b"))


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
@pytest.mark.parametrize("signal_name", ["SIGHUP", "SIGTERM"])
async def test_a_hangup_quits_cleanly_and_keeps_finished_results(
    engines: FakeEngines, signal_name: str
) -> None:
    """SIGHUP is what an SSH session that drops sends; SIGTERM what `kill` sends."""
    app = fake_app(make_profile("a", "b"), engines, history=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, all_in(app, PaneState.DONE))
        os.kill(os.getpid(), getattr(signal, signal_name))
        await wait_until(pilot, lambda: not app.is_running)
    assert all(not engines.last(label).alive for label in ("a", "b"))
    results, _ = read_history()
    assert sorted(r.pane_label for r in results) == ["a", "b"]


def test_startup_profile_from_the_command_line_options() -> None:
    from tui.launch import LaunchError, startup_profile

    default = startup_profile(None, [])
    assert default.name == "small-vs-large" and len(default.panes) == 2 and default.prompt
    models = startup_profile(None, ["demo:smollm2-135m", "/tmp/x.gguf"])
    assert models.name == "models"
    assert [p.model for p in models.panes] == ["demo:smollm2-135m", "/tmp/x.gguf"]
    assert models.prompt == default.prompt, "ready to run with the demo prompt"
    swept = startup_profile("temperature-sweep", ["demo:gemma3-270m"])
    assert swept.name == "temperature-sweep" and [p.model for p in swept.panes] == [
        "demo:gemma3-270m"
    ]
    with pytest.raises(LaunchError, match="no-such-profile"):
        startup_profile("no-such-profile", [])


def test_the_command_line_rejects_a_bad_profile_in_one_line(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\n[sampling]\ntemprature = 3\n[[panes]]\nmodel = "demo:smollm2-135m"\n'
    )
    done = subprocess.run(
        [str(Path(sys.executable).parent / "llmbench"), "--profile", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("llmbench: ") and "temprature" in done.stderr


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no process priorities here")
def test_model_workers_run_below_the_interface() -> None:
    import subprocess
    import sys

    from engines.machine.process_priority import lower_priority

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        lower_priority(child.pid, 3)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(mine + 3, 19)
        lower_priority(child.pid, 3)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(mine + 3, 19), (
            "never lowered twice"
        )
    finally:
        child.kill()
        child.wait()
