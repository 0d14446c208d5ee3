"""Token probabilities: what the sampler saw for every generated token, and the temperature lens.

Real-model tests run both demo models (n_ctx 512, loaded once per module).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from engines.local.engine import EngineError, LlamaEngine
from engines.protocol import SamplingChanged, TokensGenerated
from engines.temperature_lens import lens_entropy, lens_for_token, lens_probabilities
from engines.types import (
    GenerationRequest,
    ModelSettings,
    SamplingParams,
    TokenCandidate,
    TokenProbabilities,
)

PROMPT = "Write a short poem about the sea."
SAMPLED = SamplingParams(temperature=0.8, top_k=5, max_tokens=40, seed=7)
GREEDY = SamplingParams(temperature=0.0, max_tokens=40, seed=1, repeat_penalty=1.0)


def candidate(logit: float, token_id: int = 0) -> TokenCandidate:
    return TokenCandidate(token_id, f"t{token_id}", 0.0, logit)


# --- the temperature lens, no model -----------------------------------------------------


def test_lens_at_temperature_one_is_the_softmax_of_the_logits() -> None:
    logits = [2.0, 1.0, -0.5]
    expected = [math.exp(x) / sum(math.exp(y) for y in logits) for x in logits]
    got = lens_probabilities([candidate(x) for x in logits], 1.0)
    assert got == pytest.approx(expected)


def test_lens_at_temperature_zero_puts_all_mass_on_the_highest_logit() -> None:
    candidates = [candidate(1.0, 1), candidate(3.0, 2), candidate(2.9, 3)]
    assert lens_probabilities(candidates, 0.0) == [0.0, 1.0, 0.0]
    assert lens_probabilities(candidates, 1e-3)[1] > 0.999
    tie = [candidate(2.0, 1), candidate(2.0, 2)]
    assert lens_probabilities(tie, 0.0) == [0.5, 0.5]


def test_lens_flattens_as_the_temperature_rises() -> None:
    candidates = [candidate(x) for x in (3.0, 1.0, 0.0)]
    entropies = [lens_entropy(candidates, t) for t in (0.2, 0.7, 1.2, 5.0)]
    assert entropies == sorted(entropies)
    assert entropies[-1] < math.log(3)
    assert sum(lens_probabilities(candidates, 0.7)) == pytest.approx(1.0)


def test_lens_refuses_a_negative_temperature_and_takes_no_candidates() -> None:
    with pytest.raises(ValueError, match="temperature must be 0 or more"):
        lens_probabilities([candidate(1.0)], -0.1)
    assert lens_probabilities([], 0.7) == []


# --- real models ------------------------------------------------------------------------


def run(engine: LlamaEngine, sampling: SamplingParams, top_candidates: int = 5, control=None):
    """Generate; return (text, stats, token records, events)."""
    events: list = []
    request = GenerationRequest(PROMPT, sampling, request_id="r", top_candidates=top_candidates)
    stats = engine.generate(request, events.append, control)
    batches = [event for event in events if isinstance(event, TokensGenerated)]
    text = "".join(batch.text for batch in batches)
    records = [record for batch in batches for record in batch.probabilities]
    return text, stats, records, events


@pytest.fixture(scope="module", params=["smollm2", "gemma"])
def engine(request, smollm2_path: Path, gemma_path: Path):
    path = smollm2_path if request.param == "smollm2" else gemma_path
    loaded = LlamaEngine(ModelSettings(path=str(path), n_ctx=512, n_threads=1))
    loaded.load()
    yield loaded
    loaded.close()


@pytest.mark.real_model
def test_every_token_gets_a_record_whose_probabilities_sum_to_at_most_one(
    engine: LlamaEngine,
) -> None:
    _, stats, records, _ = run(engine, SAMPLED)
    assert len(records) == stats.generated_tokens > 0
    assert [record.index for record in records] == list(range(len(records)))
    for record in records:
        assert len(record.candidates) == 5 and len(record.raw_candidates) == 5
        total = sum(c.probability for c in record.candidates)
        assert 0 < total <= 1 + 1e-5
        probabilities = [c.probability for c in record.candidates]
        assert probabilities == sorted(probabilities, reverse=True)
        logits = [c.logit for c in record.raw_candidates]
        assert logits == sorted(logits, reverse=True)
        assert record.entropy >= 0 and 1 <= record.kept <= 5 and record.temperature == 0.8


@pytest.mark.real_model
def test_the_chosen_token_is_among_the_candidates_with_its_probability_and_rank(
    engine: LlamaEngine,
) -> None:
    _, _, records, _ = run(engine, SAMPLED)
    ranks = set()
    for record in records:
        ids = [c.token_id for c in record.candidates]
        assert record.token_id in ids
        assert ids.index(record.token_id) + 1 == record.rank
        assert record.candidates[record.rank - 1].probability == record.probability > 0
        assert record.logit == record.candidates[record.rank - 1].logit
        ranks.add(record.rank)
    assert len(ranks) > 1  # at temperature 0.8 the sampler does not always take the top one


@pytest.mark.real_model
def test_greedy_picks_rank_one_and_the_lens_at_zero_agrees(engine: LlamaEngine) -> None:
    _, _, records, _ = run(engine, GREEDY)
    assert records
    for record in records:
        assert (record.rank, record.probability, record.entropy) == (1, 1.0, 0.0)
        assert record.raw_candidates[0].token_id == record.token_id
        assert lens_probabilities(record.raw_candidates, 0.0)[0] == 1.0


@pytest.mark.real_model
def test_the_lens_from_raw_logits_at_a_low_temperature_puts_almost_all_mass_on_rank_one(
    engine: LlamaEngine,
) -> None:
    _, _, records, _ = run(engine, SAMPLED)
    top_mass = [lens_for_token(record, 0.01)[0][1] for record in records]
    assert sum(top_mass) / len(top_mass) > 0.95
    assert all(
        sum(lens_probabilities(r.raw_candidates, 0.7)) == pytest.approx(1.0) for r in records
    )


@pytest.mark.real_model
def test_probabilities_change_no_choice(engine: LlamaEngine) -> None:
    off_text, off_stats, off_records, _ = run(engine, SAMPLED, top_candidates=0)
    on_text, on_stats, _, _ = run(engine, SAMPLED, top_candidates=20)
    assert off_records == [] and off_stats.mean_entropy is None and off_stats.perplexity is None
    assert on_text == off_text and on_stats.generated_tokens == off_stats.generated_tokens
    assert on_stats.mean_logprob is not None


@pytest.mark.real_model
def test_the_answer_summary_follows_its_tokens(engine: LlamaEngine) -> None:
    _, stats, records, _ = run(engine, SAMPLED.with_changes(top_k=40))
    mean_logprob = sum(math.log(r.probability) for r in records) / len(records)
    assert stats.mean_logprob == pytest.approx(mean_logprob)
    assert stats.perplexity == pytest.approx(math.exp(-mean_logprob))
    assert stats.mean_entropy == pytest.approx(sum(r.entropy for r in records) / len(records))


@pytest.mark.real_model
def test_a_lower_temperature_answer_has_a_lower_mean_entropy(engine: LlamaEngine) -> None:
    cool = run(engine, SamplingParams(temperature=0.3, max_tokens=60, seed=3))[1]
    hot = run(engine, SamplingParams(temperature=1.2, max_tokens=60, seed=3))[1]
    assert cool.mean_entropy < hot.mean_entropy
    assert cool.perplexity < hot.perplexity


@pytest.mark.real_model
def test_top_k_off_and_a_live_change_still_give_full_records(engine: LlamaEngine) -> None:
    class ChangeOnce:
        calls = 0

        def cancelled(self) -> bool:
            return False

        def take_sampling_change(self):
            self.calls += 1
            return GREEDY if self.calls == 5 else None

    sampling = SAMPLED.with_changes(top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=1.0)
    _, _, records, events = run(engine, sampling, control=ChangeOnce())
    (change,) = [event for event in events if isinstance(event, SamplingChanged)]
    before, after = records[: change.at_token], records[change.at_token :]
    assert all(r.temperature == 0.8 and r.kept > 5 for r in before)
    assert all(r.temperature == 0.0 and r.rank == 1 for r in after)
    for record in records:
        logits = [c.logit for c in record.raw_candidates]
        assert len(logits) == 5 and logits == sorted(logits, reverse=True)


@pytest.mark.real_model
def test_more_than_twenty_candidates_is_a_one_line_error(engine: LlamaEngine) -> None:
    with pytest.raises(EngineError, match="top candidates must be 1 to 20, got 21"):
        run(engine, SAMPLED, top_candidates=21)


def test_token_records_are_frozen_and_logprob_has_a_floor() -> None:
    record = TokenProbabilities(
        index=0,
        token_id=1,
        text="a",
        probability=0.0,
        rank=2,
        logit=0.5,
        candidates=(),
        raw_candidates=(),
        entropy=0.0,
        kept=1,
        temperature=0.7,
    )
    assert record.logprob == -9999.0
    with pytest.raises(AttributeError):
        record.rank = 1  # type: ignore[misc]
