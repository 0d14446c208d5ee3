"""What a comparison run reports: each pane's progress, its failure, and the outcome.

Plain data shared by `profiles.runner` and `profiles.pane_run` (which produce it) and the
front ends that show it (`llmbench run`'s progress and table; the workbench), with
`PaneFailed` (what ends a pane's run inside the runner) and the one-line summary of a
finished generation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from engines.types import GenerationStats
    from profiles.results import RunResult
    from profiles.schema import RunMode

Phase = Literal["loading", "loaded", "generating", "generated", "finished", "failed", "warning"]
"""loading → loaded → (generating → generated)* per step → finished; or failed at any point.
"warning" carries a message that is not a failure."""


@dataclass(frozen=True)
class PaneProgress:
    """What one pane is doing now, for a progress display."""

    pane: int
    """The pane's index in the plan."""
    label: str
    phase: Phase
    step: int = 0
    """0-based index of the generation among all of the pane's steps (warm-ups first)."""
    steps: int = 1
    """Warm-ups plus measured repetitions."""
    repetitions: int = 1
    """Measured repetitions (the last `repetitions` of the steps)."""
    warmup: bool = False
    """Whether the current generation is a warm-up (not measured, not recorded)."""
    tokens: int = 0
    """Tokens generated so far in the current generation."""
    max_tokens: int = 0
    load_fraction: float | None = None
    """Loading progress 0 to 1; None on the first "loading" report, before the model answers."""
    message: str = ""
    """The failure reason, a warning, or a short summary of a finished generation."""
    item: int = 0
    """0-based index of the prompt being run (a suite run; 0 otherwise)."""
    items: int = 1
    """Prompts this pane runs (a suite run's prompts still to do for it; 1 otherwise)."""


@dataclass(frozen=True)
class RunItem:
    """One prompt of a run: what to send, and (in a suite) how to tag its result."""

    prompt: str
    system_prompt: str | None = None
    key: str = ""
    """A short name for progress lines and request ids (a suite prompt's id)."""
    index: int = 0
    """The prompt's place in its suite (results are listed in this order)."""
    annotate: Callable[[str, int | None], Any] | None = None
    """(answer text, generated tokens) → the result's `suite` record (`profiles.suite_run`)."""


class PaneFailed(Exception):
    """Ends one pane's run; carries the reason shown to the user (it becomes a PaneFailure)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PaneFailure:
    """A pane that could not finish: its model did not load, its worker died, or it errored."""

    pane: int
    label: str
    model_ref: str
    reason: str
    """One line a person can act on."""
    detail: str = ""
    """Extra context, e.g. the tail of llama.cpp's log."""


@dataclass
class ComparisonOutcome:
    """Everything a comparison produced: results (pane order, then repetition) and failures."""

    mode: RunMode
    results: list[RunResult] = field(default_factory=list)
    failures: list[PaneFailure] = field(default_factory=list)
    warm: bool = False
    """Whether measured runs reused the prompt cache (after `--warmup`), or each ran cold."""

    @property
    def ok(self) -> bool:
        """Whether every pane finished."""
        return not self.failures


def generation_summary(stats: GenerationStats) -> str:
    """A finished generation in one line: tokens, decode speed ("—" when unknown), stop reason."""
    speed = f"{stats.decode_tps:.1f} tok/s" if stats.decode_tps is not None else "— tok/s"
    return f"{stats.generated_tokens} tokens, {speed}, stop: {stats.stop_reason}"
