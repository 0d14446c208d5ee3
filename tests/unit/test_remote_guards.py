"""A server pane against servers that misbehave: past max_tokens, too big, malformed, echoing keys.

Each test runs the real client against the scripted loopback server
(`openai_stub_server.py`); every wait is bounded by `collect`'s timeout, so a client that
reads forever fails the test instead of hanging it.
"""

from __future__ import annotations

import json

import pytest
from openai_stub_server import OpenAIStub, StubReply, chunk
from test_remote import SAMPLING, collect, generate, loaded

from engines.protocol import LoadFailed, Warned
from engines.remote.client import MAX_BODY_BYTES, ServerError
from engines.remote.handle import RemoteModelHandle
from engines.remote.server_listing import list_server_models
from engines.remote.sse import MAX_EVENT_BYTES
from engines.types import ModelSettings

SECRET = "sk-live-0123456789abcdef"


# --- max_tokens ---------------------------------------------------------------------------


def test_a_server_that_ignores_max_tokens_is_cut_off_at_the_limit() -> None:
    endless = StubReply(chunks=[chunk("go")], chunk_delay_s=0.005, forever=True, done=False)
    with OpenAIStub(replies=[endless]) as stub:
        handle = loaded(stub)
        text, finished, events = generate(handle, SAMPLING.with_changes(max_tokens=8))
        assert stub.disconnected.wait(5.0)  # the stream was closed, not read to its end
    stats = finished.stats
    assert (stats.stop_reason, stats.error, stats.generated_tokens) == ("length", None, 8)
    assert text == "go" + " more" * 7
    warned = [e.message for e in events if isinstance(e, Warned)]
    assert any("kept writing past max_tokens (8)" in message for message in warned)


def test_a_server_that_keeps_max_tokens_still_gives_its_counts() -> None:
    """The limit reached exactly: the finish chunk and `usage` after it are still read."""
    chunks = [chunk(f"t{i}") for i in range(8)] + [
        chunk(None, "length"),
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 8}},
    ]
    with OpenAIStub(replies=[StubReply(chunks=chunks)]) as stub:
        handle = loaded(stub)
        _, finished, events = generate(handle, SAMPLING.with_changes(max_tokens=8))
    stats = finished.stats
    assert (stats.stop_reason, stats.prompt_tokens, stats.generated_tokens) == ("length", 5, 8)
    assert not [e for e in events if isinstance(e, Warned)]


# --- size caps ----------------------------------------------------------------------------


def test_a_streamed_line_without_a_break_stops_at_the_cap() -> None:
    endless_line = StubReply(raw=b"data: " + b"x" * (3 * MAX_EVENT_BYTES))
    with OpenAIStub(replies=[endless_line]) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    error = finished.stats.error
    assert finished.stats.stop_reason == "error"
    assert stub.url in error and "a line over 1 MiB" in error and "cap" in error


def test_an_event_of_many_data_lines_stops_at_the_cap() -> None:
    line = b"data: " + b"y" * 1000 + b"\n"
    many_lines = StubReply(raw=line * (2 * MAX_EVENT_BYTES // len(line)))
    with OpenAIStub(replies=[many_lines]) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    assert "a line over 1 MiB" in finished.stats.error


def test_a_whole_answer_over_the_body_cap_is_refused() -> None:
    huge = b'{"choices": [], "padding": "' + b"z" * MAX_BODY_BYTES + b'"}'
    with OpenAIStub(replies=[StubReply(raw=huge, content_type="application/json")]) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    error = finished.stats.error
    assert stub.url in error and "over 16 MiB" in error and "cap" in error


# --- clear errors -------------------------------------------------------------------------


def test_a_malformed_chunk_is_named_as_such() -> None:
    bad = StubReply(chunks=[chunk("ok"), {"choices": [{"index": 0, "delta": "str"}]}])
    with OpenAIStub(replies=[bad]) as stub:
        handle = loaded(stub)
        text, finished, _ = generate(handle)
    error = finished.stats.error
    assert text == "ok" and finished.stats.stop_reason == "error"
    assert "sent a malformed chunk (choices[0].delta is a string, not an object)" in error
    assert "attribute" not in error


def test_a_chunk_that_is_not_json_is_named_as_such() -> None:
    with OpenAIStub(replies=[StubReply(chunks=["<b>oops</b>"])]) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    assert "malformed chunk (not JSON: '<b>oops</b>')" in finished.stats.error


def test_an_html_page_instead_of_a_stream_says_so() -> None:
    page = StubReply(raw=b"<html><body>Welcome to nginx!</body></html>", content_type="text/html")
    with OpenAIStub(replies=[page]) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    error = finished.stats.error
    assert "answered with an HTML page, not an event stream (wrong URL?" in error
    assert "mid-answer" not in error


@pytest.mark.parametrize(
    "raw",
    [
        b'error: {"code": 500, "message": "context shift is disabled", "type": "server_error"}\n\n',
        b'event: error\ndata: {"message": "context shift is disabled"}\n\n',
    ],
    ids=["error-line", "error-event"],
)
def test_an_error_event_in_the_stream_shows_its_message(raw: bytes) -> None:
    first = f"data: {json.dumps(chunk('Hi'))}\n\n".encode()
    with OpenAIStub(replies=[StubReply(raw=first + raw)]) as stub:
        handle = loaded(stub)
        text, finished, _ = generate(handle)
    assert text == "Hi" and finished.stats.stop_reason == "error"
    assert finished.stats.error.endswith("reported an error: context shift is disabled")


# --- API keys and status codes -------------------------------------------------------------


def test_an_api_key_echoed_by_the_server_is_never_shown() -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {SECRET}"}}
    with OpenAIStub(models_status=401, models_error=echo) as stub:
        handle = RemoteModelHandle(stub.url, "m", SECRET, 2.0, connect_timeout_s=2.0)
        handle.load(ModelSettings(path=stub.url))
        failed = collect(handle, LoadFailed)[-1]
        with pytest.raises(ServerError) as listing:
            list_server_models(stub.url, SECRET)
    assert SECRET not in failed.reason and "Incorrect API key provided: [API key]" in failed.reason
    assert SECRET not in str(listing.value) and "[API key]" in str(listing.value)


def test_an_api_key_echoed_in_a_stream_or_a_rejection_is_never_shown() -> None:
    rejection = StubReply(status=400, error={"error": {"message": f"top_k unknown for {SECRET}"}})
    in_stream = StubReply(chunks=[{"error": {"message": f"quota exceeded for key {SECRET}"}}])
    with OpenAIStub(replies=[rejection, in_stream]) as stub:
        handle = loaded(stub, api_key=SECRET)
        _, finished, events = generate(handle)
    shown = [e.message for e in events if isinstance(e, Warned)] + [finished.stats.error]
    assert all(SECRET not in text for text in shown), shown
    assert "quota exceeded for key [API key]" in finished.stats.error
    assert any("top_k unknown for [API key]" in text for text in shown)


def test_a_server_error_that_mentions_401_is_not_a_key_problem() -> None:
    """The key hint follows the HTTP status, not a "401" somewhere in the server's text."""
    upstream = StubReply(status=502, error={"error": {"message": "upstream answered 401 once"}})
    with OpenAIStub(replies=[upstream]) as stub:
        handle = loaded(stub)
        _, finished, _ = generate(handle)
    assert "502" in finished.stats.error and "API key" not in finished.stats.error


def test_a_401_while_answering_says_where_the_key_comes_from() -> None:
    refused = StubReply(status=401, error={"error": {"message": "expired"}})
    with OpenAIStub(replies=[refused]) as stub:
        handle = loaded(stub, api_key="k-123456", api_key_env="BOX_KEY")
        _, finished, _ = generate(handle)
    assert "401" in finished.stats.error
    assert finished.stats.error.endswith("(the API key from BOX_KEY was refused)")
