"""A real HTTP(S) server on 127.0.0.1 with scripted behaviours, for tests of network code.

Each path has a script: a list of behaviours served to successive requests (the last
one repeats). Every request is recorded, so tests can count what reached the server.

    with LoopbackServer() as server:
        server.route("/model.bin", Status(500), Body(b"data", etag='"v1"'))
        url = server.url("/model.bin")
        ...
        assert server.count("/model.bin", "GET") == 2

Behaviours: `Body` (with Range support), `Status`, `Redirect`, `Reset` (connection
reset mid-body), `Short` (body shorter than its Content-Length), `Stall` (stops sending
after some bytes), `Paced` (a large file served slowly, with Range support); `Delay` and
`RequireHeader` wrap another behaviour. Given a TLS
context (`make_certificate(dir).server_context()`) the server speaks HTTPS.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import hashlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]

    @property
    def wants_body(self) -> bool:
        return self.method == "GET"


class Behaviour(Protocol):
    def serve(self, handler: _Handler) -> None: ...


def _send_head(handler: _Handler, status: int, headers: Mapping[str, str]) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()


def send_start(handler: _Handler, data: bytes, sent: int) -> bool:
    """A 200 head announcing all of `data`, then its first `sent` bytes, flushed; False
    (nothing sent after the head) when the request is a HEAD."""
    _send_head(handler, 200, {"Content-Length": str(len(data)),
                              "Content-Type": "application/octet-stream"})
    if handler.command == "HEAD":
        return False
    handler.wfile.write(data[:sent])
    handler.wfile.flush()
    return True


@dataclasses.dataclass
class Body:
    """200 with a body; honours HEAD and single `Range: bytes=a-b` requests."""

    data: bytes
    content_type: str = "application/octet-stream"
    etag: str | None = None
    last_modified: str | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    status: int = 200

    def serve(self, handler: _Handler) -> None:
        data, status = self.data, self.status
        headers = {"Content-Type": self.content_type, "Accept-Ranges": "bytes", **self.headers}
        if self.etag:
            headers["ETag"] = self.etag
        if self.last_modified:
            headers["Last-Modified"] = self.last_modified
        wanted = _parse_range(handler.headers.get("Range", ""), len(data))
        if wanted is not None and status == 200:
            start, end = wanted
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start:end + 1], 206
        headers["Content-Length"] = str(len(data))
        _send_head(handler, status, headers)
        if handler.command != "HEAD":
            handler.wfile.write(data)


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    if not value.startswith("bytes=") or "," in value or size == 0:
        return None
    first, _, last = value[len("bytes="):].partition("-")
    try:
        if first:
            start = int(first)
            end = int(last) if last else size - 1
        else:
            start, end = max(size - int(last), 0), size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


@dataclasses.dataclass
class Status:
    """A bare status with a small body (e.g. 404, 500, 429 with Retry-After)."""

    code: int
    body: bytes = b"error\n"
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def serve(self, handler: _Handler) -> None:
        Body(self.body, "text/plain", headers=self.headers, status=self.code).serve(handler)


@dataclasses.dataclass
class Redirect:
    location: str
    code: int = 302
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def serve(self, handler: _Handler) -> None:
        _send_head(handler, self.code,
                   {"Location": self.location, "Content-Length": "0", **self.headers})


@dataclasses.dataclass
class Reset:
    """Announce `length` bytes, send `sent` of them, then reset the connection (RST)."""

    data: bytes
    sent: int

    def serve(self, handler: _Handler) -> None:
        if send_start(handler, self.data, self.sent):
            handler.abort()


@dataclasses.dataclass
class Short:
    """Announce more bytes than are sent, then close the connection cleanly (FIN)."""

    data: bytes
    announced: int

    def serve(self, handler: _Handler) -> None:
        _send_head(handler, 200, {"Content-Length": str(self.announced),
                                  "Content-Type": "application/octet-stream"})
        if handler.command == "HEAD":
            return
        handler.wfile.write(self.data)
        handler.close_connection = True


@dataclasses.dataclass
class Stall:
    """Send the head and `sent` bytes of the body, then go silent for `seconds`."""

    data: bytes
    sent: int
    seconds: float

    def serve(self, handler: _Handler) -> None:
        if send_start(handler, self.data, self.sent):
            handler.server.stopping.wait(self.seconds)
            handler.close_connection = True


@dataclasses.dataclass
class Delay:
    """Wait before serving another behaviour (a slow server, before any byte)."""

    seconds: float
    then: Behaviour

    def serve(self, handler: _Handler) -> None:
        if handler.server.stopping.wait(self.seconds):
            return
        self.then.serve(handler)


@dataclasses.dataclass
class Trickle:
    """Send the head, then the body, a few bytes at a time: each wait is short (no read
    timeout fires), the whole answer endless in practice. `in_head` trickles the status
    line and headers instead. Stops when the client hangs up or the server closes."""

    rate: int = 4  # bytes per second
    in_head: bool = False

    def serve(self, handler: _Handler) -> None:
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                b"Content-Length: 1000000\r\n\r\n")
        if not self.in_head:
            handler.wfile.write(head)
            handler.wfile.flush()
            if handler.command == "HEAD":
                return
        stream = head if self.in_head else b"x" * 1_000_000
        step = max(1, self.rate // 4)
        for start in range(0, len(stream), step):
            if handler.server.stopping.wait(0.25):
                break
            handler.wfile.write(stream[start:start + step])
            handler.wfile.flush()
        handler.close_connection = True


@dataclasses.dataclass
class Paced:
    """Like `Body` (200 or 206 for a Range), but the body goes out `step` bytes at a time
    every `interval` seconds: a large file on a slow link, that a client can cancel and
    resume. Stops when the client hangs up or the server closes."""

    data: bytes
    step: int = 64 * 1024
    interval: float = 0.01

    def serve(self, handler: _Handler) -> None:
        data, status = self.data, 200
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        wanted = _parse_range(handler.headers.get("Range", ""), len(data))
        if wanted is not None:
            start, end = wanted
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start:end + 1], 206
        headers["Content-Length"] = str(len(data))
        _send_head(handler, status, headers)
        if handler.command == "HEAD":
            return
        for start in range(0, len(data), self.step):
            handler.wfile.write(data[start:start + self.step])
            handler.wfile.flush()
            if handler.server.stopping.wait(self.interval):
                handler.close_connection = True
                return


@dataclasses.dataclass
class Endless:
    """200 without Content-Length, then data until the client hangs up (or `limit`)."""

    chunk: bytes = b"\0" * 65536
    limit: int = 1 << 30

    def serve(self, handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        if handler.command == "HEAD":
            return
        sent = 0
        while sent < self.limit and not handler.server.stopping.is_set():
            handler.wfile.write(self.chunk)
            sent += len(self.chunk)


@dataclasses.dataclass
class RequireHeader:
    """401 unless the request carries header `name` with exactly `value`."""

    name: str
    value: str
    then: Behaviour

    def serve(self, handler: _Handler) -> None:
        if handler.headers.get(self.name) != self.value:
            Status(401, b"unauthorized\n", {"WWW-Authenticate": "Bearer"}).serve(handler)
            return
        self.then.serve(handler)


class QuietHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that does not print a traceback when a client hangs up (or
    rejects the certificate): in these tests that is the point, not an error."""

    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class _Server(QuietHTTPServer):
    scripts: dict[str, list[Behaviour]]
    served: dict[str, int]
    requests: list[RecordedRequest]
    lock: threading.Lock
    stopping: threading.Event


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr log."""

    def _dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            self.server.requests.append(
                RecordedRequest(self.command, self.path, dict(self.headers.items())))
            script = self.server.scripts.get(path)
            if script is None:
                behaviour: Behaviour = Status(404, b"no such route\n")
            else:
                index = self.server.served.get(path, 0)
                self.server.served[path] = index + 1
                behaviour = script[min(index, len(script) - 1)]
        try:
            behaviour.serve(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_HEAD = _dispatch

    def abort(self) -> None:
        """Close with RST instead of FIN, as a crashed peer or a middlebox does."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


class BackgroundServer:
    """An HTTP server on 127.0.0.1, served from a daemon thread while the `with` lasts: what
    the test servers (this module's, the git and the static-file ones) share."""

    scheme = "http"

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"


class LoopbackServer(BackgroundServer):
    """A threaded HTTP server on 127.0.0.1 (HTTPS when given a TLS context)."""

    _server: _Server

    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.scripts = {}
        server.served = {}
        server.requests = []
        server.lock = threading.Lock()
        server.stopping = threading.Event()
        if tls_context is not None:
            server.socket = tls_context.wrap_socket(server.socket, server_side=True)
            self.scheme = "https"
        super().__init__(server)

    def close(self) -> None:
        self._server.stopping.set()
        super().close()

    def route(self, path: str, *behaviours: Behaviour) -> str:
        """Script the answers for path (the last one repeats); returns its URL."""
        with self._server.lock:
            self._server.scripts[path] = list(behaviours)
            self._server.served[path] = 0
        return self.url(path)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._server.lock:
            return list(self._server.requests)

    def count(self, path: str | None = None, method: str | None = None) -> int:
        return sum(1 for r in self.requests
                   if (path is None or r.path.split("?", 1)[0] == path)
                   and (method is None or r.method == method))

    def body_requests(self, path: str | None = None) -> int:
        return sum(1 for r in self.requests if r.wants_body
                   and (path is None or r.path.split("?", 1)[0] == path))

    def reset_log(self) -> None:
        with self._server.lock:
            self._server.requests.clear()


@dataclasses.dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 / localhost; `cert` doubles as the CA bundle."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "repo-tools test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return Certificate(cert_path, key_path)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def http_date(seconds_from_now: float = 0.0) -> str:
    from email.utils import formatdate

    return formatdate(time.time() + seconds_from_now, usegmt=True)



class QuietFolderHandler(SimpleHTTPRequestHandler):
    """Serves a folder's files as a static host does, without logging each request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve_folder(folder: Path,
                 handler: type[SimpleHTTPRequestHandler] = QuietFolderHandler) -> Iterator[str]:
    """A static server of folder on 127.0.0.1 for the block; its base URL (ending in /)."""
    served = functools.partial(handler, directory=str(folder))
    with BackgroundServer(QuietHTTPServer(("127.0.0.1", 0), served)) as server:
        yield server.url("/")
