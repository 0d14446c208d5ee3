"""How long the standings take: win rates, Wilson intervals and Bradley–Terry ratings.

Synthetic votes (a fixed seed) between models of evenly spaced strength, 10 % ties and
5 % "both bad", as `llmbench votes` and the quality table tally them. For each size: the
median time of `profiles.standings.standings_by_model` over a few runs. The headline is
8 models and 10,000 votes (a long evening of voting); the target is well under a second.

    .venv/bin/python benchmarks/standings_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import namedtuple

from profiles.standings import standings_by_model

Vote = namedtuple("Vote", "model_a model_b vote")


def synthetic_votes(models: int, votes: int, seed: int = 1) -> list[Vote]:
    """Votes where model i beats model j with Elo odds of 100 points per step of i − j."""
    rng = random.Random(seed)
    names = [f"m{i}" for i in range(models)]
    made = []
    for _ in range(votes):
        a, b = rng.sample(range(models), 2)
        roll = rng.random()
        if roll < 0.10:
            verdict = "tie"
        elif roll < 0.15:
            verdict = "both_bad"
        else:
            p_a = 1 / (1 + 10 ** ((b - a) / 4))
            verdict = "a" if rng.random() < p_a else "b"
        made.append(Vote(names[a], names[b], verdict))
    return made


def median_s(votes: list[Vote], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        standings_by_model(votes)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    standings_by_model(synthetic_votes(3, 10))  # import and first-call costs
    for models, votes in ((3, 30), (20, 10_000), (8, 10_000)):
        seconds = median_s(synthetic_votes(models, votes), args.repeats)
        print(f"standings_{models}_models_{votes}_votes_ms: {seconds * 1000:.1f}")


if __name__ == "__main__":
    main()
