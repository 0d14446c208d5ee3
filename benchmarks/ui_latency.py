"""Key press to screen, while two real demo models generate: is typing still instant?

The real workbench (`tui.app.make_app` with the real worker processes and the resource
sampler) runs headless at 120x40 on both demo models with a long answer to write. While
both panes are generating, the benchmark types a character into the prompt editor ~50
times, at irregular intervals, and times each one from the key event entering the app
(the same `Key` message a terminal's driver posts) to the first screen update drawn after
the editor holds the character. The same is done first with both models loaded and idle,
as a baseline for this machine. Only key presses during which both panes were generating
count; when an answer ends, the run starts again.

Target: p95 under 50 ms. Prints `name: value` lines, the headline last:
`keypress p95 ms: X`.

    .venv/bin/python benchmarks/ui_latency.py [--presses 50]

`--token-view` measures the token view instead (`benchmarks/token_view_latency.py`):
cursor keys and clicks on a 4,000-token answer, headline `token view p95 ms: X`.

Textual has no public hook for "a frame was drawn"; this measures at `App._display`,
where every screen update ends, headless or not (checked against Textual 8.2.8).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

import psutil
from textual import events
from textual.widgets import TextArea

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from profiles.schema import ModelSettingsSpec, PaneSpec, Profile, SamplingValues  # noqa: E402
from tui.app import make_app  # noqa: E402
from tui.pane_controller import PaneState  # noqa: E402
from tui.widgets.model_pane import ModelPane  # noqa: E402

LOAD_TIMEOUT_S = 180
MEASURE_TIMEOUT_S = 600
KEY_TIMEOUT_S = 5.0


def benchmark_profile() -> Profile:
    """Both demo models, a prompt that makes them write for a while."""
    settings = ModelSettingsSpec(n_ctx=1024)
    return Profile(
        name="ui-latency",
        prompt="Write a long, detailed story about a lighthouse keeper and a storm.",
        sampling=SamplingValues(temperature=0.7, max_tokens=900, seed=7),
        panes=[
            PaneSpec(model="demo:smollm2-135m", label="small", settings=settings),
            PaneSpec(model="demo:gemma3-270m", label="base", settings=settings),
        ],
    )


class FrameWatch:
    """Times key presses until the screen shows them (wraps the app's display step)."""

    def __init__(self, app, editor: TextArea) -> None:
        self.editor = editor
        self._expected_length: int | None = None
        self._sent_at = 0.0
        self._done = asyncio.Event()
        self.latency_s = 0.0
        display = app._display

        def timed_display(screen, renderable) -> None:
            display(screen, renderable)
            if (
                renderable is not None
                and self._expected_length is not None
                and len(self.editor.text) >= self._expected_length
            ):
                self.latency_s = time.perf_counter() - self._sent_at
                self._expected_length = None
                self._done.set()

        app._display = timed_display

    async def press(self, app, character: str) -> float:
        """Send one key as a terminal would; seconds until a frame showed it."""
        self._done.clear()
        self._expected_length = len(self.editor.text) + 1
        self._sent_at = time.perf_counter()
        app.post_message(events.Key(character, character))
        await asyncio.wait_for(self._done.wait(), KEY_TIMEOUT_S)
        return self.latency_s


def panes_generating(app) -> bool:
    panes = list(app.screen.query(ModelPane))
    return len(panes) == 2 and all(pane.state is PaneState.GENERATING for pane in panes)


async def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"ui_latency: timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def measure(presses: int, nice_workers: bool) -> tuple[list[float], list[float]]:
    """(latencies with both models idle, latencies while both generate), in seconds."""
    app = make_app(benchmark_profile(), history=False)
    latencies: list[float] = []
    idle: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            lambda: all(p.state is PaneState.READY for p in app.screen.query(ModelPane)),
            LOAD_TIMEOUT_S,
            "both models to load",
        )
        if nice_workers:
            for child in psutil.Process().children(recursive=True):
                child.nice(10)
        editor = app.screen.query_one("#prompt", TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)
        watch = FrameWatch(app, editor)
        for _ in range(presses):  # the baseline: the same app, models loaded, nothing running
            idle.append(await watch.press(app, "x"))
            await asyncio.sleep(random.uniform(0.03, 0.12))
        deadline = time.monotonic() + MEASURE_TIMEOUT_S
        runs = 0
        me = psutil.Process()
        cpu_before, wall_before = sum(me.cpu_times()[:2]), time.monotonic()
        while len(latencies) < presses and time.monotonic() < deadline:
            if not panes_generating(app):
                await wait_until(
                    lambda: (
                        not any(
                            p.state is PaneState.GENERATING for p in app.screen.query(ModelPane)
                        )
                    ),
                    LOAD_TIMEOUT_S,
                    "the last run to end",
                )
                await pilot.press("ctrl+r")
                runs += 1
                await wait_until(lambda: panes_generating(app), LOAD_TIMEOUT_S, "both to generate")
                await asyncio.sleep(0.5)  # past the first tokens: measure steady streaming
                continue
            latency = await watch.press(app, "x")
            if panes_generating(app):
                latencies.append(latency)
            await asyncio.sleep(random.uniform(0.03, 0.12))
        cpu_used = sum(me.cpu_times()[:2]) - cpu_before
        print(f"runs started: {runs}")
        print(
            f"ui process cpu % of one core: {100 * cpu_used / (time.monotonic() - wall_before):.1f}"
        )
    return idle, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=50, help="key presses to time")
    parser.add_argument(
        "--nice-workers",
        action="store_true",
        help="lower the model workers' CPU priority (nice 10), to see what CPU contention costs",
    )
    parser.add_argument(
        "--token-view",
        action="store_true",
        help="time the token view's cursor keys and clicks on a 4,000-token answer instead",
    )
    args = parser.parse_args()
    random.seed(1)
    if args.token_view:
        token_view(args.presses)
        return
    idle, latencies = asyncio.run(measure(args.presses, args.nice_workers))
    if len(latencies) < 2:
        raise SystemExit("ui_latency: too few key presses were timed while both panes generated")
    idle_ms = sorted(value * 1000 for value in idle)
    ms = sorted(value * 1000 for value in latencies)
    print(f"keypress p95 ms while idle: {percentile(idle_ms, 0.95):.1f}")
    print(f"key presses timed while generating: {len(ms)}")
    print(f"keypress p50 ms: {statistics.median(ms):.1f}")
    print(f"keypress max ms: {ms[-1]:.1f}")
    print(f"keypress p95 ms: {percentile(ms, 0.95):.1f}")


def token_view(presses: int) -> None:
    """The token view's run: cursor keys and clicks, p50 and p95 of each, both last."""
    from token_view_latency import ANSWER_TOKENS, measure_token_view

    keys, clicks, typed = asyncio.run(measure_token_view(presses))
    both = sorted(value * 1000 for value in keys + clicks)
    print(f"token view answer tokens: {ANSWER_TOKENS}")
    for name, values in (("prompt keypress (baseline)", typed), ("key", keys), ("click", clicks)):
        ms = sorted(value * 1000 for value in values)
        print(f"token view {name} timed: {len(ms)}")
        print(f"token view {name} p50 ms: {statistics.median(ms):.1f}")
        print(f"token view {name} p95 ms: {percentile(ms, 0.95):.1f}")
    print(f"token view p50 ms: {statistics.median(both):.1f}")
    print(f"token view p95 ms: {percentile(both, 0.95):.1f}")


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values."""
    return sorted_values[min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))]


if __name__ == "__main__":
    main()
