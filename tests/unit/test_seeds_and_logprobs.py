"""Seed modes, the seed spread of `--seeds`, and token probabilities in results and exports.

No model: results are built from fixed records (`result_samples`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from result_samples import make_result, stats

from engines.types import SamplingParams, TokenCandidate, TokenProbabilities
from profiles.csv_export import to_csv
from profiles.history import append_result, read_history
from profiles.json_export import to_json
from profiles.logprobs import openai_logprobs
from profiles.markdown_export import to_markdown
from profiles.plan import build_plan, sampling_for_run
from profiles.schema import Profile
from profiles.seed_spread import answer_similarity, seed_spread


def token(index: int, text: str, probability: float, cut: str = "zz") -> TokenProbabilities:
    chosen = TokenCandidate(10 + index, text, probability, 5.0)
    other = TokenCandidate(99, cut, 1.0 - probability, 4.0)
    dropped = TokenCandidate(98, "x", 0.0, 1.0)
    return TokenProbabilities(
        index=index,
        token_id=10 + index,
        text=text,
        probability=probability,
        rank=1,
        logit=5.0,
        candidates=(chosen, other, dropped),
        raw_candidates=(chosen, other, dropped),
        entropy=0.5,
        kept=2,
        temperature=0.7,
    )


# --- seeds ----------------------------------------------------------------------------


def test_fixed_seed_mode_keeps_the_seed_and_new_draws_one_per_run() -> None:
    sampling = SamplingParams(seed=42)
    assert sampling_for_run(sampling, "fixed") is sampling
    draws = iter([5, 6])
    assert sampling_for_run(sampling, "new", lambda: next(draws)).seed == 5
    assert sampling_for_run(sampling, "new", lambda: next(draws)).seed == 6
    seeds = {sampling_for_run(sampling, "new").seed for _ in range(20)}
    assert len(seeds) > 1 and all(0 <= seed < 2**32 for seed in seeds)


def test_seed_mode_is_a_profile_value_with_pane_overrides() -> None:
    profile = Profile.model_validate(
        {
            "name": "seeds",
            "seed_mode": "new",
            "panes": [{"model": "/m/a.gguf"}, {"model": "/m/b.gguf", "seed_mode": "fixed"}],
        }
    )
    plans = build_plan(profile, resolve=Path)
    assert [plan.seed_mode for plan in plans] == ["new", "fixed"]
    one_pane = [{"model": "/m/a.gguf"}]
    assert Profile(name="p", panes=one_pane).seed_mode == "fixed"
    with pytest.raises(ValueError, match="seed_mode"):
        Profile.model_validate({"name": "p", "panes": one_pane, "seed_mode": "sometimes"})


def test_seed_spread_counts_distinct_answers_and_their_similarity_per_temperature() -> None:
    results = [
        make_result(text="the sea is blue", temperature=0.0),
        make_result(text="the sea is blue", temperature=0.0),
        make_result(text="the sea is blue", temperature=1.2),
        make_result(text="the sea is green", temperature=1.2),
        make_result(text="a whale sings", temperature=1.2),
    ]
    cold, hot = seed_spread(results)
    assert (cold.temperature, cold.runs, cold.distinct, cold.mean_similarity) == (0.0, 2, 1, 1.0)
    assert (hot.temperature, hot.runs, hot.distinct) == (1.2, 3, 3)
    assert hot.mean_similarity == pytest.approx((0.75 + 0 + 0) / 3)
    assert answer_similarity("a b c d", "a b c d") == 1.0
    assert answer_similarity("a b", "c d") == 0.0
    (single,) = seed_spread(results[:1])
    assert single.mean_similarity is None


# --- token probabilities in results -------------------------------------------------


def test_openai_logprobs_shape_with_a_floor_for_cut_candidates() -> None:
    document = openai_logprobs([token(0, "Hi", 0.8), token(1, " there", 0.6)], top=3)
    first, second = document["content"]
    assert first["token"] == "Hi" and first["bytes"] == [72, 105]
    assert first["logprob"] == pytest.approx(math.log(0.8), abs=1e-6)
    assert [c["token"] for c in first["top_logprobs"]] == ["Hi", "zz", "x"]
    assert first["top_logprobs"][2]["logprob"] == -9999.0
    assert second["top_logprobs"][1]["logprob"] == pytest.approx(math.log(0.4), abs=1e-6)
    assert (
        openai_logprobs([token(0, "a", 0.5)], top=1)["content"][0]["top_logprobs"][0]["token"]
        == "a"
    )


def test_logprobs_go_to_the_json_export_but_not_the_history_or_csv(tmp_path) -> None:
    result = make_result(
        run_stats=stats(mean_logprob=-0.4, perplexity=math.exp(0.4), mean_entropy=0.9),
        token_probabilities=[token(0, "Black", 0.9)],
        top_logprobs=2,
    )
    record = json.loads(to_json([result]))["results"][0]
    assert record["logprobs"]["content"][0]["token"] == "Black"
    assert (record["mean_logprob"], record["mean_entropy"]) == (-0.4, 0.9)
    assert "logprobs" not in to_csv([result]).splitlines()[0].split(",")
    assert "mean_entropy" in to_csv([result]).splitlines()[0].split(",")
    assert "| perplexity | 1.49 |" in to_markdown([result])
    append_result(result, tmp_path / "history.jsonl")
    (kept,), _problems = read_history(tmp_path / "history.jsonl")
    assert kept.logprobs is None and kept.figures.mean_entropy == 0.9


def test_a_result_without_token_probabilities_has_none() -> None:
    result = make_result()
    assert result.logprobs is None and result.figures.perplexity is None
    assert "logprobs" not in json.loads(to_json([result]))["results"][0]
