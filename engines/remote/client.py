"""HTTP to an OpenAI-compatible server, with the standard library only.

One `ServerConnection` is one request and its response: JSON in, JSON or a server-sent
event stream (SSE) out. Connect and read timeouts are separate; `close()` from another
thread ends a stream that is being read (that is how a remote generation is cancelled).
Every failure is a `ServerError` whose text is one line a person can act on: connection
refused, unknown host, a timeout, or the HTTP status with the server's own message.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engines.config import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S
from engines.messages import one_line

ERROR_TEXT_LIMIT = 300
"""Longest server error message quoted in a ServerError (characters)."""


@dataclass(frozen=True)
class Timeouts:
    """How long to wait for a server, in seconds."""

    connect_s: float = DEFAULT_CONNECT_TIMEOUT_S
    """To open the connection (TCP and TLS)."""
    read_s: float = DEFAULT_READ_TIMEOUT_S
    """Between two reads of the answer: the first token must come within this, and so must each next one."""
    read_key: str = "read_timeout_s"
    """The `[remote]` key of config.toml that sets `read_s` (named when it runs out)."""


class ServerError(Exception):
    """The server could not be reached, or answered with an error. str(e) is one line."""

    def __init__(self, message: str, status: int | None = None, server_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status, when the server answered."""
        self.server_message = server_message
        """The server's own error text (one line), when it sent one."""


def split_base_url(base_url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path prefix) of a base URL such as "http://127.0.0.1:8080/v1"."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerError(f"not an http(s) server URL: {base_url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ServerError(f"bad port in server URL {base_url!r}") from None
    return parts.scheme, parts.hostname, port, parts.path.rstrip("/")


class ServerConnection:
    """One request to a server and its response; `close()` may be called from any thread."""

    def __init__(self, base_url: str, timeouts: Timeouts, api_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts
        self.api_key = api_key
        self._scheme, self._host, self._port, self._prefix = split_base_url(self.base_url)
        self._lock = threading.Lock()
        self._connection: http.client.HTTPConnection | None = None
        self._socket: socket.socket | None = None
        """Kept apart: http.client lets go of its socket once a closing response is read."""
        self._closed = False

    def send(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> http.client.HTTPResponse:
        """Send the request; the response once its status is OK. Raises ServerError."""
        connection = self._connect()
        headers = {"Accept": "application/json, text/event-stream"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            connection.request(method, self._prefix + path, body=payload, headers=headers)
            response = connection.getresponse()
        except TimeoutError:
            raise ServerError(self.read_timeout_message()) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ServerError(self._dropped_message(exc)) from None
        if response.status >= 400:
            raise self._status_error(response)
        return response

    def get_json(self, path: str) -> Any:
        """GET `path` (below the base URL) and decode its JSON answer. Raises ServerError."""
        try:
            response = self.send("GET", path)
            data = response.read()
        except TimeoutError:
            raise ServerError(self.read_timeout_message()) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ServerError(self._dropped_message(exc)) from None
        finally:
            self.close()
        try:
            return json.loads(data)
        except ValueError:
            raise ServerError(f"{self.base_url}{path} did not answer with JSON") from None

    def close(self) -> None:
        """End the connection; a thread reading its stream sees the end at once. Safe twice."""
        with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
            sock, self._socket = self._socket, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if connection is not None:
            connection.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def read_timeout_message(self) -> str:
        return (
            f"{self.base_url} sent nothing for {self.timeouts.read_s:g} s (read timeout; "
            f"raise [remote] {self.timeouts.read_key} in llmbench's config.toml for a slow server)"
        )

    # --- internals --------------------------------------------------------------------

    def _connect(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeouts.connect_s,
                context=ssl.create_default_context(),
            )  # fmt: skip
        else:
            connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self.timeouts.connect_s
            )
        with self._lock:
            if self._closed:
                raise ServerError(f"request to {self.base_url} was cancelled")
            self._connection = connection
        try:
            connection.connect()
        except TimeoutError:
            self.close()
            raise ServerError(
                f"cannot connect to {self.base_url}: no answer within "
                f"{self.timeouts.connect_s:g} s (connect timeout)"
            ) from None
        except socket.gaierror:
            self.close()
            raise ServerError(
                f"cannot connect to {self.base_url}: unknown host {self._host!r}"
            ) from None
        except ConnectionRefusedError:
            self.close()
            raise ServerError(
                f"cannot connect to {self.base_url}: connection refused "
                "(is the server running, and the SSH tunnel open?)"
            ) from None
        except ssl.SSLError as exc:
            self.close()
            raise ServerError(
                f"cannot connect to {self.base_url}: TLS failed ({exc.reason or exc})"
            ) from None
        except OSError as exc:
            self.close()
            raise ServerError(f"cannot connect to {self.base_url}: {exc.strerror or exc}") from None
        with self._lock:
            self._socket = connection.sock
        if connection.sock is not None:
            connection.sock.settimeout(self.timeouts.read_s)
        if self._closed:
            self.close()
            raise ServerError(f"request to {self.base_url} was cancelled")
        return connection

    def _dropped_message(self, exc: BaseException) -> str:
        if self._closed:
            return f"request to {self.base_url} was cancelled"
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return f"{self.base_url} closed the connection ({one_line(detail)})"

    def _status_error(self, response: http.client.HTTPResponse) -> ServerError:
        try:
            body = response.read(64 * 1024)
        except (OSError, http.client.HTTPException):
            body = b""
        finally:
            self.close()
        message = error_text(body)
        reason = response.reason or ""
        status = f"{response.status} {reason}".strip()
        text = f"{self.base_url} answered {status}"
        if message:
            text += f": {message}"
        return ServerError(text, status=response.status, server_message=message)


def error_text(body: bytes) -> str:
    """The server's error message from an error body (OpenAI, FastAPI or plain text), one line."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return one_line(text)[:ERROR_TEXT_LIMIT]
    return message_in(data)[:ERROR_TEXT_LIMIT]


def message_in(data: Any) -> str:
    """The message in an error object: {"error": {"message": ...}}, {"detail": ...}, {"message": ...}."""
    if isinstance(data, dict):
        for key in ("error", "detail", "message"):
            if key in data:
                found = message_in(data[key])
                if found:
                    return found
        return ""
    if isinstance(data, list):
        return "; ".join(filter(None, (message_in(item) for item in data[:3])))
    if data is None:
        return ""
    return one_line(str(data))




def iter_sse_data(response: http.client.HTTPResponse) -> Iterator[str]:
    """The `data:` payloads of a server-sent event stream, one per event, as they arrive.

    Comments (": ping"), `event:`/`id:` lines and blank keep-alives are skipped. Ends
    at the end of the stream; raises OSError / TimeoutError from the socket as they come.
    """
    lines: list[str] = []
    while True:
        raw = response.readline()
        if not raw:
            if lines:
                yield "\n".join(lines)
            return
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if lines:
                yield "\n".join(lines)
                lines = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            lines.append(value[1:] if value.startswith(" ") else value)
