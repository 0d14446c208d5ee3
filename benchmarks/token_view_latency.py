"""The token view's keypress budget on a 4,000-token answer (part of `ui_latency.py`).

The workbench at 120x40 with two panes whose answers are 4,000 tokens each, with a
token record per token (the scripted engine of `engines.fake`, so that the answer's
length, not a model's speed, is what is measured; the view draws recorded tokens the
same way whatever produced them). With the token view on (`v`), cursor keys (left,
right, up, down, home, end) and mouse clicks on random tokens are timed from the event
entering the app to the first screen update that shows the cursor on the new token and
the candidate panel (with its temperature lens) for it. As a baseline for the machine,
the same is done first for a character typed into the prompt of the same app.

    .venv/bin/python benchmarks/ui_latency.py --token-view [--presses 50]
"""

from __future__ import annotations

import asyncio
import random
import time

from textual import events
from textual.widgets import TextArea

from engines.fake import FakeModelHandle, FakeScript
from engines.types import ModelSettings
from profiles.plan import PanePlan
from profiles.schema import PaneSpec, Profile, SamplingValues
from tui.app import make_app
from tui.pane_controller import PaneState
from tui.widgets.token_view import TokenView

ANSWER_TOKENS = 4000
KEY_TIMEOUT_S = 5.0
KEYS = ("right", "left", "down", "up", "end", "home")


def answer_script() -> FakeScript:
    words = ("the", "sea", "a", "lighthouse", "storm", "keeper", "and", "light", "waves")
    tokens = []
    for index in range(ANSWER_TOKENS):
        word = words[(index * 7) % len(words)]
        tokens.append(word + (".\n" if index % 97 == 96 else " "))
    return FakeScript(tokens=tuple(tokens), batch_size=64)


def plans(profile: Profile) -> list[PanePlan]:
    return [
        PanePlan(
            index=index,
            label=spec.display_label,
            model_ref=spec.model,
            kind="local",
            settings=ModelSettings(path=f"/models/{spec.model}.gguf"),
            sampling=spec.sampling_params(profile.sampling),
        )
        for index, spec in enumerate(profile.panes)
    ]


class FrameWatch:
    """Times one event until a frame is drawn in which `done()` holds."""

    def __init__(self, app) -> None:
        self._done_when = None
        self._sent_at = 0.0
        self._done = asyncio.Event()
        self.latency_s = 0.0
        display = app._display

        def timed_display(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is not None and self._done_when is not None and self._done_when():
                self.latency_s = time.perf_counter() - self._sent_at
                self._done_when = None
                self._done.set()

        app._display = timed_display

    async def timed(self, done, send) -> float:
        self._done.clear()
        self._done_when = done
        self._sent_at = time.perf_counter()
        await send()
        await asyncio.wait_for(self._done.wait(), KEY_TIMEOUT_S)
        return self.latency_s


def cursor_on(view: TokenView, target: int):
    """True once the cursor is on `target` and the candidate panel shows it."""
    panel = view.parent.parent.panel  # the inspector's candidate panel
    return lambda: view.cursor == target and panel.record is view.records[target]


def mouse_click(view: TokenView, x: int, y: int) -> list[events.MouseEvent]:
    """A press, release and click at (x, y) of `view`'s content, in screen coordinates."""
    region = view.content_region
    at = dict(
        widget=None,
        x=region.x + x,
        y=region.y + y,
        delta_x=0,
        delta_y=0,
        button=1,
        shift=False,
        meta=False,
        ctrl=False,
        screen_x=region.x + x,
        screen_y=region.y + y,
    )
    return [events.MouseDown(**at), events.MouseUp(**at), events.Click(**at)]


def expected_after(view: TokenView, key: str) -> int:
    """Where `key` puts the cursor."""
    last = len(view.records) - 1
    if key == "right":
        return min(view.cursor + 1, last)
    if key == "left":
        return max(view.cursor - 1, 0)
    if key == "home":
        return 0
    if key == "end":
        return last
    line = view._token_line[view.cursor] + (1 if key == "down" else -1)
    if not 0 <= line < view.line_count:
        return view.cursor
    return view._token_at(line, view._column_of(view._token_line[view.cursor], view.cursor))


async def measure_token_view(presses: int) -> tuple[list[float], list[float], list[float]]:
    """(key latencies, click latencies, prompt keypress latencies as this machine's
    baseline) in seconds, on 4,000-token answers."""
    profile = Profile(
        name="token-view-latency",
        prompt="Write a long story.",
        sampling=SamplingValues(temperature=0.7, max_tokens=ANSWER_TOKENS),
        panes=[PaneSpec(model="left", label="left"), PaneSpec(model="right", label="right")],
    )
    script = answer_script()
    app = make_app(
        profile,
        lambda plan: FakeModelHandle(script),
        plan_builder=plans,
        history=False,
        hash_files=False,
        resource_sampler=None,
    )
    keys: list[float] = []
    clicks: list[float] = []
    typed: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        while not all(p.state is PaneState.READY for p in app.workbench.panes):
            assert time.monotonic() < deadline, "the panes did not load"
            await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        while not all(p.state is PaneState.DONE for p in app.workbench.panes):
            assert time.monotonic() < deadline, "the answers did not finish"
            await pilot.pause(0.05)
        watch = FrameWatch(app)
        editor = app.workbench.query_one("#prompt", TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)
        for _ in range(presses):  # the baseline: a key typed into the prompt, same app
            length = len(editor.text) + 1

            async def send_x() -> None:
                app.post_message(events.Key("x", "x"))

            typed.append(await watch.timed(lambda n=length: len(editor.text) >= n, send_x))
            await asyncio.sleep(random.uniform(0.02, 0.06))
        await pilot.press("escape", "v")
        await pilot.pause(0.2)
        pane = app.workbench.current_pane
        view = pane.answer_area.tokens.view
        assert len(view.records) == ANSWER_TOKENS, len(view.records)
        await pilot.press("end")  # start at the end: the longest layout is drawn
        await pilot.pause(0.1)
        for _ in range(presses):
            key = random.choice(KEYS)
            target = expected_after(view, key)
            if target == view.cursor:
                continue

            async def send_key(key=key) -> None:
                app.post_message(events.Key(key, None))

            keys.append(await watch.timed(cursor_on(view, target), send_key))
            await asyncio.sleep(random.uniform(0.02, 0.06))
        height = view.scrollable_content_region.height
        for _ in range(presses):
            y = random.randrange(min(height, view.line_count - view.scroll_offset.y))
            x = random.randrange(40)
            target = view._token_at(view.scroll_offset.y + y, x)
            if target == view.cursor:
                continue

            async def send_click(x=x, y=y) -> None:
                for event in mouse_click(view, x, y):  # as a terminal's driver posts them
                    app.post_message(event)

            clicks.append(await watch.timed(cursor_on(view, target), send_click))
            await asyncio.sleep(random.uniform(0.02, 0.06))
    return keys, clicks, typed
