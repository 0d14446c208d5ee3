"""A tiny scripted OpenAI-compatible server on loopback, for the remote-pane unit tests.

It answers `GET /v1/models` with `models`, `GET /props` with `props`, `GET /metrics` with
`metrics` (Prometheus text) and `GET /slots` with `slots` (each 404 when None), and
each `POST /v1/chat/completions` with the next `StubReply` of `replies` (the last one is
reused): a JSON error, or a server-sent event stream that may be slow, stop early or never
end. Every request is recorded, so tests can check what the client sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StubReply:
    """How to answer one chat-completion request."""

    status: int = 200
    error: Any = None
    """The JSON body of an error answer (status >= 400)."""
    chunks: list[Any] = field(default_factory=list)
    """SSE payloads: dicts are sent as JSON, strings as they are."""
    chunk_delay_s: float = 0.0
    done: bool = True
    """End with `data: [DONE]`; False drops the connection after the chunks."""
    hang_s: float = 0.0
    """Wait this long before answering at all."""
    whole: Any = None
    """Answer 200 with this JSON body instead of a stream (a server that does not stream)."""
    forever: bool = False
    """After the chunks, keep sending one token per `chunk_delay_s` until the client goes."""
    raw: bytes | None = None
    """Answer 200 with these bytes as the body instead (after `chunks`, if any), then close."""
    content_type: str = "text/event-stream"


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """One chat.completion.chunk with a content delta and/or a finish reason."""
    delta = {"content": content} if content is not None else {}
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def llama_server_models(model_id: str = "SmolLM2-135M-Instruct-Q4_K_M.gguf") -> list[dict]:
    """/v1/models entries as llama.cpp's llama-server writes them."""
    meta = {"n_ctx_train": 8192, "n_params": 134515008, "size": 105_000_000, "n_vocab": 49152}
    return [{"id": model_id, "object": "model", "owned_by": "llamacpp", "meta": meta}]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class OpenAIStub:
    """The stub server; use as a context manager or call close()."""

    def __init__(
        self,
        models: list[dict] | None = None,
        replies: list[StubReply] | None = None,
        props: dict | None = None,
        models_status: int = 200,
        models_error: Any = None,
        metrics: str | None = None,
        slots: list | None = None,
    ) -> None:
        self.models = models if models is not None else llama_server_models()
        self.replies = replies or [StubReply(chunks=[chunk("Hi"), chunk(finish="stop")])]
        self.props = props
        self.metrics = metrics
        self.slots = slots
        self.models_status = models_status
        self.models_error = models_error
        self.requests: list[RecordedRequest] = []
        self.disconnected = threading.Event()
        """Set when a client went away while a stream was being written."""
        self._chat_count = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def chat_bodies(self) -> list[dict]:
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OpenAIStub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next_reply(self) -> StubReply:
        reply = self.replies[min(self._chat_count, len(self.replies) - 1)]
        self._chat_count += 1
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _record(self, body: Any = None) -> None:
                stub.requests.append(
                    RecordedRequest(self.command, self.path, dict(self.headers), body)
                )

            def _json(self, status: int, data: Any) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._record()
                if self.path == "/v1/models":
                    if stub.models_status >= 400:
                        self._json(stub.models_status, stub.models_error or {})
                    else:
                        self._json(200, {"object": "list", "data": stub.models})
                elif self.path == "/props" and stub.props is not None:
                    self._json(200, stub.props)
                elif self.path == "/slots" and stub.slots is not None:
                    self._json(200, stub.slots)
                elif self.path == "/metrics" and stub.metrics is not None:
                    payload = stub.metrics.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; version=0.0.4")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                else:
                    self._json(404, {"detail": "Not Found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                self._record(body)
                reply = stub._next_reply()
                if reply.hang_s:
                    time.sleep(reply.hang_s)
                if reply.status >= 400 or reply.whole is not None:
                    self._json(reply.status, reply.error if reply.status >= 400 else reply.whole)
                    return
                self.send_response(200)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self._stream(reply)
                    if reply.raw is not None:
                        self.wfile.write(reply.raw)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    stub.disconnected.set()
                self.close_connection = True

            def _send(self, payload: Any) -> None:
                text = payload if isinstance(payload, str) else json.dumps(payload)
                self.wfile.write(f": ping\n\ndata: {text}\n\n".encode())
                self.wfile.flush()

            def _stream(self, reply: StubReply) -> None:
                for payload in reply.chunks:
                    if reply.chunk_delay_s:
                        time.sleep(reply.chunk_delay_s)
                    self._send(payload)
                deadline = time.monotonic() + 30
                while reply.forever and time.monotonic() < deadline:
                    time.sleep(reply.chunk_delay_s or 0.02)
                    self._send(chunk(" more"))
                if reply.done and reply.raw is None:
                    self._send("[DONE]")

        return Handler
