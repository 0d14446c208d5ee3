"""A stand-in for the Hugging Face Hub on 127.0.0.1, for download tests without a network.

It serves the endpoints huggingface_hub (2.x) calls for `list_repo_tree` and `hf_hub_download`:

    GET  /api/models/OWNER/REPO/tree/REV?recursive=…   JSON list of files with sizes
    HEAD /OWNER/REPO/resolve/REV/FILE                  ETag, X-Repo-Commit, Content-Length
    GET  /OWNER/REPO/resolve/REV/FILE                  the bytes; honours `Range: bytes=N-`

with the Hub's error headers (X-Error-Code: RepoNotFound, EntryNotFound, GatedRepo). It can
cut the first GET of a file midway (to test resuming), serve a file altered in transit
(`corrupt`), answer everything with an HTML page (`html_page`), and logs every request.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
VALID_TOKEN = "hf_valid_test_token"


@dataclass
class FakeRepo:
    """One model repo: its files, and whether downloading needs a token (gated)."""

    files: dict[str, bytes]
    gated_status: int | None = None
    """401 or 403 for a gated repo (downloads need `Authorization: Bearer VALID_TOKEN`)."""
    unavailable: set[str] = field(default_factory=set)
    """Files listed in the tree whose download answers 404 (deleted between listing and download)."""


@dataclass
class LoggedRequest:
    method: str
    path: str
    range: str | None
    authorized: bool


@dataclass
class FakeHub:
    """The fake Hub's content and behaviour; start it with `serve()`."""

    repos: dict[str, FakeRepo] = field(default_factory=dict)
    cut_first_get: set[str] = field(default_factory=set)
    """Files ("OWNER/REPO/FILE") whose first GET stops halfway and drops the connection."""
    corrupt: set[str] = field(default_factory=set)
    """Files ("OWNER/REPO/FILE") served with one byte changed; listing and ETag stay right."""
    html_page: bool = False
    """Answer every request 200 with an HTML page (a captive portal, a wrong HF_ENDPOINT)."""
    log: list[LoggedRequest] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def serve(self) -> FakeHub:
        hub = self

        class Handler(_HubHandler):
            fake = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def requests_for(self, filename: str, method: str = "GET") -> list[LoggedRequest]:
        return [r for r in self.log if r.method == method and r.path.endswith("/" + filename)]


_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?P<sub>/.*)?$")


class _HubHandler(BaseHTTPRequestHandler):
    fake: FakeHub

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        """Quiet: the test reads `FakeHub.log` instead."""

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        self._handle(send_body=False)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._handle(send_body=True)

    def _handle(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        authorized = self.headers.get("Authorization") == f"Bearer {VALID_TOKEN}"
        self.fake.log.append(
            LoggedRequest(self.command, path, self.headers.get("Range"), authorized)
        )
        if self.fake.html_page:
            self._html(send_body)
        elif match := _TREE.match(path):
            self._tree(match["repo"])
        elif match := _RESOLVE.match(path):
            self._resolve(match["repo"], match["file"], authorized, send_body)
        else:
            self._error(404, None)

    def _tree(self, repo_id: str) -> None:
        repo = self.fake.repos.get(repo_id)
        if repo is None:
            self._error(401, "RepoNotFound")
            return
        entries = [_tree_entry(name, data) for name, data in sorted(repo.files.items())]
        body = json.dumps(entries).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _resolve(self, repo_id: str, filename: str, authorized: bool, send_body: bool) -> None:
        repo = self.fake.repos.get(repo_id)
        if repo is None:
            self._error(401, "RepoNotFound")
            return
        if repo.gated_status and not authorized:
            self._error(repo.gated_status, "GatedRepo", "Access to model is restricted.")
            return
        data = repo.files.get(filename)
        if data is None or filename in repo.unavailable:
            self._error(404, "EntryNotFound")
            return
        start = 0
        if range_header := self.headers.get("Range"):
            start = int(re.match(r"bytes=(\d+)-", range_header).group(1))  # type: ignore[union-attr]
        self.send_response(206 if start else 200)
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(data) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if not send_body:
            return
        key = f"{repo_id}/{filename}"
        if key in self.fake.corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if key in self.fake.cut_first_get and start == 0:
            self.fake.cut_first_get.discard(key)
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)  # drop the connection mid-body
            return
        self.wfile.write(data[start:])

    def _html(self, send_body: bool) -> None:
        page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Wi-Fi</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        if send_body:
            self.wfile.write(page)

    def _error(self, status: int, code: str | None, message: str | None = None) -> None:
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        if message:
            self.send_header("X-Error-Message", message)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _tree_entry(name: str, data: bytes) -> dict[str, object]:
    """A tree listing entry; model files are LFS files, whose SHA-256 is also their ETag."""
    entry: dict[str, object] = {
        "type": "file",
        "path": name,
        "size": len(data),
        "oid": hashlib.sha1(data).hexdigest(),
    }
    if name.endswith(".gguf"):
        entry["lfs"] = {
            "oid": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "pointerSize": 134,
        }
    return entry
