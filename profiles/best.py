"""Which figures earn the ★ (best value of a column): one rule for every place that shows it.

The workbench's comparison table, the `llmbench run` table and the Markdown export all ask
`starred` which cells to mark, so the rule lives here once:

- only finished generations compete (stop reasons in `FINISHED_STOP_REASONS`): a failed,
  crashed or cancelled pane never gets a ★, whatever its figures say;
- figures that depend on the prompt cache (TTFT, prompt speed) do not compete when the
  prompt was served partly from llama.cpp's cache (`cached` contenders): they measure the
  cache, not the model;
- speeds do not compete in parallel mode: the panes shared the machine, so their speeds
  are not a fair comparison of the models (docs/metrics.md);
- a ★ needs at least two competing values (a single pane is never "best");
- ties all get the ★: values are compared as they are shown (rounded to the column's
  decimals), so two figures printed the same are starred together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from engines.types import FINISHED_STOP_REASONS

BEST_MARK = "★"
"""The mark of the best value of a column."""

CACHED_MARK = "↺"
"""The mark of a figure measured on a prompt served partly from the cache (not comparable)."""


@dataclass(frozen=True)
class Figure:
    """A column that can have a best value."""

    key: str
    better: Literal["min", "max"]
    decimals: int
    """The decimals shown: values equal at this precision are a tie."""
    speed: bool = False
    """Depends on having the machine alone (speeds, TTFT, energy): no ★ in parallel mode."""
    cache_sensitive: bool = False
    """Changed by the prompt cache (TTFT, prompt speed): cached contenders do not compete."""


@dataclass(frozen=True)
class Contender:
    """One row's figures, with what decides whether it may compete."""

    stop_reason: str
    values: Mapping[str, float | None]
    cached: bool = False
    """Whether the prompt was served partly from the cache (`cached_prompt_tokens` > 0)."""


def competes(contender: Contender, figure: Figure, mode: str | None) -> bool:
    """Whether this contender's value of `figure` may be starred at all."""
    if contender.stop_reason not in FINISHED_STOP_REASONS:
        return False
    if figure.speed and mode == "parallel":
        return False
    if figure.cache_sensitive and contender.cached:
        return False
    return contender.values.get(figure.key) is not None


def starred(
    contenders: Sequence[Contender], figures: Sequence[Figure], mode: str | None
) -> list[set[str]]:
    """For each contender, in order, the keys of the figures where it holds the best value."""
    marks: list[set[str]] = [set() for _ in contenders]
    for figure in figures:
        shown: dict[int, float] = {}
        for i, contender in enumerate(contenders):
            value = contender.values.get(figure.key)
            if value is not None and competes(contender, figure, mode):
                shown[i] = round(float(value), figure.decimals)
        if len(shown) < 2:
            continue
        best = min(shown.values()) if figure.better == "min" else max(shown.values())
        for i, value in shown.items():
            if value == best:
                marks[i].add(figure.key)
    return marks


def is_cached(cached_prompt_tokens: int | None) -> bool:
    """Whether a run's prompt came partly from the cache."""
    return bool(cached_prompt_tokens)
