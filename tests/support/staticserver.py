"""A static file server on 127.0.0.1 that serves a real folder (a published release) as a
CDN or a static host would: `ETag` (the file's SHA-256) and `Last-Modified` (its mtime) on
every answer, `304 Not Modified` for a conditional GET whose validators still match (RFC
9110 13.1: If-None-Match first, If-Modified-Since only without it), `Cache-Control`
short for manifests and immutable for archives (`<sha256>.tar`).

It logs every exchange (method, path, status, body bytes, request headers), so tests can
count what a client asked for and what it cost. `honour_conditionals=False` makes it a
server that ignores conditional headers (always 200); `fail_next(path, status)` answers
the next requests for path with an error status first.

    with StaticServer(release_folder) as server:
        client = ConfigClient(..., source=BundleSource(server.url("/")))
        client.load()
        assert [e.status for e in server.log] == [200, 200, 200]
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from tests.support.httpserver import BackgroundServer


@dataclasses.dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    body_bytes: int
    headers: dict[str, str]

    @property
    def conditional(self) -> bool:
        return "If-None-Match" in self.headers or "If-Modified-Since" in self.headers


def etag_of(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ is ignored."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    root: Path
    honour_conditionals: bool
    failures: dict[str, list[int]]
    log: list[Exchange]
    lock: threading.Lock

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up are part of the tests."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr log."""

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        sent = body if self.command == "GET" else b""
        with self.server.lock:
            self.server.log.append(Exchange(self.command, self.path.split("?", 1)[0], status,
                                            len(sent), dict(self.headers.items())))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(sent)

    def do_GET(self) -> None:
        path = unquote(self.path.split("?", 1)[0])
        with self.server.lock:
            queued = self.server.failures.get(path)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            self._answer(failure, {"Content-Type": "text/plain"}, b"try again\n")
            return
        file = (self.server.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.server.root) or not file.is_file():
            self._answer(404, {"Content-Type": "text/plain"}, b"not found\n")
            return
        data = file.read_bytes()
        mtime = int(file.stat().st_mtime)
        etag = etag_of(data)
        cache = ("public, max-age=60" if file.name.endswith(".json") or
                 file.name.endswith(".sig") else "public, max-age=31536000, immutable")
        headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True),
                   "Cache-Control": cache, "Content-Type": "application/octet-stream"}
        if self.server.honour_conditionals and self._not_modified(etag, mtime):
            self._answer(304, {k: v for k, v in headers.items() if k != "Content-Type"}, b"")
            return
        self._answer(200, headers, data)

    do_HEAD = do_GET

    def _not_modified(self, etag: str, mtime: int) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return _etag_matches(if_none_match, etag)
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return mtime <= when.timestamp()


class StaticServer(BackgroundServer):
    """Serves the files under root (read at each request: publish into it at any time)."""

    def __init__(self, root: Path, *, honour_conditionals: bool = True) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.root = root.resolve()
        self._server.honour_conditionals = honour_conditionals
        self._server.failures = {}
        self._server.log = []
        self._server.lock = threading.Lock()
        super().__init__(self._server)

    def fail_next(self, path: str, *statuses: int) -> None:
        with self._server.lock:
            self._server.failures.setdefault(path, []).extend(statuses)

    @property
    def log(self) -> list[Exchange]:
        with self._server.lock:
            return list(self._server.log)

    def take_log(self) -> list[Exchange]:
        """The exchanges so far, and a fresh log."""
        with self._server.lock:
            log, self._server.log = self._server.log, []
        return log
