"""HTTP for probe: redirects followed by hand, retries with backoff, errors named plainly.

Built on the standard library's http.client: importing requests and urllib3 cost about
180 ms per run, as much as hashing a few hundred MiB. Each thread keeps one keep-alive
connection per (scheme, host, port, proxy) and gives it back only when the response
before was read to its end.

Redirects are followed here, one hop at a time, so that every hop can be checked
(https -> http, loops) and credentials go only to the host they belong to. Error
messages are built from exception types, never from `str(exc)`: several exceptions
quote the URL or the host, query tokens included.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import email.utils
import functools
import http.client
import os
import random
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import SplitResult, quote, unquote, urljoin, urlsplit

from repo_tools.findings import Rule
from repo_tools.probe.auth import Credentials
from repo_tools.probe.targets import redact_url
from repo_tools.rules import probe as rules

USER_AGENT = "repo-tools-probe"
_DISCARD_LIMIT = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# What requests leaves unquoted in a URL (requote_uri): existing %-escapes stay as sent.
_SAFE_IN_TARGET = "!#$%&'()*+,/:;=?@[]~"


@dataclasses.dataclass(frozen=True, slots=True)
class NetworkLimits:
    """Every bound on the network side of a run, in seconds unless named otherwise."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 30.0
    max_redirects: int = 10
    ca_bundle: Path | None = None


class Deadline:
    """The whole run's time budget (None: unbounded)."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._end = None if seconds is None else clock() + seconds

    def remaining(self) -> float:
        return float("inf") if self._end is None else self._end - self._clock()

    def expired(self) -> bool:
        return self.remaining() <= 0


class ProbeFailure(Exception):
    """A URL could not be checked; carries the rule and a message safe to show."""

    def __init__(self, rule: Rule, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


class InvalidURLError(ValueError):
    """The URL cannot be sent (unparseable port, no host, a host name that cannot be
    encoded)."""


class ConnectTimeout(OSError):
    """No connection (TCP, proxy tunnel and TLS handshake) within the connect timeout."""


class ProxyError(OSError):
    """The proxy would not open a tunnel to the host."""


class TooManyRedirects(Exception):
    """More redirects than allowed (Fetcher.follow reports it as a ProbeFailure)."""


# What one request can raise besides ProbeFailure; anything else is a bug.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException, InvalidURLError)


def deadline_failure(what: str) -> ProbeFailure:
    return ProbeFailure(rules.DEADLINE, f"the run's --deadline ran out {what}")


def is_retryable_status(status: int) -> bool:
    """429 and 5xx are worth another try; 501 (not implemented) and 4xx are not."""
    return status == 429 or (500 <= status <= 599 and status != 501)


def backoff_delay(attempt: int, base: float, cap: float,
                  rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: half fixed, half random, so clients spread out."""
    # The exponent is bounded so that a huge --retries cannot overflow a float.
    ceiling = min(cap, base * 2.0 ** min(attempt, 64))
    return ceiling / 2 + rng() * ceiling / 2


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, float(when.timestamp()) - current)


def describe_error(exc: BaseException, limits: NetworkLimits) -> tuple[Rule, str]:
    """A rule and a plain message for a transport exception, without any URL in it."""
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, socket.gaierror):
            return rules.CONNECTION_FAILED, "the host name does not resolve"
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or "untrusted certificate"
            return rules.CONNECTION_FAILED, f"TLS certificate not accepted: {reason}"
        if isinstance(cause, ssl.SSLError):
            return rules.CONNECTION_FAILED, "the TLS handshake failed"
        if isinstance(cause, ConnectionRefusedError):
            return rules.CONNECTION_FAILED, "the connection was refused"
    if any(isinstance(c, ConnectTimeout) for c in causes):
        return (rules.CONNECTION_FAILED,
                f"no connection within {limits.connect_timeout:g}s (connect timeout)")
    if any(isinstance(c, TimeoutError) for c in causes):
        return (rules.CONNECTION_FAILED,
                f"the server sent nothing for {limits.read_timeout:g}s (read timeout)")
    if any(isinstance(c, ConnectionResetError | ConnectionAbortedError | BrokenPipeError)
           for c in causes):
        return rules.CONNECTION_FAILED, "the server reset the connection"
    if any(isinstance(c, http.client.IncompleteRead) for c in causes):
        return rules.CONNECTION_FAILED, "the server closed the connection"
    if any(isinstance(c, ProxyError) for c in causes):
        return rules.CONNECTION_FAILED, "the proxy refused to connect to the host"
    if any(isinstance(c, zlib.error) for c in causes):
        return rules.CONNECTION_FAILED, "the compressed body could not be decoded"
    if any(isinstance(c, TooManyRedirects) for c in causes):
        return rules.BAD_REDIRECT, "too many redirects"
    if any(isinstance(c, InvalidURLError | http.client.InvalidURL) for c in causes):
        return rules.UNPROBEABLE_URL, "the URL is not valid"
    return rules.CONNECTION_FAILED, f"the connection failed ({type(exc).__name__})"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__, getattr(current, "reason", None),
                    *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]):
            if isinstance(nxt, BaseException):
                stack.append(nxt)


# -- where a request goes -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Proxy:
    scheme: str
    host: str
    port: int
    # Proxy-Authorization from the proxy URL's user info (a tuple: routes are dict keys)
    headers: tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class _Route:
    """A URL taken apart for http.client: where to connect and what to ask for."""

    scheme: str
    host: str  # ASCII (IDNA), no brackets
    port: int
    target: str  # path and query, %-quoted
    userinfo_auth: tuple[tuple[str, str], ...]
    proxy: _Proxy | None

    @property
    def key(self) -> tuple[str, str, int, _Proxy | None]:
        return (self.scheme, self.host, self.port, self.proxy)

    @property
    def request_target(self) -> str:
        # A plain-http request through a proxy names the whole URL; https tunnels.
        if self.proxy is None or self.scheme == "https":
            return self.target
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == 80 else f":{self.port}"
        return f"http://{host}{port}{self.target}"


def _basic(user: str, password: str) -> dict[str, str]:
    raw = f"{unquote(user)}:{unquote(password)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidURLError("host name cannot be encoded") from exc


def _split(url: str, unparsable: str) -> tuple[SplitResult, str | None, int | None]:
    """urlsplit, with the host and port read now (a bad port raises only when read)."""
    try:
        parts = urlsplit(url)
        return parts, parts.hostname, parts.port
    except ValueError as exc:
        raise InvalidURLError(unparsable) from exc


def route_of(url: str, proxy_url: str | None) -> _Route:
    """How to send url; raises InvalidURLError when it cannot be sent at all."""
    parts, host, port = _split(url, "URL cannot be parsed")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise InvalidURLError("not an http(s) URL with a host")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    auth = tuple(_basic(parts.username, parts.password or "").items()) if parts.username else ()
    return _Route(scheme, _ascii_host(host), port or (443 if scheme == "https" else 80),
                  quote(target, safe=_SAFE_IN_TARGET), auth,
                  None if proxy_url is None else _proxy_of(proxy_url))


def _proxy_of(proxy_url: str) -> _Proxy:
    # A proxy given without a scheme is an http proxy, as requests reads it.
    if "://" not in proxy_url:
        proxy_url = "http://" + proxy_url
    parts, host, port = _split(proxy_url, "the proxy URL cannot be parsed")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise ProbeFailure(rules.CONNECTION_FAILED,
                           f"the proxy's scheme {scheme!r} is not supported (use an http:// "
                           "proxy)")
    headers: tuple[tuple[str, str], ...] = ()
    if parts.username:
        headers = (("Proxy-Authorization",
                    _basic(parts.username, parts.password or "")["Authorization"]),)
    return _Proxy(scheme, _ascii_host(host), port or (443 if scheme == "https" else 80),
                  headers)


def environ_proxy(url: str) -> str | None:
    """The proxy for url from the environment (`HTTPS_PROXY`, `NO_PROXY`, ...), chosen as
    requests chooses it (`get_environ_proxies` and `select_proxy`)."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None  # the common case, without importing urllib.request
    import urllib.request

    parts = urlsplit(url)
    host = parts.hostname
    if host is None:
        return None
    if _bypasses_proxy(host, parts.port):
        return None
    proxies = urllib.request.getproxies()
    scheme = parts.scheme.lower()
    for key in (f"{scheme}://{host}", scheme, f"all://{host}", "all"):
        if proxies.get(key):
            return proxies[key]
    return None


def _bypasses_proxy(host: str, port: int | None) -> bool:
    """NO_PROXY as requests reads it: IP addresses and CIDR ranges, name suffixes (with or
    without the port), then urllib's own rules (`*`, leading dots)."""
    import ipaddress
    import urllib.request

    no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
    if no_proxy:
        entries = [e for e in no_proxy.replace(" ", "").split(",") if e]
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None:
            for entry in entries:
                if "/" in entry:
                    try:
                        if address in ipaddress.ip_network(entry, strict=False):
                            return True
                    except ValueError:
                        continue
                elif entry == host:
                    return True
        else:
            with_port = f"{host}:{port}" if port else host
            if any(host.endswith(e) or with_port.endswith(e) for e in entries):
                return True
    try:
        return bool(urllib.request.proxy_bypass(host))
    except (TypeError, socket.gaierror):
        return False


# -- connections ----------------------------------------------------------------------------


def _shutdown(sock: socket.socket | None) -> None:
    """Unblock any thread reading from sock (closing alone waits for its read)."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _is_dropped(sock: socket.socket) -> bool:
    """An idle keep-alive socket with something to read has been closed by the server
    (or holds garbage): either way it cannot carry the next request."""
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)
    except (OSError, ValueError):
        return True


_Pool = dict[tuple[str, str, int, "_Proxy | None"], http.client.HTTPConnection]


class Response:
    """One response with its body still unread. close() gives the connection back to its
    thread's pool when the body was read to the end, and drops it otherwise."""

    def __init__(self, method: str, raw: http.client.HTTPResponse,
                 release: Callable[[bool], None], sock: socket.socket | None):
        self.method = method
        self.raw = raw
        self.status_code = raw.status
        self.reason = raw.reason
        self.headers = raw.msg
        self._release = release
        self._sock = sock
        self._closed = False
        if self._bodiless():
            # Nothing left to read, so the connection goes back now, even if the caller
            # keeps the answer open for its headers (as a HEAD's often is).
            self.close()

    def _bodiless(self) -> bool:
        return self.method == "HEAD" or (self.raw.length == 0 and not self.raw.chunked)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._bodiless():
            self.raw.read()  # returns at once: it only marks the response complete
        complete = self.raw.isclosed()
        if not complete:
            _shutdown(self._sock)
        self.raw.close()
        self._release(complete)


@dataclasses.dataclass(slots=True)
class Answer:
    """Where following a URL ended: the final response (still open for a GET) and what the
    hops said on the way."""

    url: str
    status: int
    headers: http.client.HTTPMessage
    response: Response
    insecure_redirect: str | None = None
    linked_etag: str | None = None
    linked_size: str | None = None
    hops: int = 0

    def close(self) -> None:
        self.response.close()


class Fetcher:
    """Requests with the run's limits, over keep-alive connections kept per thread."""

    def __init__(self, limits: NetworkLimits, credentials: Credentials, deadline: Deadline, *,
                 sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random):
        self.limits = limits
        self._credentials = credentials
        self.deadline = deadline
        self._sleep = sleep
        self._rng = rng
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()
        self._tls: ssl.SSLContext | None = None
        self.requests_sent = 0

    def close(self) -> None:
        with self._lock:
            for conn in self._open:
                conn.close()
            self._open.clear()

    def credentials_hint(self, url: str) -> str:
        return self._credentials.hint(urlsplit(url).hostname)

    def _ca_bundle(self) -> str | None:
        if self.limits.ca_bundle is not None:
            return str(self.limits.ca_bundle)
        chosen = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if chosen:
            return chosen
        # The Mozilla bundle that requests uses (certifi comes with it), so the trusted CAs
        # do not depend on the platform's store, which is empty on some macOS Pythons.
        try:
            import certifi
        except ImportError:
            return None
        where: str = certifi.where()
        return where

    def _tls_context(self) -> ssl.SSLContext:
        """Loaded on the first https request only: reading the CAs takes a few ms."""
        with self._lock:
            if self._tls is None:
                ca = self._ca_bundle()
                try:
                    if ca is not None and os.path.isdir(ca):
                        self._tls = ssl.create_default_context(capath=ca)
                    else:
                        self._tls = ssl.create_default_context(cafile=ca)
                except (OSError, ValueError):
                    raise ProbeFailure(rules.CONNECTION_FAILED,
                                       f"cannot load CA certificates from {ca}") from None
            return self._tls

    def _pool(self) -> _Pool:
        pool: _Pool | None = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        return pool

    def _new_connection(self, route: _Route) -> http.client.HTTPConnection:
        proxy = route.proxy
        host, port = (route.host, route.port) if proxy is None else (proxy.host, proxy.port)
        conn: http.client.HTTPConnection
        if route.scheme == "https":
            if proxy is not None and proxy.scheme == "https":
                raise ProbeFailure(rules.CONNECTION_FAILED,
                                   "an https:// proxy cannot tunnel to an https URL here "
                                   "(use an http:// proxy)")
            conn = http.client.HTTPSConnection(host, port, context=self._tls_context())
            if proxy is not None:
                conn.set_tunnel(route.host, route.port, headers=dict(proxy.headers))
        elif proxy is not None and proxy.scheme == "https":
            conn = http.client.HTTPSConnection(host, port, context=self._tls_context())
        else:
            conn = http.client.HTTPConnection(host, port)
        with self._lock:
            self._open.add(conn)
        return conn

    def _forget(self, conn: http.client.HTTPConnection) -> None:
        _shutdown(conn.sock)
        conn.close()
        with self._lock:
            self._open.discard(conn)

    def _checkout(self, route: _Route) -> http.client.HTTPConnection:
        # Taken out of the pool while its response is open: a second request from this
        # thread meanwhile (a response left unread) gets a connection of its own.
        conn = self._pool().pop(route.key, None)
        if conn is None:
            return self._new_connection(route)
        if conn.sock is not None and _is_dropped(conn.sock):
            conn.close()
        return conn

    def _checkin(self, pool: _Pool, route: _Route, conn: http.client.HTTPConnection,
                 reusable: bool) -> None:
        if not reusable or route.key in pool:
            self._forget(conn)
        else:
            pool[route.key] = conn

    @staticmethod
    def _connect(conn: http.client.HTTPConnection, connect_timeout: float) -> None:
        conn.timeout = connect_timeout
        try:
            conn.connect()
        except TimeoutError as exc:
            raise ConnectTimeout("no connection within the connect timeout") from exc
        except OSError as exc:
            if str(exc).startswith("Tunnel connection failed"):
                raise ProxyError("the proxy refused the tunnel") from exc
            raise

    def _exchange(self, method: str, route: _Route, headers: dict[str, str],
                  connect_timeout: float, read_timeout: float) -> Response:
        pool = self._pool()
        for _ in range(2):
            conn = self._checkout(route)
            reused = conn.sock is not None
            try:
                if conn.sock is None:
                    self._connect(conn, connect_timeout)
                sock = conn.sock
                assert sock is not None
                sock.settimeout(read_timeout)
                conn.request(method, route.request_target, headers=headers)
                raw = conn.getresponse()
            except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
                self._forget(conn)
                if reused:
                    continue  # the server closed the idle connection first: one fresh try
                raise
            except BaseException:
                self._forget(conn)
                raise
            return Response(method, raw, functools.partial(self._checkin, pool, route, conn),
                            sock)
        raise AssertionError("unreachable: the second try is on a fresh connection")

    def send_once(self, method: str, url: str, *, authenticate: bool = True) -> Response:
        """One request, no redirects, no retries; raises TRANSPORT_ERRORS."""
        if self.deadline.expired():
            raise deadline_failure("before the request")
        remaining = self.deadline.remaining()
        connect_timeout = min(self.limits.connect_timeout, remaining)
        read_timeout = min(self.limits.read_timeout, remaining)
        route = route_of(url, environ_proxy(url))
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Accept": "*/*"}
        if authenticate:
            headers.update(self._credentials.headers_for(urlsplit(url).hostname))
            # User info in the URL wins over the host's credentials, as with requests.
            headers.update(route.userinfo_auth)
        if route.proxy is not None and route.scheme == "http":
            headers.update(route.proxy.headers)
        with self._lock:
            self.requests_sent += 1
        return self._exchange(method, route, headers, connect_timeout, read_timeout)

    def pause(self, attempt: int, retry_after: float | None = None) -> None:
        """Wait before attempt+1: Retry-After when the server gave one, else backoff."""
        if retry_after is not None:
            delay = min(retry_after, self.limits.retry_after_cap)
        else:
            delay = backoff_delay(attempt, self.limits.backoff_base, self.limits.backoff_cap,
                                  self._rng)
        if delay >= self.deadline.remaining():
            raise deadline_failure("while waiting to retry")
        self._sleep(delay)

    def send(self, method: str, url: str, *, authenticate: bool = True) -> Response:
        """One hop with retries on connection errors, 429 and 5xx (never on other 4xx)."""
        attempt = 0
        while True:
            try:
                response = self.send_once(method, url, authenticate=authenticate)
            except TRANSPORT_ERRORS as exc:
                rule, message = describe_error(exc, self.limits)
                if rule is not rules.CONNECTION_FAILED or attempt >= self.limits.retries:
                    raise ProbeFailure(rule, after_attempts(message, attempt)) from None
                self.pause(attempt)
                attempt += 1
                continue
            if is_retryable_status(response.status_code) and attempt < self.limits.retries:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                discard(response)
                self.pause(attempt, retry_after)
                attempt += 1
                continue
            return response

    def follow(self, method: str, url: str) -> Answer:
        """Follow redirects by hand, checking every hop. The final response stays open."""
        seen = [url]
        insecure: str | None = None
        linked_etag: str | None = None
        linked_size: str | None = None
        current = url
        for hop in range(self.limits.max_redirects + 1):
            # Once an https chain has dropped to plain http, a credential sent on would
            # cross the network in clear text.
            downgraded = insecure is not None and urlsplit(current).scheme == "http"
            response = self.send(method, current, authenticate=not downgraded)
            linked_etag = response.headers.get("X-Linked-Etag") or linked_etag
            linked_size = response.headers.get("X-Linked-Size") or linked_size
            if response.status_code not in REDIRECT_STATUSES:
                return Answer(current, response.status_code, response.headers, response,
                              insecure, linked_etag, linked_size, hop)
            location = response.headers.get("Location", "")
            discard(response)
            if not location:
                raise ProbeFailure(rules.BAD_REDIRECT,
                                   f"redirect ({response.status_code}) without a Location")
            target = urljoin(current, location)
            if urlsplit(current).scheme == "https" and urlsplit(target).scheme == "http":
                insecure = insecure or (f"redirects from {redact_url(current)} to plain "
                                        f"http ({redact_url(target)})")
            if target in seen:
                chain = " -> ".join(redact_url(u) for u in [*seen[seen.index(target):], target])
                raise ProbeFailure(rules.BAD_REDIRECT, f"redirect loop: {chain}")
            seen.append(target)
            current = target
        raise ProbeFailure(rules.BAD_REDIRECT,
                           f"more than {self.limits.max_redirects} redirects")

    def head(self, url: str) -> Answer:
        """The headers of url: HEAD, or a GET whose body is left unread when the server does
        not answer HEAD properly (signed CDN URLs often reject it)."""
        answer = self.follow("HEAD", url)
        if answer.status in (400, 403, 405, 501):
            answer.close()
            answer = self.follow("GET", url)
            answer.close()
        return answer


def after_attempts(message: str, attempt: int) -> str:
    return message if attempt == 0 else f"{message} (after {attempt + 1} attempts)"


def discard(response: Response) -> None:
    """Finish with a response so its connection can be reused when the body is small."""
    length = response.headers.get("Content-Length")
    try:
        if length is not None and length.isdigit() and int(length) <= _DISCARD_LIMIT:
            response.raw.read()
    except TRANSPORT_ERRORS:
        pass
    response.close()


class _Decoder:
    """gzip (every member) or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, encoding: str):
        self._gzip = encoding in ("gzip", "x-gzip")
        self._first = True
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)

    def decode(self, data: bytes) -> bytes:
        if self._first and not self._gzip:
            self._first = False
            try:
                return self._obj.decompress(data)
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        out = self._obj.decompress(data)
        while self._gzip and self._obj.eof and self._obj.unused_data:
            rest = self._obj.unused_data
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += self._obj.decompress(rest)
        return out

    def flush(self) -> bytes:
        return self._obj.flush()


def read_chunks(answer: Answer) -> Callable[[int], bytes]:
    """A read(n) function over the open body, as raw bytes of the file. A body that ends
    before its Content-Length raises http.client.IncompleteRead."""
    raw = answer.response.raw

    def read_raw(n: int) -> bytes:
        data = raw.read(n)
        # http.client's read(n) returns b"" at a premature end; raw.length is what the
        # Content-Length still promised.
        if not data and raw.length:
            raise http.client.IncompleteRead(b"", raw.length)
        return data

    encoding = (answer.headers.get("Content-Encoding") or "identity").strip().lower()
    # Servers should honour `Accept-Encoding: identity`; if one compresses anyway, hash
    # what a client would save, the decoded bytes.
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return read_raw
    decoder = _Decoder(encoding)
    done = False

    def read(n: int) -> bytes:
        nonlocal done
        while not done:
            data = read_raw(n)
            if not data:
                done = True
                return decoder.flush()
            decoded = decoder.decode(data)
            if decoded:
                return decoded
        return b""

    return read
