"""Standings from blind votes: the figures the quality table shows per model.

`standings_by_model(votes)` tallies votes (anything with `model_a`, `model_b` and `vote`,
such as `profiles.votes.Vote`) into one `Standing` per model reference. The rules
(docs/metrics.md, "Blind votes"):

- every vote counts once for both models it judged;
- a win counts 1 for the winner, a tie ½ for each, "both bad" nothing for either;
- the win rate is wins / votes, with a 95 % Wilson score interval (`wilson_interval`);
- with more than two models, a Bradley–Terry rating (`bradley_terry`, Hunter's MM
  algorithm) on the Elo scale: 1000 for the geometric mean strength, +400 for ten
  times the odds of winning. "Both bad" votes say nothing about which is better and are
  left out of the rating; ties count ½ a win each. Each model also gets one virtual tie
  against a fixed model of strength 1, so a model that never won (or a set of models
  never compared with the rest) still gets a finite rating.
- a vote between two panes of the same model reference (a temperature sweep) counts
  for the two pane labels instead (`contenders`); with the same label too, it is left out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

import numpy as np

Z_95 = NormalDist().inv_cdf(0.975)
"""The normal quantile of a two-sided 95 % interval (1.95996…)."""

ELO_BASE = 1000.0
"""The rating of a model of average (geometric mean) strength."""
ELO_SCALE = 400.0
"""Rating points for ten times the odds of winning."""

VIRTUAL_TIES = 1.0
"""Virtual ties per model against a fixed model of strength 1 (Bradley–Terry prior)."""


class JudgedPair(Protocol):
    """One vote: the two model references judged and the verdict ("a", "b", "tie", "both_bad").

    A vote may also carry `label_a` and `label_b` (the pane labels), used by `contenders`.
    """

    @property
    def model_a(self) -> str: ...

    @property
    def model_b(self) -> str: ...

    @property
    def vote(self) -> str: ...


@dataclass(frozen=True)
class Standing:
    """One model's standing over blind votes."""

    model: str
    """The model reference as the panes wrote it (a pane label for panes of one model)."""
    votes: int
    """How many votes involved this model."""
    wins: float
    """Wins, a tie counting half and "both bad" nothing."""
    win_rate: float
    """wins / votes."""
    win_low: float
    """Lower end of the 95 % Wilson interval of the win rate."""
    win_high: float
    """Upper end of the 95 % Wilson interval of the win rate."""
    rating: float | None
    """Bradley–Terry rating (Elo scale); None when fewer than three models were judged."""


def wilson_interval(wins: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `wins / n` (`wins` may be fractional).

    (0, 1) when n is 0: nothing is known.
    """
    if n <= 0:
        return 0.0, 1.0
    p = wins / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def bradley_terry(
    wins: Mapping[tuple[str, str], float],
    *,
    models: Iterable[str] = (),
    virtual_ties: float = VIRTUAL_TIES,
) -> dict[str, float]:
    """Bradley–Terry ratings on the Elo scale: `elo_ratings(bradley_terry_strengths(...))`."""
    return elo_ratings(bradley_terry_strengths(wins, models=models, virtual_ties=virtual_ties))


def bradley_terry_strengths(
    wins: Mapping[tuple[str, str], float],
    *,
    models: Iterable[str] = (),
    virtual_ties: float = VIRTUAL_TIES,
    tolerance: float = 1e-10,
    max_iterations: int = 100_000,
) -> dict[str, float]:
    """Bradley–Terry strengths by Hunter's MM algorithm.

    `wins[(i, j)]` is how often i beat j (ties entered as ½ each way); `models` adds models
    without a decided vote. Each model also plays `virtual_ties` virtual ties against a
    fixed opponent of strength 1, which fixes the scale and keeps every strength finite
    and positive. With `virtual_ties=0` these are the maximum-likelihood strengths, which
    exist only when every model both won and lost within one connected set; the scale is
    then arbitrary. Each MM step: p_i ← W_i / Σ_j n_ij / (p_i + p_j).
    """
    names = sorted({m for pair in wins for m in pair} | set(models))
    index = {name: i for i, name in enumerate(names)}
    games = np.zeros((len(names), len(names)))
    won = np.zeros(len(names))
    for (winner, loser), count in wins.items():
        if winner == loser or count <= 0:
            continue
        i, j = index[winner], index[loser]
        won[i] += count
        games[i, j] += count
        games[j, i] += count
    numerator = won + virtual_ties / 2
    strength = np.ones(len(names))
    for _ in range(max_iterations):
        denominator = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        denominator += virtual_ties / (strength + 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            updated = np.where((numerator > 0) & (denominator > 0), numerator / denominator, 1e-300)
        updated *= _best_scale(updated) if virtual_ties > 0 else 1.0
        change = float(np.max(np.abs(np.log(updated / strength)), initial=0.0))
        strength = updated
        if change < tolerance:
            break
    return {name: float(strength[index[name]]) for name in names}


def _best_scale(strength: np.ndarray) -> float:
    """The factor c that maximises the prior's likelihood of the strengths c·p.

    The real votes only fix the strengths' ratios; their common scale is fixed by the
    virtual ties alone, which MM moves towards very slowly when there are many votes.
    Solving for it exactly after each MM step (Σ_i ½ − c·p_i / (c·p_i + 1) = 0, by Newton
    on log c) is a block step of the same ascent, so the likelihood still never drops.
    """
    log_p = np.log(strength)
    t = -float(np.mean(log_p))
    for _ in range(50):
        sigma = 1.0 / (1.0 + np.exp(-(t + log_p)))
        slope = float(np.sum(sigma * (1.0 - sigma)))
        if slope <= 0:
            break
        step = max(
            -2.0, min(2.0, float(np.sum(0.5 - sigma)) / slope)
        )  # damped: never overshoots far
        t += step
        if abs(step) < 1e-13:
            break
    return float(np.exp(t))


def elo_ratings(strengths: Mapping[str, float]) -> dict[str, float]:
    """ELO_BASE + ELO_SCALE · log10(strength / geometric mean strength), per model."""
    if not strengths:
        return {}
    log_mean = sum(math.log10(s) for s in strengths.values()) / len(strengths)
    return {m: ELO_BASE + ELO_SCALE * (math.log10(s) - log_mean) for m, s in strengths.items()}


def standings_by_model(votes: Iterable[JudgedPair]) -> dict[str, Standing]:
    """One `Standing` per model reference (or pane label, see `contenders`) over `votes`."""
    count: dict[str, int] = defaultdict(int)
    score: dict[str, float] = defaultdict(float)
    pair_wins: dict[tuple[str, str], float] = defaultdict(float)
    for vote in votes:
        a, b = contenders(vote)
        if a == b:
            continue
        count[a] += 1
        count[b] += 1
        share_a = {"a": 1.0, "b": 0.0, "tie": 0.5}.get(vote.vote)
        if share_a is None:
            continue
        score[a] += share_a
        score[b] += 1.0 - share_a
        pair_wins[(a, b)] += share_a
        pair_wins[(b, a)] += 1.0 - share_a
    ratings = bradley_terry(pair_wins, models=count) if len(count) > 2 else {}
    standings = {}
    for model in sorted(count):
        low, high = wilson_interval(score[model], count[model])
        standings[model] = Standing(
            model=model,
            votes=count[model],
            wins=score[model],
            win_rate=score[model] / count[model],
            win_low=low,
            win_high=high,
            rating=ratings.get(model),
        )
    return standings


def contenders(vote: JudgedPair) -> tuple[str, str]:
    """Whom a vote judged: the two model references, or the two pane labels (`label_a`,
    `label_b`, when the vote has them) where both panes ran the same model."""
    if vote.model_a != vote.model_b:
        return vote.model_a, vote.model_b
    return getattr(vote, "label_a", "") or vote.model_a, getattr(
        vote, "label_b", ""
    ) or vote.model_b


def _pair_key(i: str, j: str) -> tuple[str, str]:
    return (i, j) if i <= j else (j, i)
