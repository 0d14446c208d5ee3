"""Win rates, Wilson intervals and Bradley–Terry ratings against hand-computed values."""

from __future__ import annotations

import math
from collections import namedtuple

import pytest

from profiles.standings import (
    ELO_BASE,
    Standing,
    bradley_terry,
    bradley_terry_strengths,
    elo_ratings,
    standings_by_model,
    wilson_interval,
)

V = namedtuple("V", "model_a model_b vote")


def test_wilson_interval_matches_the_textbook_values() -> None:
    # 7 of 10: p = 0.7, z = 1.96 → centre 0.6445, half width 0.2477 (by hand).
    low, high = wilson_interval(7, 10)
    assert low == pytest.approx(0.3968, abs=1e-4)
    assert high == pytest.approx(0.8922, abs=1e-4)
    # 0 of 10: (0, z²/n / (1 + z²/n)) = (0, 0.2775).
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)


def test_wilson_interval_takes_half_wins_and_knows_nothing_without_votes() -> None:
    # 2.5 of 5 (ties count half): centre 0.5, half width 1.96·sqrt(0.05 + 0.0384)/1.7683.
    low, high = wilson_interval(2.5, 5)
    assert low == pytest.approx(0.1704, abs=1e-4)
    assert high == pytest.approx(0.8296, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_bradley_terry_without_prior_matches_the_closed_form() -> None:
    # A beat B 2-1 and C 2-1, B and C split 1-1. By symmetry p_B = p_C = 1; A's score
    # equation 4 = 6x/(x+1) gives p_A = 2 (B's check: 2 = 3/3 + 2/2). Elo scale over the
    # geometric mean 2^(1/3): A = 1000 + 400·(2/3)·log10 2, B = C = 1000 − 400/3·log10 2.
    wins = {
        ("A", "B"): 2,
        ("B", "A"): 1,
        ("A", "C"): 2,
        ("C", "A"): 1,
        ("B", "C"): 1,
        ("C", "B"): 1,
    }
    ratings = bradley_terry(wins, virtual_ties=0)
    assert ratings["A"] == pytest.approx(1000 + 400 * 2 / 3 * math.log10(2), abs=1e-6)
    assert ratings["B"] == pytest.approx(1000 - 400 / 3 * math.log10(2), abs=1e-6)
    assert ratings["C"] == pytest.approx(ratings["B"], abs=1e-6)
    assert round(ratings["A"], 2) == 1080.27


def test_bradley_terry_prior_keeps_a_model_that_never_won_finite() -> None:
    wins = {("A", "B"): 3, ("B", "C"): 3, ("A", "C"): 3}
    ratings = bradley_terry(wins)
    assert all(math.isfinite(r) for r in ratings.values())
    assert ratings["A"] > ratings["B"] > ratings["C"]
    # The strengths solve the score equations with one virtual tie against strength 1:
    # wins + ½ = Σ_j n_ij · p_i / (p_i + p_j) + p_i / (p_i + 1).
    p = bradley_terry_strengths(wins)
    for model, won in (("A", 6.5), ("B", 3.5), ("C", 0.5)):
        played = [(o, 3) for o in "ABC" if o != model]
        expected = sum(n * p[model] / (p[model] + p[o]) for o, n in played)
        expected += p[model] / (p[model] + 1)
        assert expected == pytest.approx(won, rel=1e-8)
    assert ratings == pytest.approx(elo_ratings(p))


def test_standings_count_ties_half_and_both_bad_as_no_win() -> None:
    votes = [
        V("A", "B", "a"),
        V("B", "A", "b"),  # A shown second, still A wins
        V("A", "B", "b"),
        V("A", "C", "a"),
        V("C", "A", "a"),
        V("A", "C", "a"),
        V("B", "C", "tie"),
        V("C", "B", "tie"),
        V("B", "C", "both_bad"),
    ]
    standings = standings_by_model(votes)
    assert set(standings) == {"A", "B", "C"}
    a, b, c = standings["A"], standings["B"], standings["C"]
    assert (a.votes, a.wins) == (6, 4.0)
    assert (b.votes, b.wins) == (6, 2.0)
    assert (c.votes, c.wins) == (6, 2.0)
    assert a.win_rate == pytest.approx(4 / 6)
    assert (a.win_low, a.win_high) == wilson_interval(4, 6)
    assert a.rating is not None and b.rating is not None and c.rating is not None
    assert a.rating > b.rating
    assert b.rating == pytest.approx(c.rating)
    # Ratings center on 1000 (geometric mean strength).
    assert (a.rating + b.rating + c.rating) / 3 == pytest.approx(ELO_BASE)
    assert isinstance(a, Standing)


def test_votes_between_panes_of_one_model_count_for_their_labels() -> None:
    L = namedtuple("L", "model_a model_b vote label_a label_b")
    sweep = [L("demo:x", "demo:x", "a", "cold", "hot"), L("demo:x", "demo:x", "tie", "hot", "cold")]
    standings = standings_by_model(sweep)
    assert {m: (s.votes, s.wins) for m, s in standings.items()} == {
        "cold": (2, 1.5),
        "hot": (2, 0.5),
    }
    assert standings_by_model([L("demo:x", "demo:x", "a", "same", "same")]) == {}


def test_two_models_get_no_rating_and_self_votes_are_left_out() -> None:
    standings = standings_by_model([V("A", "B", "a"), V("A", "A", "a"), V("B", "A", "tie")])
    assert standings["A"] == Standing("A", 2, 1.5, 0.75, *wilson_interval(1.5, 2), None)
    assert standings["B"].wins == 0.5
    assert standings["B"].rating is None
    assert standings_by_model([]) == {}


def test_a_model_with_only_both_bad_votes_still_gets_a_rating() -> None:
    standings = standings_by_model(
        [V("A", "B", "a"), V("B", "C", "a"), V("C", "D", "both_bad"), V("D", "A", "both_bad")]
    )
    assert standings["D"].rating is not None and math.isfinite(standings["D"].rating)
    assert standings["D"].win_rate == 0.0
