"""Blind A/B votes: one JSON line per vote in `votes.jsonl` beside the history, appended as cast.

A `Vote` carries the same provenance as the results it judged (the profile, the prompt
and its suite id, both result ids and model references, both pane labels), which answer
was shown as A, the seed that drew that order, the verdict and when it was cast. Votes are
appended with `profiles.jsonl_log` (one write, then fsync), so a crash loses at most the
vote being written; a torn line is skipped with a warning on reading, nothing else lost.
`VoteLog` keeps a session's votes and appends each one (or only keeps it, without a file).
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from engines.paths import data_dir
from profiles.jsonl_log import append_line, read_records

if TYPE_CHECKING:
    from profiles.results import RunResult

VOTES_FILE_NAME = "votes.jsonl"
VOTE_VERSION = 1
"""Version of the vote record layout."""

Verdict = Literal["a", "b", "tie", "both_bad"]
VERDICTS: tuple[Verdict, ...] = ("a", "b", "tie", "both_bad")


class VoteWriteError(OSError):
    """The vote log could not take a vote (a full disk, no permission). str() names the file."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.path = path
        self.filename = str(path)

    def __str__(self) -> str:
        return f"{self.path}: {self.strerror}"


class Vote(BaseModel):
    """One blind judgement of two answers to the same prompt."""

    model_config = ConfigDict(extra="ignore", frozen=True, use_attribute_docstrings=True)

    vote_version: int = VOTE_VERSION
    id: str
    """Short unique id: UTC date and time, then random hex."""
    created_at: str
    """When the vote was cast, ISO 8601 wall-clock time with its UTC offset."""
    profile: str | None = None
    prompt: str
    system_prompt: str | None = None
    prompt_id: str | None = None
    """The prompt's id within its suite, for an answer of a suite run."""
    result_a: str
    """Id of the result shown as A."""
    result_b: str
    model_a: str
    """Model reference of the answer shown as A."""
    model_b: str
    label_a: str = ""
    label_b: str = ""
    pane_a: int | None = None
    """Pane index of the answer shown as A."""
    pane_b: int | None = None
    swapped: bool
    """Whether A is the later of the two panes (the random order drawn)."""
    order_seed: int
    """The seed that drew the pair and the order (`profiles.vote_pairs.draw_pair`)."""
    vote: Verdict
    """"a", "b", "tie" or "both_bad"."""

    @property
    def winner(self) -> str | None:
        """The winning model reference, or None for a tie or both bad."""
        return {"a": self.model_a, "b": self.model_b}.get(self.vote)

    @classmethod
    def cast(
        cls,
        shown_a: RunResult,
        shown_b: RunResult,
        verdict: Verdict,
        *,
        swapped: bool,
        order_seed: int,
        profile: str | None = None,
        now: datetime | None = None,
    ) -> Vote:
        """The vote on `shown_a` (shown as A) against `shown_b` (shown as B)."""
        if verdict not in VERDICTS:
            raise ValueError(f"a vote is one of {', '.join(VERDICTS)}, not {verdict!r}")
        if (shown_a.prompt, shown_a.system_prompt) != (shown_b.prompt, shown_b.system_prompt):
            raise ValueError("a vote judges two answers to the same prompt")
        when = (now or datetime.now(UTC)).astimezone()
        return cls(
            id=f"{when.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}",
            created_at=when.isoformat(timespec="seconds"),
            profile=profile if profile is not None else shown_a.profile,
            prompt=shown_a.prompt,
            system_prompt=shown_a.system_prompt,
            prompt_id=suite_prompt_id(shown_a),
            result_a=shown_a.id,
            result_b=shown_b.id,
            model_a=shown_a.model_ref,
            model_b=shown_b.model_ref,
            label_a=shown_a.pane_label,
            label_b=shown_b.pane_label,
            pane_a=shown_a.pane_index,
            pane_b=shown_b.pane_index,
            swapped=swapped,
            order_seed=order_seed,
            vote=verdict,
        )


def suite_prompt_id(result: RunResult) -> str | None:
    """The prompt's suite id of a suite run's result (`RunResult.suite`), else None."""
    suite = getattr(result, "suite", None)
    return getattr(suite, "prompt_id", None)


def votes_path() -> Path:
    """The vote log, beside the history (created on the first vote)."""
    return data_dir() / VOTES_FILE_NAME


def append_vote(vote: Vote, path: Path | None = None) -> Path:
    """Append one vote as a JSON line, flushed to disk; `VoteWriteError` when it cannot."""
    target = path or votes_path()
    try:
        append_line(target, vote.model_dump_json().encode("utf-8") + b"\n")
    except OSError as error:
        raise VoteWriteError(target, error) from error
    return target


def read_votes(path: Path | None = None) -> tuple[list[Vote], list[str]]:
    """Every readable vote, oldest first, and one warning per line that could not be read."""
    return read_records(path or votes_path(), Vote.model_validate, "a vote")


def votes_for_profile(votes: list[Vote], profile: str | None) -> list[Vote]:
    """The votes cast in `profile` (every vote when `profile` is None)."""
    return votes if profile is None else [vote for vote in votes if vote.profile == profile]


class VoteLog:
    """A session's votes: each one appended to `path` as it is cast (or only kept, without).

    `save` (and `record`) may block on fsync: call it off the UI thread. A vote is kept
    even when the file cannot take it, which `save` says with a one-line `VoteWriteError`.
    """

    def __init__(self, path: Path | None, earlier: list[Vote] | None = None) -> None:
        self.path = path
        """The vote log file, or None to keep votes in memory only."""
        self.votes: list[Vote] = list(earlier or [])
        """Earlier votes (read from the file) and this session's, oldest first."""
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path | None) -> tuple[VoteLog, list[str]]:
        """A log over `path` with its earlier votes, and warnings for unreadable lines."""
        earlier, warnings = read_votes(path) if path is not None else ([], [])
        return cls(path, earlier), warnings

    def keep(self, vote: Vote) -> None:
        """Keep `vote` in memory (counted at once for the next pair's draw)."""
        with self._lock:
            self.votes.append(vote)

    def save(self, vote: Vote) -> None:
        """Append `vote` to the file, if any; raises `VoteWriteError` if that fails."""
        if self.path is not None:
            append_vote(vote, self.path)

    def record(self, vote: Vote) -> None:
        """Keep `vote`, then append it to the file (`keep`, then `save`)."""
        self.keep(vote)
        self.save(vote)
