"""The one HTTP layer of repo-tools: probe, model downloads and release fetches all go
through `Transport`.

Built on urllib3 (pooling, proxies with CONNECT tunnels or https proxies, TLS, body
decoding). urllib3 adds about 50 ms to start-up against the standard library's
http.client; requests on top of it about 20 ms more, for features (sessions, cookies,
auth classes) that this layer does not use.

What lives here and nowhere else:
* timeouts: connect and read (each wait), and an overall `Deadline` that holds against
  servers that trickle (see deadline.py);
* retries with exponential backoff and jitter, Retry-After honoured up to a cap, on
  connection errors, 429 and 5xx (never on other 4xx), and for `get`, on a body that
  breaks off;
* conditional GETs: validators in (`repo_tools.net.conditional`), status and the
  answer's validators out;
* redirects, followed one hop at a time so that every hop is checked: loops and chains
  that are too long are refused, credentials are looked up for each hop's own origin
  (so they never reach another host), and an https -> http downgrade is either refused
  or, for probe, reported and continued without credentials;
* proxies from the environment (`HTTP(S)_PROXY`, `ALL_PROXY`, `NO_PROXY`), as requests
  chooses them;
* error messages built from exception types, never from `str(exc)`: several exceptions
  quote the URL or the host, query tokens included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import os
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import urllib3
from urllib3 import exceptions as u3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from repo_tools.net.conditional import Validators
from repo_tools.net.credentials import Credentials
from repo_tools.net.deadline import Deadline, Guard
from repo_tools.net.limits import NetworkLimits

if TYPE_CHECKING:
    from urllib3.response import BaseHTTPResponse

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DISCARD_LIMIT = 64 * 1024

# What NetworkError.kind can be.
INVALID_URL = "invalid-url"
DNS = "dns"
TLS = "tls"
REFUSED = "refused"
CONNECT_TIMEOUT = "connect-timeout"
READ_TIMEOUT = "read-timeout"
RESET = "reset"
CLOSED = "closed"
PROXY = "proxy"
DECODE = "decode"
REDIRECTS = "redirects"
INSECURE_REDIRECT = "insecure-redirect"
DEADLINE = "deadline"
TOO_LARGE = "too-large"
OTHER = "other"
# Worth another attempt: the same request may well succeed a moment later.
RETRYABLE = frozenset({DNS, TLS, REFUSED, CONNECT_TIMEOUT, READ_TIMEOUT, RESET, CLOSED,
                       PROXY, DECODE, OTHER})


def deadline_error(deadline: Deadline, when: str, url: str = "") -> NetworkError:
    return NetworkError(DEADLINE, f"{deadline.name} ran out {when}",
                        redact_url(url) if url else "")


class NetworkError(Exception):
    """A request failed. `message` says what happened without the URL; `url` is the URL
    as it may be shown (redacted); str() gives both."""

    def __init__(self, kind: str, message: str, url: str = "", attempts: int = 1) -> None:
        self.kind = kind
        self.message = message
        self.url = url
        self.attempts = attempts
        super().__init__(self.describe())

    def describe(self) -> str:
        text = f"{self.url}: {self.message}" if self.url else self.message
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        return text


def redact_url(url: str) -> str:
    """The URL as it may be shown: no user info, and no query or fragment (they often carry
    signed tokens, e.g. a CDN redirect's X-Amz-Signature)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    shown = urlunsplit((parts.scheme, host + port, parts.path, "", ""))
    return shown + ("?…" if parts.query else "")


def is_retryable_status(status: int) -> bool:
    """429 and 5xx are worth another try; 501 (not implemented) and 4xx are not."""
    return status == 429 or (500 <= status <= 599 and status != 501)


def backoff_delay(attempt: int, base: float, cap: float,
                  rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: half fixed, half random, so clients spread out."""
    # The exponent is bounded so that a huge retry count cannot overflow a float.
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


def classify(exc: BaseException, limits: NetworkLimits) -> tuple[str, str]:
    """A kind and a plain message for a transport exception, without any URL in it."""
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, NetworkError):
            return cause.kind, cause.message
        if isinstance(cause, socket.gaierror | u3.NameResolutionError):
            return DNS, "the host name does not resolve"
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or "untrusted certificate"
            return TLS, f"TLS certificate not accepted: {reason}"
    if any(isinstance(c, u3.ProxyError) for c in causes):
        return PROXY, "the proxy refused to connect to the host"
    for cause in causes:
        if isinstance(cause, ssl.SSLError | u3.SSLError):
            return TLS, "the TLS handshake failed"
        if isinstance(cause, ConnectionRefusedError):
            return REFUSED, "the connection was refused"
    if any(isinstance(c, u3.ConnectTimeoutError) for c in causes):
        return CONNECT_TIMEOUT, (f"no connection within {limits.connect_timeout:g}s "
                                 "(connect timeout)")
    if any(isinstance(c, u3.ReadTimeoutError | TimeoutError) for c in causes):
        return READ_TIMEOUT, (f"the server sent nothing for {limits.read_timeout:g}s "
                              "(read timeout)")
    if any(isinstance(c, ConnectionResetError | ConnectionAbortedError | BrokenPipeError)
           for c in causes):
        return RESET, "the server reset the connection"
    if any(isinstance(c, u3.IncompleteRead | u3.ProtocolError) for c in causes):
        return CLOSED, "the server closed the connection"
    if any(isinstance(c, u3.DecodeError) for c in causes):
        return DECODE, "the compressed body could not be decoded"
    if any(isinstance(c, u3.LocationValueError | u3.LocationParseError | ValueError)
           for c in causes):
        return INVALID_URL, "the URL is not valid"
    return OTHER, f"the connection failed ({type(exc).__name__})"


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


# -- proxies from the environment ---------------------------------------------------------


def proxies_in_environment() -> bool:
    return any(name.lower().endswith("_proxy") for name in os.environ)


def environ_proxy(url: str) -> str | None:
    """The proxy for url from the environment (`HTTPS_PROXY`, `NO_PROXY`, ...), chosen as
    requests chooses it (`get_environ_proxies` and `select_proxy`)."""
    if not proxies_in_environment():
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


# -- connections that a deadline can interrupt ----------------------------------------------

_current = threading.local()


def _watch(sock: socket.socket | None) -> None:
    guard: Guard | None = getattr(_current, "guard", None)
    if guard is not None:
        guard.add(sock)


class _Watched:
    """Hands every socket a request uses to the request's deadline guard: the raw socket as
    soon as it exists (connect, tunnel, TLS handshake), the TLS socket after, and a pooled
    socket when it is reused."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


# -- responses ----------------------------------------------------------------------------


class Response:
    """One response with its body still unread; close() it (or read it to the end).

    Reads go through the request's deadline: when it runs out, a read raises
    NetworkError(DEADLINE) even if the shut-down socket made the body look complete."""

    def __init__(self, url: str, raw: BaseHTTPResponse, guard: Guard, deadline: Deadline,
                 transport: Transport) -> None:
        self.url = url
        self.raw = raw
        self.status = raw.status
        self.reason = raw.reason or ""
        self.headers = raw.headers
        self._guard = guard
        self._deadline = deadline
        self._transport = transport
        self._done = False
        if raw.status in (204, 304) or raw.length_remaining == 0:
            self.close()

    def read(self, amount: int) -> bytes:
        """Up to amount bytes of the (decoded) body; b"" at its end."""
        try:
            # read1: what has arrived, at most amount (a body cut short keeps its bytes).
            data = self.raw.read1(amount, decode_content=True)
        except Exception as exc:
            if self._guard.tripped or self._deadline.expired():
                raise deadline_error(self._deadline, "while receiving the body",
                                     self.url) from None
            kind, message = classify(exc, self._transport.limits)
            raise NetworkError(kind, message, redact_url(self.url)) from exc
        if self._guard.tripped:
            raise deadline_error(self._deadline, "while receiving the body", self.url)
        if not data:
            self._done = True
        return data

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        while chunk := self.read(chunk_size):
            yield chunk

    def close(self) -> None:
        """Give the connection back when the body was read to its end, else drop it."""
        if not self._done and self.raw.length_remaining == 0:
            # Nothing left to read (HEAD, 204, an empty body): the read returns at once and
            # only marks the response complete, so that its connection can be reused.
            with contextlib.suppress(Exception):
                self.raw.read()
        elif not self._done:
            # The rest of the body is not wanted: the connection cannot carry another
            # request, so it goes back closed and the pool opens a fresh one.
            self.raw.close()
        self.raw.release_conn()
        self._done = True
        self._guard.release()

    def abort(self) -> None:
        """Stop a read blocked in another thread, then close."""
        self._guard.shut()
        self.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def discard(response: Response) -> None:
    """Finish with a response so that its connection can be reused when the body is small."""
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) <= _DISCARD_LIMIT:
        try:
            while response.read(_DISCARD_LIMIT):
                pass
        except NetworkError:
            pass
    response.close()


def read_limited(response: Response, max_bytes: int, chunk_size: int = 64 * 1024) -> bytes:
    """The whole body; NetworkError(TOO_LARGE) as soon as it passes max_bytes (an endless
    or oversized body is cut off, never held)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise NetworkError(TOO_LARGE, f"the body is larger than the limit of {max_bytes} bytes",
                           redact_url(response.url))
    chunks: list[bytes] = []
    total = 0
    with response:
        for chunk in response.iter_content(chunk_size):
            total += len(chunk)
            if total > max_bytes:
                raise NetworkError(TOO_LARGE,
                                   f"the body is larger than the limit of {max_bytes} bytes",
                                   redact_url(response.url))
            chunks.append(chunk)
    return b"".join(chunks)


@dataclasses.dataclass(frozen=True, slots=True)
class Fetched:
    """A whole GET: the final status, the body (empty unless 200) and the validators the
    final answer carried (a 304 repeats them, or sends new ones)."""

    status: int
    body: bytes
    validators: Validators


@dataclasses.dataclass(slots=True)
class Answer:
    """Where following a URL ended: the final response (still open) and what the hops said
    on the way."""

    url: str
    response: Response
    insecure_redirect: str | None = None
    linked_etag: str | None = None
    linked_size: str | None = None

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def headers(self) -> Any:
        return self.response.headers

    def close(self) -> None:
        self.response.close()


# -- the transport ------------------------------------------------------------------------


def _basic(user: str, password: str) -> str:
    import base64

    raw = f"{unquote(user)}:{unquote(password)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _without_userinfo(url: str) -> tuple[str, str | None]:
    """url without user info, and the Basic header that user info asks for."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    netloc = parts.netloc.rpartition("@")[2]
    return (urlunsplit(parts._replace(netloc=netloc)),
            _basic(parts.username, parts.password or ""))


class Transport:
    """Requests with one set of limits, over pooled keep-alive connections (thread-safe).
    Every request runs under a `Deadline` given by the caller."""

    def __init__(self, limits: NetworkLimits | None = None,
                 credentials: Credentials | None = None, *, user_agent: str = "repo-tools",
                 pool_size: int = 10,
                 sleep: Callable[[float], None] | None = None,
                 rng: Callable[[], float] = random.random) -> None:
        self.limits = limits or NetworkLimits()
        self.credentials = credentials if credentials is not None else Credentials(env={})
        self.user_agent = user_agent
        self._pool_size = pool_size
        self._sleep = sleep
        self._proxies: bool | None = None  # whether the environment names a proxy
        self._rng = rng
        self._lock = threading.Lock()
        self._managers: dict[tuple[str | None, bool], urllib3.PoolManager] = {}
        self._tls: ssl.SSLContext | None = None
        self.requests_sent = 0

    def close(self) -> None:
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
        for manager in managers:
            manager.clear()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


    # -- TLS and proxies -------------------------------------------------------------------

    def _ca_bundle(self) -> str | None:
        if self.limits.ca_bundle is not None:
            return str(self.limits.ca_bundle)
        chosen = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if chosen:
            return chosen
        # The Mozilla bundle (certifi), so the trusted CAs do not depend on the platform's
        # store, which is empty on some macOS Pythons.
        try:
            import certifi
        except ImportError:
            return None
        where: str = certifi.where()
        return where

    def _tls_context(self) -> ssl.SSLContext:
        """Loaded on the first https request only: reading the CAs takes a few ms."""
        if self._tls is None:
            ca = self._ca_bundle()
            try:
                if ca is not None and os.path.isdir(ca):
                    self._tls = ssl.create_default_context(capath=ca)
                else:
                    self._tls = ssl.create_default_context(cafile=ca)
            except (OSError, ValueError):
                raise NetworkError(TLS, f"cannot load CA certificates from {ca}") from None
        return self._tls

    def _manager(self, url: str) -> urllib3.PoolManager:
        # Whether the environment names any proxy is asked once per transport, not on
        # every request (it scans the environment: 9 % of probe's time at 2,000 URLs).
        if self._proxies is None:
            self._proxies = proxies_in_environment()
        proxy = environ_proxy(url) if self._proxies else None
        https = url[:6].lower() == "https:" or (proxy or "").lower().startswith("https:")
        key = (proxy, https)
        with self._lock:
            manager = self._managers.get(key)
            if manager is not None:
                return manager
            tls = self._tls_context() if https else None
            kwargs: dict[str, Any] = {"num_pools": 50, "maxsize": self._pool_size,
                                      "block": False, "retries": False}
            if tls is not None:
                kwargs["ssl_context"] = tls
            if proxy is None:
                manager = urllib3.PoolManager(**kwargs)
            else:
                manager = self._proxy_manager(proxy, tls, kwargs)
            manager.pool_classes_by_scheme = _POOLS
            self._managers[key] = manager
            return manager

    @staticmethod
    def _proxy_manager(proxy: str, tls: ssl.SSLContext | None,
                       kwargs: dict[str, Any]) -> urllib3.ProxyManager:
        # A proxy given without a scheme is an http proxy, as requests reads it.
        if "://" not in proxy:
            proxy = "http://" + proxy
        try:
            parts = urlsplit(proxy)
            host = parts.hostname
        except ValueError:
            host = None
        if host is None or parts.scheme.lower() not in ("http", "https"):
            raise NetworkError(PROXY, "the proxy URL from the environment is not an "
                               "http:// or https:// URL with a host")
        headers = {}
        if parts.username:
            headers["Proxy-Authorization"] = _basic(parts.username, parts.password or "")
        bare, _ = _without_userinfo(proxy)
        if parts.scheme.lower() == "https" and tls is not None:
            kwargs["proxy_ssl_context"] = tls
        return urllib3.ProxyManager(bare, proxy_headers=headers, **kwargs)

    # -- one request -----------------------------------------------------------------------

    def send_once(self, method: str, url: str, deadline: Deadline, *,
                  headers: Mapping[str, str] | None = None,
                  authenticate: bool = True) -> Response:
        """One request, no redirects, no retries; raises NetworkError."""
        shown = redact_url(url)
        if deadline.expired():
            raise deadline_error(deadline, "before the request", url)
        try:
            bare, userinfo_auth = _without_userinfo(url)
            parts = urlsplit(bare)
            valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
            _ = parts.port  # a bad port raises only when read
        except ValueError:
            valid = False
        if not valid:
            raise NetworkError(INVALID_URL, "not a valid http(s) URL with a host", shown)
        sent = {"User-Agent": self.user_agent, "Accept-Encoding": "identity", "Accept": "*/*"}
        if authenticate:
            sent.update(self.credentials.headers_for(bare))
            if userinfo_auth is not None:
                # User info in the URL wins over the host's credentials, as with requests.
                sent["Authorization"] = userinfo_auth
        sent.update(headers or {})
        timeout = urllib3.Timeout(connect=deadline.bound(self.limits.connect_timeout),
                                  read=deadline.bound(self.limits.read_timeout))
        guard = deadline.guard().__enter__()
        with self._lock:
            self.requests_sent += 1
        _current.guard = guard
        try:
            raw = self._manager(bare).urlopen(
                method, bare, headers=sent, redirect=False, retries=False,
                preload_content=False, decode_content=True, timeout=timeout)
        except NetworkError as exc:
            guard.release()
            exc.url = exc.url or shown
            raise
        except Exception as exc:
            guard.release()
            if guard.tripped or deadline.expired():
                raise deadline_error(deadline, "while waiting for the answer", url) from None
            kind, message = classify(exc, self.limits)
            raise NetworkError(kind, message, shown) from exc
        finally:
            _current.guard = None
        return Response(bare, raw, guard, deadline, self)

    def pause(self, attempt: int, deadline: Deadline, retry_after: float | None = None,
              url: str = "") -> None:
        """Wait before attempt+1: Retry-After when the server gave one, else backoff."""
        if retry_after is not None:
            delay = min(retry_after, self.limits.retry_after_cap)
        else:
            delay = backoff_delay(attempt, self.limits.backoff_base, self.limits.backoff_cap,
                                  self._rng)
        if delay >= deadline.remaining():
            raise deadline_error(deadline, "while waiting to retry", url)
        if self._sleep is not None:
            self._sleep(delay)
        elif deadline.wait(delay):
            # Ended meanwhile (`expire`: a cancel button): no retry after a cancel.
            raise deadline_error(deadline, "while waiting to retry", url)

    def _give_up_unless_retryable(self, exc: NetworkError, attempt: int) -> None:
        """Raise exc (with how many attempts were made) unless it is transient and
        retries are left: the one retry decision of `send` and `get`."""
        if exc.kind not in RETRYABLE or attempt >= self.limits.retries:
            exc.attempts = attempt + 1
            raise exc

    def send(self, method: str, url: str, deadline: Deadline, *,
             headers: Mapping[str, str] | None = None, authenticate: bool = True) -> Response:
        """One hop with retries on connection errors, 429 and 5xx (never on other 4xx)."""
        attempt = 0
        while True:
            try:
                response = self.send_once(method, url, deadline, headers=headers,
                                          authenticate=authenticate)
            except NetworkError as exc:
                self._give_up_unless_retryable(exc, attempt)
                self.pause(attempt, deadline, url=url)
                attempt += 1
                continue
            if is_retryable_status(response.status) and attempt < self.limits.retries:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                discard(response)
                self.pause(attempt, deadline, retry_after, url)
                attempt += 1
                continue
            return response

    def follow(self, method: str, url: str, deadline: Deadline, *,
               headers: Mapping[str, str] | None = None,
               allow_downgrade: bool = False) -> Answer:
        """Follow redirects by hand, checking every hop. The final response stays open.

        Credentials go with each hop only for that hop's own origin. An https -> http
        hop is refused (NetworkError INSECURE_REDIRECT) unless allow_downgrade, when it
        is followed without credentials and reported in `Answer.insecure_redirect`."""
        seen = [url]
        insecure: str | None = None
        linked_etag: str | None = None
        linked_size: str | None = None
        current = url
        for _ in range(self.limits.max_redirects + 1):
            # Once an https chain has dropped to plain http, a credential sent on would
            # cross the network in clear text.
            downgraded = insecure is not None and urlsplit(current).scheme == "http"
            response = self.send(method, current, deadline, headers=headers,
                                 authenticate=not downgraded)
            linked_etag = response.headers.get("X-Linked-Etag") or linked_etag
            linked_size = response.headers.get("X-Linked-Size") or linked_size
            if response.status not in REDIRECT_STATUSES:
                return Answer(current, response, insecure, linked_etag, linked_size)
            location = response.headers.get("Location", "")
            discard(response)
            if not location:
                raise NetworkError(REDIRECTS, f"redirect ({response.status}) without a "
                                   "Location", redact_url(current))
            target = urljoin(current, location)
            if urlsplit(current).scheme == "https" and urlsplit(target).scheme == "http":
                message = (f"redirects from {redact_url(current)} to plain http "
                           f"({redact_url(target)})")
                if not allow_downgrade:
                    raise NetworkError(INSECURE_REDIRECT, message + "; refused",
                                       redact_url(url))
                insecure = insecure or message
            if target in seen:
                chain = " -> ".join(redact_url(u) for u in [*seen[seen.index(target):], target])
                raise NetworkError(REDIRECTS, f"redirect loop: {chain}", redact_url(url))
            seen.append(target)
            current = target
        raise NetworkError(REDIRECTS, f"more than {self.limits.max_redirects} redirects",
                           redact_url(url))

    def head(self, url: str, deadline: Deadline, *, allow_downgrade: bool = False) -> Answer:
        """The headers of url: HEAD, or a GET whose body is left unread when the server does
        not answer HEAD properly (signed CDN URLs often reject it)."""
        answer = self.follow("HEAD", url, deadline, allow_downgrade=allow_downgrade)
        if answer.status in (400, 403, 405, 501):
            answer.close()
            answer = self.follow("GET", url, deadline, allow_downgrade=allow_downgrade)
            answer.close()
        return answer

    def get(self, url: str, max_bytes: int, deadline: Deadline, *,
            validators: Validators | None = None) -> Fetched:
        """A GET (redirects followed, no downgrade) with its body capped at max_bytes; the
        body of a non-200 answer is not read. With validators, the request is conditional
        (If-None-Match / If-Modified-Since) and an unchanged resource comes back as 304.

        Retried as a whole when the body breaks off (reset, closed, read timeout): `send`
        retries only until the answer's head arrives, and a connection lost in the middle
        of a body is as transient as a 503. Within the same `retries` and deadline."""
        headers = validators.request_headers() if validators else None
        attempt = 0
        while True:
            answer = self.follow("GET", url, deadline, headers=headers)
            if answer.status != 200:
                discard(answer.response)
                return Fetched(answer.status, b"", Validators.of(answer.headers))
            found = Validators.of(answer.headers)
            try:
                return Fetched(200, read_limited(answer.response, max_bytes), found)
            except NetworkError as exc:
                self._give_up_unless_retryable(exc, attempt)
            self.pause(attempt, deadline, url=url)
            attempt += 1

    def get_bytes(self, url: str, max_bytes: int, deadline: Deadline) -> tuple[int, bytes]:
        """Status and body of a GET, as `get` (the body of a non-200 answer is not read)."""
        fetched = self.get(url, max_bytes, deadline)
        return fetched.status, fetched.body
