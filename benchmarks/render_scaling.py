"""Does showing an answer get slower as it grows? A 20,000-token answer, start against end.

The real workbench (`tui.app.make_app`) runs headless at 120x40 with one pane whose model
is the fake engine (`engines.fake.FakeModelHandle`): 20,000 tokens of words and paragraph
breaks, 8 tokens a batch, 1 ms a token (about 1,000 tokens/s, faster than any model on
this machine's CPU: "full speed" for the screen). With no pause at all the fake outruns
the UI so far that the message queue never empties and Textual draws no frame until the
stream ends, which would measure nothing about drawing. Every batch ends in
`AnswerView.append`; the benchmark wraps that method to read the UI thread's own CPU
clock (`time.thread_time()`) at each batch, so the cost of a batch is everything the UI
thread did since the previous one: handling the message, wrapping the text, laying out
and drawing the frame. It compares the mean cost per batch over the first 10 % of the
answer with the last 10 %. It also counts the answer lines drawn per batch
(`AnswerView.render_line`), which shows that frames were drawn all along and about as
often at both ends (`--token-delay-ms 2` gives each batch a frame of its own).

A cost that grows with the text (re-wrapping or re-rendering all of it per batch) shows
as a ratio well above 1; the target is at most 1.5. Prints `name: value` lines, the
headline last: `render cost ratio end/start: X`.

    .venv/bin/python benchmarks/render_scaling.py [--tokens 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines.fake import FakeModelHandle, FakeScript  # noqa: E402
from profiles.plan import build_plan  # noqa: E402
from profiles.schema import PaneSpec, Profile, SamplingValues  # noqa: E402
from tui.app import make_app  # noqa: E402
from tui.pane_controller import PaneState  # noqa: E402
from tui.widgets.answer_view import AnswerView  # noqa: E402
from tui.widgets.model_pane import ModelPane  # noqa: E402

BATCH_TOKENS = 8
WINDOW_FRACTION = 0.10
TIMEOUT_S = 600


def answer_tokens(count: int) -> tuple[str, ...]:
    """Words of varied length, a sentence end every 12 tokens and a paragraph every 60."""
    words = ("the", "lighthouse", "keeper", "watched", "a", "storm", "rolling", "over",
             "grey", "water", "while", "gulls", "circled")  # fmt: skip
    tokens = []
    for index in range(count):
        token = " " + words[index % len(words)]
        if index % 12 == 11:
            token += "."
        if index % 60 == 59:
            token += "\n\n"
        tokens.append(token)
    return tuple(tokens)


class BatchClock:
    """Records the UI thread's CPU clock at every `AnswerView.append` (one per token batch),
    and how many answer lines were drawn before each batch (`AnswerView.render_line`)."""

    def __init__(self) -> None:
        self.cpu_times: list[float] = []
        self.lines_drawn: list[int] = []
        self._drawn = 0
        original_append = AnswerView.append
        original_render_line = AnswerView.render_line

        def timed_append(view: AnswerView, text: str) -> None:
            original_append(view, text)
            self.cpu_times.append(time.thread_time())
            self.lines_drawn.append(self._drawn)

        def counted_render_line(view: AnswerView, y: int):
            self._drawn += 1
            return original_render_line(view, y)

        AnswerView.append = timed_append  # type: ignore[method-assign]
        AnswerView.render_line = counted_render_line  # type: ignore[method-assign]

    def lines_per_batch(self, start: int, end: int) -> float:
        """Answer lines drawn per batch between batch `start` and batch `end` (frames × height)."""
        return (self.lines_drawn[end] - self.lines_drawn[start]) / (end - start)

    def cost_per_batch(self, start: int, end: int) -> float:
        """Mean UI CPU seconds per batch between batch `start` and batch `end`."""
        return (self.cpu_times[end] - self.cpu_times[start]) / (end - start)

    def window_costs(self, first: int, last: int, width: int = 25) -> list[float]:
        """Per-window means over [first, last), for a spread figure."""
        return [self.cost_per_batch(i, min(i + width, last)) for i in range(first, last - 1, width)]


async def stream(tokens: int, token_delay_s: float) -> BatchClock:
    script = FakeScript(
        tokens=answer_tokens(tokens),
        batch_size=BATCH_TOKENS,
        prompt_tokens=20,
        token_delay_s=token_delay_s,
    )
    profile = Profile(
        name="render-scaling",
        prompt="Tell a long story.",
        sampling=SamplingValues(max_tokens=tokens, temperature=0.7),
        panes=[PaneSpec(model="fake-model.gguf", label="fake")],
    )
    app = make_app(
        profile,
        engine_factory=lambda plan: FakeModelHandle(script),
        plan_builder=partial(build_plan, resolve=lambda ref: Path("/fake") / ref),
        history=False,
        hash_files=False,
        resource_sampler=None,
    )
    clock = BatchClock()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await wait_for(lambda: next(iter(app.screen.query(ModelPane)), None))
        await wait_for(lambda: pane.state is PaneState.READY)
        started = time.perf_counter()
        await pilot.press("ctrl+r")
        await wait_for(lambda: pane.state is PaneState.DONE)
        elapsed = time.perf_counter() - started
        view = pane.query_one(AnswerView)
        print(f"tokens streamed: {tokens}")
        print(f"batches drawn: {len(clock.cpu_times)}")
        print(f"wrapped lines at the end: {view.line_count}")
        print(f"stream wall time s: {elapsed:.2f}")
    return clock


async def wait_for(condition, timeout_s: float = TIMEOUT_S):
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise SystemExit("render_scaling: timed out")
        await asyncio.sleep(0.01)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000, help="answer length in tokens")
    parser.add_argument(
        "--token-delay-ms",
        type=float,
        default=1.0,
        help="pause between tokens (default 1: about 1,000 tokens/s; 0: no pause at all)",
    )
    args = parser.parse_args()
    clock = asyncio.run(stream(args.tokens, args.token_delay_ms / 1000))
    batches = len(clock.cpu_times)
    window = max(2, int(batches * WINDOW_FRACTION))
    if batches < 2 * window + 1:
        raise SystemExit("render_scaling: too few batches reached the screen")
    start = clock.cost_per_batch(0, window)
    end = clock.cost_per_batch(batches - 1 - window, batches - 1)
    start_spread = statistics.pstdev(clock.window_costs(0, window)) * 1e3
    end_spread = statistics.pstdev(clock.window_costs(batches - 1 - window, batches - 1)) * 1e3
    first, last = (0, window), (batches - 1 - window, batches - 1)
    print(f"answer lines drawn per batch at the start: {clock.lines_per_batch(*first):.1f}")
    print(f"answer lines drawn per batch at the end: {clock.lines_per_batch(*last):.1f}")
    print(f"ui ms per batch at the start: {start * 1e3:.3f} (± {start_spread:.3f})")
    print(f"ui ms per batch at the end: {end * 1e3:.3f} (± {end_spread:.3f})")
    print(f"render cost ratio end/start: {end / start:.2f}")


if __name__ == "__main__":
    main()
