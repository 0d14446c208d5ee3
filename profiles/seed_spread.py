"""How much answers vary with the seed: distinct answers and their similarity, per temperature.

`llmbench run --seeds N` runs every pane with seeds 1..N. For each model and temperature
this says how many different answers the N runs gave and how alike they are on average:
at temperature 0 every seed gives the same answer (1 distinct, similarity 1.00); the
higher the temperature, the more distinct answers and the lower their similarity.

Similarity of two answers is difflib's ratio over their words (2 × matching words / total
words: 1.0 identical, 0.0 nothing in common); the mean is over every pair of the N answers.
"""

from __future__ import annotations

import difflib
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from profiles.results import RunResult


@dataclass(frozen=True)
class SeedSpread:
    """The answers of one model at one temperature over several seeds."""

    model_ref: str
    temperature: float
    runs: int
    distinct: int
    """How many different answers the runs gave."""
    mean_similarity: float | None
    """Mean pairwise similarity of the answers (None with fewer than two)."""
    seeds: tuple[int, ...]
    """The seeds used, in run order."""


def answer_similarity(first: str, second: str) -> float:
    """1.0 for the same words in the same order, down to 0.0 for nothing in common."""
    if first == second:
        return 1.0
    return difflib.SequenceMatcher(None, first.split(), second.split(), autojunk=False).ratio()


def seed_spread(results: Sequence[RunResult]) -> list[SeedSpread]:
    """One `SeedSpread` per (model, temperature), in the order they first appear."""
    groups: dict[tuple[str, float], list[RunResult]] = {}
    for result in results:
        groups.setdefault((result.model_ref, result.sampling.temperature), []).append(result)
    spreads = []
    for (model_ref, temperature), members in groups.items():
        texts = [member.text for member in members]
        pairs = list(itertools.combinations(texts, 2))
        similarity = statistics.fmean(answer_similarity(a, b) for a, b in pairs) if pairs else None
        spreads.append(
            SeedSpread(
                model_ref=model_ref,
                temperature=temperature,
                runs=len(members),
                distinct=len(set(texts)),
                mean_similarity=similarity,
                seeds=tuple(member.sampling.seed for member in members),
            )
        )
    return spreads
