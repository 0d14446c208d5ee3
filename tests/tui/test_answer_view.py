"""AnswerView: incremental word wrap that matches a one-shot wrap, and markers in place."""

from __future__ import annotations

import random

from rich.cells import cell_len
from textual.app import App, ComposeResult

from tui.widgets.answer_view import AnswerView

WIDTH = 41
"""The view's width in the harness (one column goes to the scrollbar: lines wrap at 40)."""


class Harness(App[None]):
    CSS = f"AnswerView {{ width: {WIDTH}; height: 10; }}"

    def compose(self) -> ComposeResult:
        yield AnswerView()


def random_text(seed: int, words: int) -> list[str]:
    """Chunks of text the way tokens arrive: pieces of words, spaces, newlines, wide characters."""
    rng = random.Random(seed)
    vocabulary = [
        "the",
        "sky",
        "is",
        "blue",
        "because",
        "Rayleigh",
        "scattering",
        "波長",
        "é",
        "x" * 55,
    ]
    text = ""
    for _ in range(words):
        text += rng.choice(vocabulary) + rng.choice([" ", " ", " ", "\n", ", ", "\n\n"])
    chunks, position = [], 0
    while position < len(text):
        size = rng.randint(1, 7)
        chunks.append(text[position : position + size])
        position += size
    return chunks


async def test_incremental_wrap_equals_wrapping_the_whole_text_at_once() -> None:
    chunks = random_text(seed=7, words=600)
    async with Harness().run_test() as pilot:
        view = pilot.app.query_one(AnswerView)
        for chunk in chunks:
            view.append(chunk)
        incremental = view.wrapped_lines
        view.clear()
        view.append("".join(chunks))
        assert incremental == view.wrapped_lines
        assert view.text == "".join(chunks)
        assert all(cell_len(line) <= WIDTH - 1 for line in incremental)
        assert "".join(incremental) == "".join(chunks).replace("\n", "")


async def test_resize_rewraps_to_the_new_width() -> None:
    async with Harness().run_test() as pilot:
        view = pilot.app.query_one(AnswerView)
        view.append("word " * 40)
        narrow = view.line_count
        view.styles.width = 81
        await pilot.pause()
        assert view.line_count < narrow
        assert all(cell_len(line) <= 80 for line in view.wrapped_lines)


async def test_only_the_open_line_is_rewrapped_as_text_grows() -> None:
    """The work per batch is bounded by the line width, however long the answer gets."""
    async with Harness().run_test() as pilot:
        view = pilot.app.query_one(AnswerView)
        for index in range(20_000):
            view.append(f"tok{index % 97} ")
            assert cell_len(view._open_text) <= WIDTH
        assert view.line_count > 2000


async def test_markers_stay_where_they_were_added_and_are_not_answer_text() -> None:
    async with Harness().run_test() as pilot:
        view = pilot.app.query_one(AnswerView)
        view.append("cold start ")
        view.add_marker("⟨T=1.2⟩")
        view.append(" warmer")
        view.add_error("worker crashed")
        assert view.text == "cold start  warmer"
        assert view.text_with_markers == "cold start ⟨T=1.2⟩ warmer\n✗ worker crashed"
        assert view.wrapped_lines[-1] == "✗ worker crashed"
