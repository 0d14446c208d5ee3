"""Server-sent events (SSE) from a streamed chat completion, read with a cap on their size.

`iter_sse_events` yields each event of a `text/event-stream` answer as it arrives: its
name ("message" unless an `event:` line names one) and its `data:` payload. llama-server
writes an error inside a stream as an `error:` line; that comes out as an event named
"error" too, so the caller can show its message instead of dropping it.

A line, or an event made of several `data:` lines, longer than MAX_EVENT_BYTES ends the
read with `EventTooLong`: a server that sends megabytes without a line break is not
speaking SSE, and must not fill this process's memory.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass

MAX_EVENT_BYTES = 1024 * 1024
"""Longest streamed line or event (one chunk of an answer is usually under 1 KiB)."""


class EventTooLong(Exception):
    """A line or event over MAX_EVENT_BYTES arrived."""


@dataclass(frozen=True)
class SseEvent:
    """One event of the stream."""

    name: str
    """ "message" (the default), or the `event:` name; "error" for llama-server's `error:` lines."""
    data: str


def iter_sse_events(
    response: http.client.HTTPResponse, max_bytes: int = MAX_EVENT_BYTES
) -> Iterator[SseEvent]:
    """The events of a server-sent event stream, one per blank-line-ended block, as they arrive.

    Comments (": ping"), `id:`/`retry:` lines and blank keep-alives are skipped. Ends at
    the end of the stream; raises EventTooLong past `max_bytes`, and OSError /
    TimeoutError from the socket as they come.
    """
    name, size = "message", 0
    lines: list[str] = []
    while True:
        raw = response.readline(max_bytes + 1)
        if len(raw) > max_bytes:
            raise EventTooLong
        if not raw:
            if lines:
                yield SseEvent(name, "\n".join(lines))
            return
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if lines:
                yield SseEvent(name, "\n".join(lines))
            name, lines, size = "message", [], 0
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value or "message"
        elif field == "error":
            yield SseEvent("error", value)
        elif field == "data":
            size += len(raw)
            if size > max_bytes:
                raise EventTooLong
            lines.append(value)
