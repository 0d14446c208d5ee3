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
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engines.config import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S
from engines.messages import one_line

ERROR_TEXT_LIMIT = 300
"""Longest server error message quoted in a ServerError (characters)."""
MAX_BODY_BYTES = 16 * 1024 * 1024
"""Longest JSON answer read from a server (a model list, a whole chat completion)."""
ERROR_BODY_BYTES = 64 * 1024
"""Most of an error answer read for its message."""
REDACTED = "[API key]"
"""What an API key is replaced with in every message."""


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
    """The server could not be reached, or answered with an error. str(e) is one line.

    `status` is the HTTP status when the server answered with one (a 401 is
    `status == 401`, never found in the text)."""

    def __init__(self, message: str, status: int | None = None, server_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status, when the server answered."""
        self.server_message = server_message
        """The server's own error text (one line), when it sent one."""


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` (an API key a server echoed back) replaced."""
    return text.replace(secret, REDACTED) if secret else text


def size_text(n_bytes: int) -> str:
    """A cap as messages write it: "1 MiB", "16 MiB", "64 KiB"."""
    if n_bytes >= 1024 * 1024 and n_bytes % (1024 * 1024) == 0:
        return f"{n_bytes // (1024 * 1024)} MiB"
    return f"{n_bytes // 1024} KiB" if n_bytes % 1024 == 0 else f"{n_bytes} bytes"


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
    """One request to a server and its response; `close()` may be called from any thread.

    Every ServerError it raises has the API key taken out of its text (`redact`)."""

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
            raise self.error(self.read_timeout_message()) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self.error(self._dropped_message(exc)) from None
        if response.status >= 400:
            raise self._status_error(response)
        return response

    def get_json(self, path: str) -> Any:
        """GET `path` (below the base URL) and decode its JSON answer. Raises ServerError."""
        try:
            response = self.send("GET", path)
            data = self.read_body(response, f"{self.base_url}{path}")
            content_type = response.getheader("Content-Type") or ""
        except TimeoutError:
            raise self.error(self.read_timeout_message()) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self.error(self._dropped_message(exc)) from None
        finally:
            self.close()
        try:
            return json.loads(data)
        except ValueError:
            what = " (an HTML page: is the URL right?)" if "html" in content_type.lower() else ""
            raise self.error(f"{self.base_url}{path} did not answer with JSON{what}") from None

    def read_body(self, response: http.client.HTTPResponse, what: str) -> bytes:
        """The whole body of `response`, at most MAX_BODY_BYTES; a longer one is a ServerError
        naming `what` and the cap. Raises OSError / TimeoutError from the socket as they come."""
        data = response.read(MAX_BODY_BYTES + 1)
        if len(data) > MAX_BODY_BYTES:
            self.close()
            raise self.error(
                f"{what} sent an answer over {size_text(MAX_BODY_BYTES)} "
                "(llmbench's cap on a JSON answer); is it an OpenAI-compatible server?"
            )
        return data

    def error(
        self, message: str, status: int | None = None, server_message: str = ""
    ) -> ServerError:
        """A ServerError whose texts never hold this connection's API key."""
        return ServerError(
            redact(message, self.api_key),
            status=status,
            server_message=redact(server_message, self.api_key),
        )

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
                raise self.error(f"request to {self.base_url} was cancelled")
            self._connection = connection
        try:
            connection.connect()
        except OSError as exc:
            self.close()
            raise self.error(self._connect_failure(exc)) from None
        with self._lock:
            self._socket = connection.sock
        if connection.sock is not None:
            connection.sock.settimeout(self.timeouts.read_s)
        if self._closed:
            self.close()
            raise self.error(f"request to {self.base_url} was cancelled")
        return connection

    def _connect_failure(self, exc: OSError) -> str:
        where = f"cannot connect to {self.base_url}"
        if isinstance(exc, TimeoutError):
            return f"{where}: no answer within {self.timeouts.connect_s:g} s (connect timeout)"
        if isinstance(exc, socket.gaierror):
            return f"{where}: unknown host {self._host!r}"
        if isinstance(exc, ConnectionRefusedError):
            return f"{where}: connection refused (is the server running, and the SSH tunnel open?)"
        if isinstance(exc, ssl.SSLError):
            return f"{where}: TLS failed ({exc.reason or exc})"
        return f"{where}: {exc.strerror or exc}"

    def _dropped_message(self, exc: BaseException) -> str:
        if self._closed:
            return f"request to {self.base_url} was cancelled"
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return f"{self.base_url} closed the connection ({one_line(detail)})"

    def _status_error(self, response: http.client.HTTPResponse) -> ServerError:
        try:
            body = response.read(ERROR_BODY_BYTES)
        except (OSError, http.client.HTTPException):
            body = b""
        finally:
            self.close()
        message = error_text(body)
        if "html" in (response.getheader("Content-Type") or "").lower():
            message = "an HTML page, not an API answer"
        reason = response.reason or ""
        status = f"{response.status} {reason}".strip()
        text = f"{self.base_url} answered {status}"
        if message:
            text += f": {message}"
        return self.error(text, status=response.status, server_message=message)


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
