"""Which two answers to judge next, and in which order.

With more than two panes, `draw_pair` takes the pair of models judged least often in the
votes it is given (the workbench gives the profile's), so each pair is judged about
equally often (panes of one model are told apart by their labels); pairs tied for
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

from profiles.standings import JudgedPair, contenders


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


def judged_counts(votes: Iterable[JudgedPair]) -> Counter[tuple[str, str]]:
    """How often each pair of models (or of pane labels, `profiles.standings.contenders`)
    was judged."""
    return Counter(pair_key(*contenders(vote)) for vote in votes)


def candidate_pair_key(
    first: str | tuple[str, str], second: str | tuple[str, str]
) -> tuple[str, str]:
    """The `judged_counts` key of two candidates, each a model reference or a
    (model reference, pane label) pair: the labels count where the models are the same."""
    model_a, label_a = (first, first) if isinstance(first, str) else first
    model_b, label_b = (second, second) if isinstance(second, str) else second
    if model_a != model_b:
        return pair_key(model_a, model_b)
    return pair_key(label_a or model_a, label_b or model_b)


def draw_pair(
    models: Sequence[str | tuple[str, str]],
    counts: Mapping[tuple[str, str], int],
    *,
    done: Collection[tuple[int, int]] = (),
    seed: int | None = None,
) -> DrawnPair | None:
    """The next pair among candidates whose model references (or (reference, pane label)
    pairs) are `models`, in pane order.

    `counts` says how often each pair of models was judged (`judged_counts`); `done`
    holds candidate pairs (earlier index first) already judged here, which are skipped.
    None when no pair is left. `seed` (default: a fresh random one) makes both draws.
    """
    pairs = [pair for pair in combinations(range(len(models)), 2) if pair not in done]
    if not pairs:
        return None
    seed = secrets.randbits(32) if seed is None else seed
    rng = random.Random(seed)
    times = {
        pair: counts.get(candidate_pair_key(models[pair[0]], models[pair[1]]), 0) for pair in pairs
    }
    fewest = min(times.values())
    first, second = rng.choice([pair for pair in pairs if times[pair] == fewest])
    if rng.random() < 0.5:
        first, second = second, first
    return DrawnPair(shown_a=first, shown_b=second, seed=seed)
