"""Token probabilities from servers: asked for where the server answers them, read into the
same records local models send, and a server that rejects them runs on without them."""

from __future__ import annotations

import math

from openai_stub_server import OpenAIStub, StubReply, chunk
from test_remote import SAMPLING, collect, generate, loaded

from engines.protocol import GenerationFinished, TokensGenerated, Warned
from engines.remote.server_logprobs import LogprobReader, logprob_fields
from engines.types import GenerationRequest


def logprob_chunk(text: str, logprob: float, rivals: dict[str, float]) -> dict:
    """A streamed chunk with `text` and its logprobs entry (OpenAI's shape)."""
    tops = [{"token": text, "logprob": logprob}] + [
        {"token": t, "logprob": lp} for t, lp in rivals.items()
    ]
    entry = {"token": text, "logprob": logprob, "bytes": list(text.encode()), "top_logprobs": tops}
    return chunk(text) | {
        "choices": [{"index": 0, "delta": {"content": text}, "logprobs": {"content": [entry]}}]
    }


STREAM = [
    logprob_chunk("Deep", -0.1, {"Light": -2.5}),
    logprob_chunk(" blue", -1.2, {" red": -0.6, " green": -2.0}),
    chunk(None, "stop"),
]


def request(top: int) -> GenerationRequest:
    return GenerationRequest("Name a colour.", SAMPLING, None, "r1", top_candidates=top)


def test_a_llama_server_is_asked_for_logprobs_and_they_become_token_records() -> None:
    with OpenAIStub(replies=[StubReply(chunks=STREAM)]) as stub:
        handle = loaded(stub)
        assert handle.server_kind == "llama.cpp" and handle.serves_token_probabilities
        handle.generate(request(3))
        events = collect(handle, GenerationFinished)
    body = stub.chat_bodies()[0]
    assert body["logprobs"] is True and body["top_logprobs"] == 3
    records = [r for e in events if isinstance(e, TokensGenerated) for r in e.probabilities]
    assert [r.text for r in records] == ["Deep", " blue"]
    first, second = records
    assert math.isclose(first.probability, math.exp(-0.1)) and first.rank == 1
    assert second.rank == 2 and second.candidates[0].text == " red"
    assert second.raw_candidates == ()  # no raw logits from a server: no lens
    assert all(sum(c.probability for c in r.candidates) <= 1.0 for r in records)
    stats = events[-1].stats
    assert math.isclose(stats.mean_logprob, (-0.1 - 1.2) / 2)
    assert math.isclose(stats.perplexity, math.exp(0.65))
    assert stats.mean_entropy is not None and stats.mean_entropy > 0


def test_no_logprobs_are_asked_for_without_top_candidates() -> None:
    assert logprob_fields(0) == {}
    assert logprob_fields(50) == {"logprobs": True, "top_logprobs": 20}
    with OpenAIStub(replies=[StubReply(chunks=STREAM)]) as stub:
        handle = loaded(stub)
        _, finished, events = generate(handle)
    assert "logprobs" not in stub.chat_bodies()[0]
    assert not [r for e in events if isinstance(e, TokensGenerated) for r in e.probabilities]
    assert finished.stats.mean_logprob is None


def test_a_server_that_rejects_logprobs_runs_without_them_and_says_so() -> None:
    rejection = StubReply(
        status=400, error={"error": {"message": "Unrecognized request argument: logprobs"}}
    )
    ok = StubReply(chunks=[chunk("ok"), chunk(None, "stop")])
    with OpenAIStub(replies=[rejection, ok]) as stub:
        handle = loaded(stub)
        handle.generate(request(5))
        events = collect(handle, GenerationFinished)
    assert [e for e in events if isinstance(e, Warned) and "rejected logprobs" in e.message]
    assert events[-1].stats.stop_reason == "stop"
    assert not handle.serves_token_probabilities


def test_servers_not_known_to_answer_logprobs_are_not_asked_and_the_pane_says_so() -> None:
    for owned_by, kind in (("library", "ollama"), ("someone", "unknown")):
        with OpenAIStub(
            models=[{"id": "llama3", "owned_by": owned_by}], replies=[StubReply(chunks=STREAM)]
        ) as stub:
            handle = loaded(stub)
            assert handle.server_kind == kind
            assert not handle.serves_token_probabilities
    for owned_by in ("vllm", "me"):
        with OpenAIStub(models=[{"id": "m", "owned_by": owned_by}]) as stub:
            assert loaded(stub).serves_token_probabilities


def test_malformed_logprob_entries_are_skipped_not_fatal() -> None:
    reader = LogprobReader(0.7)
    assert reader.take("nonsense") == []
    assert (
        reader.take({"content": [{"token": 3}, "x", {"token": "a", "logprob": -0.5}]})[0].text
        == "a"
    )
    assert reader.summary()[0] == -0.5
