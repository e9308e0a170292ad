"""A real smart-HTTP git server for tests: `git http-backend` (CGI) behind a small threaded
HTTP server on 127.0.0.1, serving the bare repositories under one folder.

    with GitHttpServer(root, token="s3cret") as origin, GitHttpServer(root) as other:
        origin.redirect_to = other.url("")   # info/refs answers 302 to the other origin
        ...
        assert other.authorizations() == []

With `token` set, every request must carry `Authorization: Basic` for
`x-access-token:<token>` (else 401 with `WWW-Authenticate: Basic`), so a client really has
to send it. Every request is recorded with all its headers. `watch` lists strings
searched for in the command line of every process on the machine (/proc/*/cmdline) at each
request, while the client's git processes are alive: what `ps` would show.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.helpers import git_env
from tests.support.httpserver import BackgroundServer

CGI_TIMEOUT = 60  # seconds: a stuck http-backend must not hang the test run


def http_backend() -> Path | None:
    """git-http-backend from `git --exec-path`, or None when git or it is missing."""
    try:
        exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                                   check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    backend = Path(exec_path) / "git-http-backend"
    return backend if os.access(backend, os.X_OK) else None


@dataclasses.dataclass(frozen=True)
class GitRequest:
    method: str
    path: str
    headers: dict[str, str]

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: GitHttpServer

    def handle_error(self, request: object, client_address: object) -> None:
        """git hanging up mid-answer is part of the tests (a failed clone)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr log."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        owner.record(GitRequest(self.command, self.path, dict(self.headers.items())))
        path, _, query = self.path.partition("?")
        if owner.token is not None and self.headers.get("Authorization") != owner.expected:
            self._send(401, {"WWW-Authenticate": 'Basic realm="git"',
                             "Content-Type": "text/plain"}, b"authentication required\n")
            return
        if owner.redirect_to is not None and path.endswith("/info/refs"):
            # The whole path and query again, so git can work out the new base URL.
            self._send(302, {"Location": owner.redirect_to + self.path}, b"")
            return
        env = git_env(GIT_PROJECT_ROOT=str(owner.root), GIT_HTTP_EXPORT_ALL="1",
                      REQUEST_METHOD=self.command, PATH_INFO=path, QUERY_STRING=query,
                      REMOTE_ADDR="127.0.0.1", CONTENT_LENGTH=str(len(body)),
                      CONTENT_TYPE=self.headers.get("Content-Type", ""),
                      HTTP_CONTENT_ENCODING=self.headers.get("Content-Encoding", ""),
                      HTTP_GIT_PROTOCOL=self.headers.get("Git-Protocol", ""))
        try:
            proc = subprocess.run([str(owner.backend)], input=body, env=env,
                                  capture_output=True, timeout=CGI_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            self._send(504, {"Content-Type": "text/plain"}, b"http-backend timed out\n")
            return
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")  # http-backend writes CRLF
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        self._send(status, headers, payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class GitHttpServer(BackgroundServer):
    """Serves the bare repositories under `root` at http://127.0.0.1:<port>/<name>.git."""

    def __init__(self, root: Path, backend: Path, token: str | None = None,
                 watch: tuple[str, ...] = ()) -> None:
        self.root = root
        self.backend = backend
        self.token = token
        self.expected = ("Basic " + base64.b64encode(f"x-access-token:{token}".encode())
                         .decode("ascii")) if token is not None else None
        self.redirect_to: str | None = None
        self.watch = watch
        self.argv_hits: list[str] = []
        self.argv_scans = 0
        self._requests: list[GitRequest] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        super().__init__(self._server)


    def record(self, request: GitRequest) -> None:
        hits, scanned = _scan_argv(self.watch) if self.watch else ([], 0)
        with self._lock:
            self._requests.append(request)
            self.argv_hits.extend(hits)
            self.argv_scans += scanned

    @property
    def requests(self) -> list[GitRequest]:
        with self._lock:
            return list(self._requests)

    def authorizations(self) -> list[str]:
        return [r.authorization for r in self.requests if r.authorization is not None]


def _scan_argv(watch: tuple[str, ...]) -> tuple[list[str], int]:
    """The watched strings found in any process's argv, and how many argvs of git clients
    of a loopback URL were read (so a test can tell the scan saw the client at all)."""
    hits: list[str] = []
    clients = 0
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = entry.read_bytes().split(b"\0")
        except OSError:
            continue  # the process ended meanwhile
        text = b" ".join(argv).decode("utf-8", "replace")
        if Path(argv[0].decode("utf-8", "replace")).name.startswith("git") and \
                "http://127.0.0.1:" in text:
            clients += 1
        hits.extend(w for w in watch if w in text)
    return hits, clients
