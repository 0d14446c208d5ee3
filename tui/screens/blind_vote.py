"""BlindVoteScreen: two answers to the same prompt as A and B, judged before anything else shows.

The pair is drawn by `profiles.vote_pairs.draw_pair` (the pair of models judged least
often in this profile first, then a random A/B order from a recorded seed). Until the
vote, the screen shows only the prompt and the two answers: no model name, pane label,
file or figure.
Keys a / b / t / x vote A better, B better, a tie, or both bad; the vote is kept at once
and appended to the vote log in a thread worker (`profiles.votes.VoteLog`), then each
side's model and figures are revealed. n (or space) draws the next pair of this prompt's
answers; escape goes back to the workbench.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from engines.messages import one_line
from profiles.vote_pairs import DrawnPair, draw_pair, judged_counts
from profiles.votes import Verdict, Vote, VoteLog, votes_for_profile
from tui.formatting import number, shorten
from tui.keys import BLIND_VOTE_BINDINGS

if TYPE_CHECKING:
    from profiles.results import RunResult

VERDICT_WORDS: dict[str, str] = {
    "a": "A is better",
    "b": "B is better",
    "tie": "a tie",
    "both_bad": "both bad",
}
"""How each verdict reads after the vote."""


class BlindVoteScreen(Screen[None]):
    """Blind A/B voting over the finished answers to one prompt (see the module docstring)."""

    CSS_PATH = "blind_vote.tcss"

    BINDINGS = BLIND_VOTE_BINDINGS
    """Keys of the blind vote (`tui.keys.BLIND_VOTE_ACTIONS`)."""

    def __init__(
        self,
        answers: Sequence[RunResult],
        log: VoteLog,
        profile_name: str | None = None,
        seeds: Callable[[], int] | None = None,
    ) -> None:
        """`answers`: finished results to one prompt, in pane order (at least two).
        `seeds` gives each draw's seed (default: a fresh random one; fixed for screenshots)."""
        super().__init__()
        self._seeds = seeds
        self.answers = list(answers)
        self.vote_log = log
        self.profile_name = profile_name
        self.pair: DrawnPair | None = None
        """The pair on screen (None once every pair of these answers was judged)."""
        self.vote: Vote | None = None
        """The vote cast on the pair on screen, once cast (the names are then shown)."""
        self.judged: set[tuple[int, int]] = set()
        """Pairs of `answers` (earlier index first) judged on this screen."""

    def compose(self) -> ComposeResult:
        prompt = self.answers[0].prompt if self.answers else ""
        yield Static(
            f"Blind vote · {shorten(one_line(prompt), 100)}", id="vote-prompt", markup=False
        )
        with Horizontal(id="vote-sides"):
            for side in ("a", "b"):
                with Vertical(id=f"side-{side}", classes="vote-side"):
                    with VerticalScroll():
                        yield Static("", id=f"answer-{side}", markup=False)
                    yield Static("", id=f"figures-{side}", classes="vote-figures", markup=False)
        yield Static("", id="vote-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._show_next_pair()

    # --- drawing and showing -----------------------------------------------------------

    def _show_next_pair(self) -> None:
        models = [(answer.model_ref, answer.pane_label) for answer in self.answers]
        earlier = votes_for_profile(self.vote_log.votes, self.profile_name)
        seed = self._seeds() if self._seeds is not None else None
        self.pair = draw_pair(models, judged_counts(earlier), done=self.judged, seed=seed)
        self.vote = None
        if self.pair is None:
            for side in ("a", "b"):
                self._hide_names(side)
                self.query_one(f"#answer-{side}", Static).update("")
            self._status("Every pair of answers to this prompt is judged. escape: back")
            return
        for side, index in (("a", self.pair.shown_a), ("b", self.pair.shown_b)):
            self._hide_names(side)
            self.query_one(f"#answer-{side}", Static).update(self.answers[index].text or "(empty)")
            self._side(side).query_one(VerticalScroll).scroll_home(animate=False)
        left = len(self.answers) * (len(self.answers) - 1) // 2 - len(self.judged)
        self._status(f"Which answer is better? a: A · b: B · t: tie · x: both bad ({left} left)")

    def _reveal(self, vote: Vote) -> None:
        assert self.pair is not None
        for side, index in (("a", self.pair.shown_a), ("b", self.pair.shown_b)):
            answer = self.answers[index]
            name = answer.model_ref
            if answer.pane_label and answer.pane_label != answer.model_ref:
                name = f"{answer.pane_label} ({answer.model_ref})"
            self._side(side).border_title = f"{side.upper()}: {name}"
            figures = self.query_one(f"#figures-{side}", Static)
            figures.update(figures_line(answer))
            figures.display = True
        self._status(f"Voted {VERDICT_WORDS[vote.vote]}. n: next pair · escape: back")

    def _hide_names(self, side: str) -> None:
        self._side(side).border_title = side.upper()
        figures = self.query_one(f"#figures-{side}", Static)
        figures.update("")
        figures.display = False

    def _side(self, side: str) -> Vertical:
        return self.query_one(f"#side-{side}", Vertical)

    def _status(self, text: str) -> None:
        self.query_one("#vote-status", Static).update(text)

    # --- actions -----------------------------------------------------------------------

    def action_vote(self, verdict: Verdict) -> None:
        """Cast `verdict` on the pair on screen (once), keep it, save it, reveal the names."""
        if self.pair is None or self.vote is not None:
            return
        vote = Vote.cast(
            self.answers[self.pair.shown_a],
            self.answers[self.pair.shown_b],
            verdict,
            swapped=self.pair.swapped,
            order_seed=self.pair.seed,
            profile=self.profile_name,
        )
        self.vote = vote
        self.judged.add(self.pair.in_order)
        self.vote_log.keep(vote)
        self._save(vote)
        self._reveal(vote)

    @work(thread=True, group="votes")
    def _save(self, vote: Vote) -> None:
        """Append the vote to the vote log (fsync); a failure is told, the vote is kept."""
        try:
            self.vote_log.save(vote)
        except OSError as error:
            self.app.call_from_thread(
                self.app.notify, f"vote kept but not saved: {error}", severity="error", timeout=10
            )

    def action_next_pair(self) -> None:
        """The next pair, once the pair on screen was judged."""
        if self.pair is not None and self.vote is None:
            self.app.bell()
            return
        if self.pair is not None:
            self._show_next_pair()

    def action_close(self) -> None:
        self.dismiss()


def figures_line(result: RunResult) -> str:
    """The figures revealed after a vote: tokens, TTFT, decode speed, peak memory."""
    figures = result.figures
    return " · ".join(
        [
            f"{figures.generated_tokens} tokens",
            f"TTFT {number(figures.ttft_s, '.2f', ' s')}",
            number(figures.decode_tps, ".1f", " tok/s"),
            f"peak {number(figures.peak_rss_mib, '.0f', ' MiB')}",
        ]
    )
