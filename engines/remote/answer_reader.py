"""Reading one chat-completion answer off the wire into a `StreamTally`, within bounds.

`read_answer` takes the response of a chat-completion request and feeds it to the tally:
a server-sent event stream event by event (stopping as soon as the tally has what it
needs: `[DONE]`, an error, a malformed chunk, or text past max_tokens), or a whole JSON
completion from a server that does not stream. It returns the one line that says why
reading ended early (an HTML page instead of a stream, an answer over the size caps, a
timeout, a dropped connection), or None. The connection is closed when it returns.
"""

from __future__ import annotations

import http.client

from engines.messages import one_line
from engines.remote.client import ServerConnection, ServerError, size_text
from engines.remote.sse import MAX_EVENT_BYTES, EventTooLong, iter_sse_events
from engines.remote.stream import StreamTally


def read_answer(
    connection: ServerConnection, response: http.client.HTTPResponse, tally: StreamTally
) -> str | None:
    """Feed the answer to `tally`; the line saying why reading ended early, or None."""
    base_url = connection.base_url
    content_type = (response.getheader("Content-Type") or "").lower()
    try:
        if "html" in content_type:
            return (
                f"{base_url} answered with an HTML page, not an event stream "
                "(wrong URL? it usually ends in /v1, e.g. http://HOST:8080/v1)"
            )
        if is_whole_answer(response):
            tally.add_whole(connection.read_body(response, base_url))
        else:
            _take_events(response, tally)
    except ServerError as exc:
        return str(exc)
    except EventTooLong:
        return (
            f"{base_url} sent a line over {size_text(MAX_EVENT_BYTES)} without a break "
            "(llmbench's cap on one streamed event); is it an OpenAI-compatible server?"
        )
    except TimeoutError:
        return connection.read_timeout_message()
    except OSError as exc:
        return f"{base_url} dropped the stream ({one_line(exc.strerror or str(exc))})"
    except Exception as exc:  # noqa: BLE001 - http.client's own errors for a torn stream
        return f"{base_url} dropped the stream ({one_line(exc)})"
    finally:
        connection.close()
        tally.flush()
    return None


def is_whole_answer(response: http.client.HTTPResponse) -> bool:
    """Whether the server answered with one JSON completion instead of a stream."""
    return "json" in (response.getheader("Content-Type") or "").lower()


def _take_events(response: http.client.HTTPResponse, tally: StreamTally) -> None:
    """Feed the stream's events to `tally` until it has what it needs."""
    for event in iter_sse_events(response):
        if event.name == "error":
            tally.add_error(event.data)
        else:
            tally.add(event.data)
        if tally.finished:
            return
