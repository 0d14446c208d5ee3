"""A server pane's generations: each one streamed chat completion, judged into its stats.

`ChatCompletions.answer` sends the request (`engines.remote.stream.request_body`); a 400 or
422 that names an optional field (say `top_k`) is a warning, and the request goes again
without that field, which stays dropped for the pane. The answer is read off the wire
(`engines.remote.answer_reader`) into a `StreamTally`, and how it ended becomes the stop
reason: an error inside the stream, a malformed chunk, a stream that ends mid-answer, or a
server that wrote past `max_tokens` (cut off here, stop reason "length"). Cancelling closes
the connection in flight. Notices that hold for the whole pane (no token counts, max_tokens
ignored) are given once.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable

from engines.protocol import Event, GenerationStarted, Warned
from engines.remote.answer_reader import is_whole_answer, read_answer
from engines.remote.client import ServerConnection, ServerError, Timeouts
from engines.remote.server_access import ServerAccess
from engines.remote.server_logprobs import LogprobReader
from engines.remote.stream import StreamTally, rejected_field, request_body
from engines.types import GenerationRequest, GenerationStats

MAX_RETRIES = 4
"""How many rejected fields a request may drop before the error is final."""


class ChatCompletions:
    """The chat completions of one server pane: sending, reading, cancelling, judging."""

    def __init__(self, access: ServerAccess, emit: Callable[[Event], None]) -> None:
        """`emit` delivers the events of each answer (started, token batches, warnings)."""
        self._access = access
        self._emit = emit
        self.dropped_fields: set[str] = set()
        """Optional request fields this server rejected; never sent again."""
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._connection: ServerConnection | None = None
        self._usage_notice_given = False
        self._limit_notice_given = False

    def rearm(self) -> None:
        """Forget a cancel meant for the previous answer (a new one is about to start)."""
        self._cancelled.clear()

    def cancel(self) -> None:
        """Stop the answer in flight: its connection is closed at once."""
        with self._lock:
            self._cancelled.set()
            connection = self._connection
        if connection is not None:
            connection.close()

    def answer(
        self,
        request: GenerationRequest,
        model: str | None,
        server_kind: str,
        timeouts: Timeouts | None,
    ) -> GenerationStats:
        """Run `request` as one chat completion of `model`; `timeouts` None: not loaded."""
        try:
            return self._answer(request, model, server_kind, timeouts)
        finally:
            with self._lock:
                self._connection = None

    def _answer(
        self,
        request: GenerationRequest,
        model: str | None,
        server_kind: str,
        timeouts: Timeouts | None,
    ) -> GenerationStats:
        self._emit(GenerationStarted(request.request_id, "chat", None))
        tally = StreamTally(
            request.request_id,
            time.perf_counter(),
            self._emit,
            max_tokens=request.sampling.max_tokens,
            logprobs=(
                LogprobReader(request.sampling.temperature) if request.top_candidates else None
            ),
        )
        if timeouts is None:
            return tally.stats("error", "the server model is not loaded")
        host = self._access.host
        for _ in range(MAX_RETRIES + 1):
            body = request_body(model, request, server_kind, self.dropped_fields)
            connection = ServerConnection(self._access.base_url, timeouts, self._access.api_key)
            with self._lock:
                if self._cancelled.is_set():
                    return tally.stats("cancelled")
                self._connection = connection
            tally.sent_at = time.perf_counter()
            try:
                response = connection.send("POST", "/chat/completions", body)
                break
            except ServerError as exc:
                if self._cancelled.is_set():
                    return tally.stats("cancelled")
                field = (
                    rejected_field(exc.server_message, body) if exc.status in (400, 422) else None
                )
                if field is None:
                    return tally.stats("error", self._access.failure_line(exc))
                self.dropped_fields.add(field)
                self._emit(
                    Warned(f"{host} rejected {field} ({exc.server_message}); running without it")
                )
        else:  # pragma: no cover - every optional field rejected in turn
            return tally.stats("error", f"{host} rejected the request")
        return self._read_stream(connection, response, tally)

    def _read_stream(
        self, connection: ServerConnection, response: http.client.HTTPResponse, tally: StreamTally
    ) -> GenerationStats:
        host = self._access.host
        error = read_answer(connection, response, tally)
        if self._cancelled.is_set():
            return tally.stats("cancelled")
        if tally.error:
            return tally.stats("error", f"{host} reported an error: {tally.error}")
        if tally.malformed:
            return tally.stats(
                "error", f"{host} sent a malformed chunk ({tally.malformed}), not a chat "
                "completion chunk; is it an OpenAI-compatible server?",
            )  # fmt: skip
        if tally.over_limit:
            self._say_limit_overrun(tally)
            return tally.stats("length")
        if error is None and not tally.done and tally.finish_reason is None:
            error = (
                f"{self._access.base_url} ended the stream mid-answer, "
                f"after {tally.text_tokens} tokens"
            )
        if error is not None:
            return tally.stats("error", error)
        if is_whole_answer(response):
            self._emit(
                Warned(
                    f"{host} answered without streaming: the whole answer came at once, "
                    "so TTFT is the full time and decode speed is unknown"
                )
            )
        if not tally.has_counts and not self._usage_notice_given:
            self._usage_notice_given = True
            self._emit(
                Warned(
                    f"{host} returns no token counts while streaming: generated tokens are "
                    "counted from the streamed chunks, prompt tokens are unknown (—)"
                )
            )
        return tally.stats(tally.stop_reason())

    def _say_limit_overrun(self, tally: StreamTally) -> None:
        """Once per pane: the server wrote past max_tokens, so llmbench stopped reading."""
        if self._limit_notice_given:
            return
        self._limit_notice_given = True
        self._emit(
            Warned(
                f"{self._access.host} kept writing past max_tokens ({tally.max_tokens}); "
                "llmbench closed the stream there (the server may ignore max_tokens)"
            )
        )
