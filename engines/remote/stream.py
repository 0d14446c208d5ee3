"""One streamed chat completion from an OpenAI-compatible server, in llmbench's terms.

`request_body` writes the request with every sampling value the server takes (top_k,
min_p and repeat_penalty as the extra fields llama.cpp's servers and vLLM accept);
`sampling_notes` says which values a kind of server ignores; `rejected_field` finds the
field a 400 answer names. `StreamTally` turns the streamed chunks into TokensGenerated
batches and, at the end, GenerationStats as docs/metrics.md defines them, measured on the
client: TTFT and decode speed from each chunk's arrival time, token counts from the
server's `usage` (or llama-server's `timings`), prompt and engine speeds from `timings`.

The tally also guards the client: text past `max_tokens` is not taken (a server that
ignores the limit would otherwise stream forever; `over_limit` tells the reader to stop),
a chunk that is not a chat-completion chunk is `malformed` (its flaw named), and an
error the server reports inside the stream is kept in `error`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engines.messages import one_line
from engines.protocol import Event, TokensGenerated
from engines.remote.client import message_in
from engines.remote.server_logprobs import LogprobReader, logprob_fields
from engines.types import GenerationRequest, GenerationStats, StopReason, decode_speed

BATCH_INTERVAL_S = 0.03
"""A batch of streamed text goes out at most this long after the previous one."""
BATCH_MAX_TOKENS = 16

EXTRA_SAMPLING_FIELDS: dict[str, dict[str, str]] = {
    "llama.cpp": {"top_k": "top_k", "min_p": "min_p", "repeat_penalty": "repeat_penalty"},
    "llama-cpp-python": {"top_k": "top_k", "min_p": "min_p", "repeat_penalty": "repeat_penalty"},
    "vllm": {"top_k": "top_k", "min_p": "min_p", "repeat_penalty": "repetition_penalty"},
    "ollama": {},
    "openai": {},
    "unknown": {"top_k": "top_k", "min_p": "min_p", "repeat_penalty": "repeat_penalty"},
}
"""Per kind of server: llmbench's sampling value → the request field that carries it."""
NOT_EXTRA = ("top_k", "min_p", "repeat_penalty")
PROMPT_CACHE_SERVERS = ("llama.cpp", "unknown")
"""Servers told `"cache_prompt": false` for a cold run (llama-server's own field; a server
that refuses it gets the request again without it)."""

_FINISH_REASONS: dict[str, StopReason] = {"length": "length"}


def request_body(
    model_id: str | None, request: GenerationRequest, server_kind: str, dropped: set[str]
) -> dict[str, Any]:
    """The streamed chat-completion request for `request`, without the `dropped` fields."""
    sampling = request.sampling
    messages = []
    if request.system_prompt:
        messages.append({"role": "system", "content": request.system_prompt})
    messages.append({"role": "user", "content": request.prompt})
    body: dict[str, Any] = {
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
        "seed": sampling.seed,
    }
    if model_id:
        body["model"] = model_id
    if sampling.stop:
        body["stop"] = list(sampling.stop)
    for name, server_field in EXTRA_SAMPLING_FIELDS.get(server_kind, {}).items():
        body[server_field] = getattr(sampling, name)
    body.update(logprob_fields(request.top_candidates))
    if not request.cache_prompt and server_kind in PROMPT_CACHE_SERVERS:
        body["cache_prompt"] = False
    for name in dropped:
        body.pop(name, None)
    return body


def sampling_notes(server_kind: str, host: str) -> list[str]:
    """What the user must know about how this kind of server takes llmbench's sampling values."""
    extra = EXTRA_SAMPLING_FIELDS.get(server_kind, {})
    ignored = [name for name in NOT_EXTRA if name not in extra]
    if server_kind == "unknown":
        return [
            f"{host}: unknown kind of server; top_k, min_p and repeat_penalty are sent as extra "
            "fields and it may ignore them"
        ]
    if ignored:
        return [
            f"{host} ({server_kind}) takes no {', '.join(ignored)} through its OpenAI API; "
            "the server's own values apply"
        ]
    return []


def rejected_field(message: str, body: dict[str, Any]) -> str | None:
    """The optional request field that a server's error message names, if any."""
    optional = [name for name in body if name not in ("model", "messages", "stream")]
    # Longest names first, so "repetition_penalty" wins over a shorter name inside it.
    for name in sorted(optional, key=len, reverse=True):
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message):
            return name
    return None


@dataclass
class StreamTally:
    """Counts one streamed answer as it arrives and batches its text into events."""

    request_id: str
    sent_at: float
    """Parent clock when the request was sent (TTFT starts here)."""
    emit: Callable[[Event], None]
    max_tokens: int | None = None
    """Text chunks taken at most; a chunk past it sets `over_limit` and is dropped."""
    text_tokens: int = 0
    """Chunks that carried text: one token each from llama.cpp's servers."""
    arrivals: list[float] = field(default_factory=list)
    finish_reason: str | None = None
    done: bool = False
    """The server sent `[DONE]`."""
    error: str | None = None
    """An error the server reported inside the stream."""
    malformed: str | None = None
    """What is wrong with a chunk that is not a chat-completion chunk."""
    over_limit: bool = False
    """The server sent text past `max_tokens`: stop reading, the answer ends at the limit."""
    usage: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    logprobs: LogprobReader | None = None
    """Reads the token probabilities of a request that asked for them."""
    _batch_records: list = field(default_factory=list)
    _batch_text: list[str] = field(default_factory=list)
    _batch_times: list[float] = field(default_factory=list)
    _last_flush: float = 0.0
    _in_reasoning: bool = False

    @property
    def finished(self) -> bool:
        """Nothing more should be read: the server said [DONE], failed, or overran the limit."""
        return bool(self.done or self.error or self.malformed or self.over_limit)

    def add(self, payload: str) -> None:
        """Take one SSE `data:` payload."""
        now = time.perf_counter()
        if payload.strip() == "[DONE]":
            self.done = True
            return
        try:
            chunk = json.loads(payload)
        except ValueError:
            self.malformed = f"not JSON: {_excerpt(payload)}"
            return
        if not isinstance(chunk, dict):
            self.malformed = f"a JSON {_kind(chunk)}, not an object"
            return
        if "error" in chunk:
            self.error = message_in(chunk) or "the server reported an error"
            return
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        if isinstance(chunk.get("timings"), dict):
            self.timings = chunk["timings"]
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            self.malformed = f"choices is a {_kind(choices)}, not a list"
            return
        for index, choice in enumerate(choices):
            if not isinstance(choice, dict):
                self.malformed = f"choices[{index}] is a {_kind(choice)}, not an object"
                return
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                self.malformed = f"choices[{index}].delta is a {_kind(delta)}, not an object"
                return
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
            if self.logprobs is not None:
                self._batch_records.extend(self.logprobs.take(choice.get("logprobs")))
            text = self._text_of(delta)
            if text:
                self._add_text(text, now)

    def add_error(self, payload: str) -> None:
        """Take an error event (llama-server's `error:` line, or `event: error`)."""
        try:
            message = message_in(json.loads(payload))
        except ValueError:
            message = payload.strip()
        self.error = one_line(message)[:300] if message else "the server reported an error"

    def add_whole(self, body: bytes) -> None:
        """Take a whole chat completion, from a server that answered without streaming."""
        now = time.perf_counter()
        try:
            completion = json.loads(body)
        except ValueError:
            completion = None
        if not isinstance(completion, dict):
            self.error = "the answer is not a chat completion (JSON)"
            return
        if "error" in completion:
            self.error = message_in(completion) or "the server reported an error"
            return
        usage = completion.get("usage")
        self.usage = usage if isinstance(usage, dict) else {}
        if isinstance(completion.get("timings"), dict):
            self.timings = completion["timings"]
        for choice in completion.get("choices") or []:
            if isinstance(choice, dict):
                self.finish_reason = str(choice.get("finish_reason") or "stop")
                text = self._text_of(choice.get("message") or {})
                if text:
                    self._add_text(text, now)
        self.done = True

    def _text_of(self, delta: dict[str, Any]) -> str:
        """The delta's text; reasoning (thinking) text inside <think> tags, as a local model writes it."""
        reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
        content = delta.get("content") or ""
        text = ""
        if isinstance(reasoning, str) and reasoning:
            text += ("" if self._in_reasoning else "<think>") + reasoning
            self._in_reasoning = True
        if isinstance(content, str) and content:
            text += ("</think>\n" if self._in_reasoning else "") + content
            self._in_reasoning = False
        return text

    def _add_text(self, text: str, now: float) -> None:
        if self.max_tokens is not None and self.text_tokens >= self.max_tokens:
            self.over_limit = True
            return
        self.text_tokens += 1
        self.arrivals.append(now)
        self._batch_text.append(text)
        self._batch_times.append(now)
        if now - self._last_flush >= BATCH_INTERVAL_S or len(self._batch_times) >= BATCH_MAX_TOKENS:
            self.flush()

    def flush(self) -> None:
        """Send the text held back as one TokensGenerated batch."""
        if not self._batch_times:
            return
        now = time.perf_counter()
        first_index = len(self.arrivals) - len(self._batch_times)
        self.emit(
            TokensGenerated(
                self.request_id,
                "".join(self._batch_text),
                len(self._batch_times),
                tuple(self._batch_times),
                first_index,
                received_at=now,
                probabilities=tuple(self._batch_records),
            )
        )
        self._batch_records.clear()
        self._batch_text.clear()
        self._batch_times.clear()
        self._last_flush = now

    @property
    def has_counts(self) -> bool:
        """Whether the server said how many tokens it read and wrote."""
        return bool(
            self.usage.get("completion_tokens") is not None or "predicted_n" in self.timings
        )

    @property
    def generated_tokens(self) -> int:
        """The server's own count where it gave one, else the chunks that carried text."""
        for value in (self.usage.get("completion_tokens"), self.timings.get("predicted_n")):
            if isinstance(value, int) and value >= 0:
                return value
        return self.text_tokens

    @property
    def prompt_tokens(self) -> int | None:
        """From `usage`, else llama-server's timings (computed + reused); None when not said."""
        value = self.usage.get("prompt_tokens")
        if isinstance(value, int):
            return value
        computed, cached = self.timings.get("prompt_n"), self.timings.get("cache_n", 0)
        if isinstance(computed, int):
            return computed + (cached if isinstance(cached, int) else 0)
        return None

    @property
    def cached_prompt_tokens(self) -> int:
        details = self.usage.get("prompt_tokens_details")
        if isinstance(details, dict) and isinstance(details.get("cached_tokens"), int):
            return details["cached_tokens"]
        cached = self.timings.get("cache_n")
        return cached if isinstance(cached, int) else 0

    def stop_reason(self) -> StopReason:
        return _FINISH_REASONS.get(self.finish_reason or "", "stop")

    def stats(self, stop_reason: StopReason, error: str | None = None) -> GenerationStats:
        """The run's figures; what the server did not say stays None (shown "—")."""
        finished_at = time.perf_counter()
        generated = self.generated_tokens
        first = self.arrivals[0] if self.arrivals else None
        speed = decode_speed(generated, first, self.arrivals[-1]) if first is not None else None
        summary = self.logprobs.summary() if self.logprobs is not None else (None, None, None)
        return GenerationStats(
            stop_reason=stop_reason,
            prompt_mode="chat",
            prompt_tokens=self.prompt_tokens,
            generated_tokens=generated,
            ttft_s=(first - self.sent_at) if first is not None else None,
            prompt_tps=_positive(self.timings.get("prompt_per_second")),
            decode_tps=speed,
            engine_decode_tps=_positive(self.timings.get("predicted_per_second")),
            elapsed_s=finished_at - self.sent_at,
            cached_prompt_tokens=self.cached_prompt_tokens,
            error=error,
            mean_logprob=summary[0],
            perplexity=summary[1],
            mean_entropy=summary[2],
        )


def _kind(value: Any) -> str:
    """A JSON value's kind in words: "string", "list", "number", …"""
    names = {str: "string", list: "list", dict: "object", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _excerpt(text: str, limit: int = 60) -> str:
    """`text` as one quoted line, cut to `limit` characters."""
    line = one_line(text)
    return repr(line[:limit] + ("…" if len(line) > limit else ""))


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)
