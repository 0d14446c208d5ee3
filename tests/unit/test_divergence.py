"""Where answers part (`profiles.divergence`): by text across models, by token id within one
model; and on a real model, the marker lands on the first token two seeded runs differ."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from engines.local.engine import LlamaEngine
from engines.protocol import TokensGenerated
from engines.types import (
    GenerationRequest,
    ModelSettings,
    SamplingParams,
    TokenCandidate,
    TokenProbabilities,
)
from profiles.divergence import answer_text, find_divergence, token_at


def answer(*texts: str, first_id: int = 0, special: tuple[int, ...] = ()) -> list:
    records = []
    for index, text in enumerate(texts):
        token_id = first_id + zlib.crc32(text.encode())
        chosen = TokenCandidate(token_id, text, 0.5, 1.0, index in special)
        records.append(
            TokenProbabilities(
                index, token_id, text, 0.5, 1, 1.0, (chosen,), (chosen,), 0.1, 2, 0.7
            )
        )
    return records


def test_answers_from_different_tokenizers_part_at_the_first_differing_character() -> None:
    a = answer("The", " sky", " is", " blue")
    b = answer("The s", "ky", " was", " grey")
    divergence = find_divergence([a, b])
    assert divergence.common_text == "The sky "
    assert [p.token_index for p in divergence.partings] == [2, 2]
    assert divergence.partings[0].record.text == " is"


def test_an_answer_that_ended_is_marked_ended_and_equal_answers_do_not_part() -> None:
    short, long = answer("Hi", "."), answer("Hi", ".", " Bye")
    divergence = find_divergence([short, long])
    assert divergence.partings[0].ended and divergence.partings[1].token_index == 2
    assert find_divergence([short, answer("Hi", ".")]) is None
    with pytest.raises(ValueError, match="two or more"):
        find_divergence([short])


def test_special_tokens_are_not_answer_text() -> None:
    records = answer("Hi", "<eot>", "!", special=(1,))
    assert answer_text(records) == "Hi!"
    assert token_at(records, 2) == 2 and token_at(records, 3) is None


def test_one_models_answers_part_at_the_first_different_token_id() -> None:
    a = answer("a", "b", "c", "x")
    b = answer("a", "bc", "d")  # the same text up to "abc", a different token at index 1
    assert [p.token_index for p in find_divergence([a, b]).partings] == [3, 2]
    by_token = find_divergence([a, b], same_vocabulary=True)
    assert [p.token_index for p in by_token.partings] == [1, 1]
    assert by_token.common_text == "a"


# --- a real model ------------------------------------------------------------------------

PROMPT = "Write a short poem about the sea."


def records_of(engine: LlamaEngine, sampling: SamplingParams) -> list[TokenProbabilities]:
    events: list = []
    engine.generate(
        GenerationRequest(PROMPT, sampling, request_id="r", top_candidates=5), events.append
    )
    return [r for e in events if isinstance(e, TokensGenerated) for r in e.probabilities]


@pytest.fixture(scope="module")
def smollm2(smollm2_path: Path):
    engine = LlamaEngine(ModelSettings(path=str(smollm2_path), n_ctx=512, n_threads=1))
    engine.load()
    yield engine
    engine.close()


@pytest.mark.real_model
def test_the_marker_lands_on_the_first_token_two_seeded_runs_differ(smollm2) -> None:
    sampling = SamplingParams(temperature=1.0, top_k=40, max_tokens=32)
    first = records_of(smollm2, sampling.with_changes(seed=1))
    second = records_of(smollm2, sampling.with_changes(seed=2))
    again = records_of(smollm2, sampling.with_changes(seed=1))
    assert find_divergence([first, again], same_vocabulary=True) is None  # a seed repeats
    divergence = find_divergence([first, second], same_vocabulary=True)
    assert divergence is not None
    index = divergence.partings[0].token_index
    assert index == divergence.partings[1].token_index
    ids = lambda records: [r.token_id for r in records]  # noqa: E731
    assert ids(first)[:index] == ids(second)[:index]
    assert first[index].token_id != second[index].token_id
    # By text the marker is never earlier than by token, and at the same token here or later.
    by_text = find_divergence([first, second])
    assert by_text.offset >= divergence.offset


@pytest.mark.real_model
def test_greedy_and_sampled_part_where_sampling_took_a_lower_rank(smollm2) -> None:
    greedy = records_of(smollm2, SamplingParams(temperature=0.0, max_tokens=32, seed=3))
    hot = records_of(smollm2, SamplingParams(temperature=1.5, top_k=40, max_tokens=32, seed=3))
    divergence = find_divergence([greedy, hot], same_vocabulary=True)
    assert divergence is not None
    index = divergence.partings[0].token_index
    assert greedy[index].rank == 1
    assert hot[index].rank > 1  # the hot run took a token the greedy one did not
