"""Which two answers to judge next, and in which order.

With more than two panes, `draw_pair` takes the pair of models judged least often so far
(over every earlier vote), so each pair is judged about equally often; pairs tied for
least are chosen at random, and which answer is shown as A is random too. Both draws come
from one recorded seed, so a vote's order can be reproduced from its record.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Protocol


class JudgedModels(Protocol):
    """Anything naming the two models of a vote (such as `profiles.votes.Vote`)."""

    @property
    def model_a(self) -> str: ...

    @property
    def model_b(self) -> str: ...


@dataclass(frozen=True)
class DrawnPair:
    """Two candidates to judge: `shown_a` and `shown_b` index the candidates given."""

    shown_a: int
    shown_b: int
    seed: int
    """The seed both draws came from."""

    @property
    def swapped(self) -> bool:
        """Whether A is the later of the two candidates."""
        return self.shown_a > self.shown_b

    @property
    def in_order(self) -> tuple[int, int]:
        """The two candidates, earlier first."""
        return min(self.shown_a, self.shown_b), max(self.shown_a, self.shown_b)


def pair_key(model_a: str, model_b: str) -> tuple[str, str]:
    """The order-free key of a pair of models."""
    return (model_a, model_b) if model_a <= model_b else (model_b, model_a)


def judged_counts(votes: Iterable[JudgedModels]) -> Counter[tuple[str, str]]:
    """How often each pair of models was judged."""
    return Counter(pair_key(vote.model_a, vote.model_b) for vote in votes)


def draw_pair(
    models: Sequence[str],
    counts: Mapping[tuple[str, str], int],
    *,
    done: Collection[tuple[int, int]] = (),
    seed: int | None = None,
) -> DrawnPair | None:
    """The next pair among candidates whose model references are `models` (pane order).

    `counts` says how often each pair of models was judged (`judged_counts`); `done`
    holds candidate pairs (earlier index first) already judged here, which are skipped.
    None when no pair is left. `seed` (default: a fresh random one) makes both draws.
    """
    pairs = [pair for pair in combinations(range(len(models)), 2) if pair not in done]
    if not pairs:
        return None
    seed = secrets.randbits(32) if seed is None else seed
    rng = random.Random(seed)
    times = {pair: counts.get(pair_key(models[pair[0]], models[pair[1]]), 0) for pair in pairs}
    fewest = min(times.values())
    first, second = rng.choice([pair for pair in pairs if times[pair] == fewest])
    if rng.random() < 0.5:
        first, second = second, first
    return DrawnPair(shown_a=first, shown_b=second, seed=seed)
