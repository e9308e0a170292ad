"""HTTP for probe: redirects followed by hand, retries with backoff, errors named plainly.

Redirects are followed here rather than by requests so that every hop can be checked
(https -> http, loops) and credentials go only to the host they belong to. Error
messages are built from exception types, never from `str(exc)`: requests puts the full
URL, query tokens included, into its messages.
"""

from __future__ import annotations

import dataclasses
import email.utils
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from repo_tools.findings import Rule
from repo_tools.probe.auth import Credentials
from repo_tools.probe.targets import redact_url
from repo_tools.rules import probe as rules

USER_AGENT = "repo-tools-probe"
_DISCARD_LIMIT = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


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
    if any(isinstance(c, requests.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError)
           for c in causes):
        return (rules.CONNECTION_FAILED,
                f"no connection within {limits.connect_timeout:g}s (connect timeout)")
    if any(isinstance(c, requests.ReadTimeout | urllib3.exceptions.ReadTimeoutError
                      | TimeoutError) for c in causes):
        return (rules.CONNECTION_FAILED,
                f"the server sent nothing for {limits.read_timeout:g}s (read timeout)")
    if any(isinstance(c, ConnectionResetError) for c in causes):
        return rules.CONNECTION_FAILED, "the server reset the connection"
    if any(isinstance(c, requests.TooManyRedirects) for c in causes):
        return rules.BAD_REDIRECT, "too many redirects"
    if any(isinstance(c, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema
                      | requests.exceptions.InvalidSchema) for c in causes):
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


@dataclasses.dataclass(slots=True)
class Answer:
    """Where following a URL ended: the final response (still open for a GET) and what the
    hops said on the way."""

    url: str
    status: int
    headers: Mapping[str, str]
    response: requests.Response
    insecure_redirect: str | None = None
    linked_etag: str | None = None
    linked_size: str | None = None
    hops: int = 0

    def close(self) -> None:
        self.response.close()


class Fetcher:
    """Requests with the run's limits; one requests.Session per thread."""

    def __init__(self, limits: NetworkLimits, credentials: Credentials, deadline: Deadline, *,
                 pool_size: int = 10, sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random):
        self.limits = limits
        self._credentials = credentials
        self.deadline = deadline
        self._sleep = sleep
        self._rng = rng
        self._pool_size = pool_size
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self.requests_sent = 0

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # Proxies, CA bundle and netrc are taken from the environment explicitly, so
            # that requests cannot attach netrc credentials to a redirect's host.
            session.trust_env = False
            adapter = requests.adapters.HTTPAdapter(pool_maxsize=self._pool_size)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def credentials_hint(self, url: str) -> str:
        return self._credentials.hint(urlsplit(url).hostname)

    def _verify(self) -> bool | str:
        import os

        if self.limits.ca_bundle is not None:
            return str(self.limits.ca_bundle)
        return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    def send_once(self, method: str, url: str, *, authenticate: bool = True
                  ) -> requests.Response:
        """One request, no redirects, no retries; raises requests' exceptions."""
        if self.deadline.expired():
            raise deadline_failure("before the request")
        remaining = self.deadline.remaining()
        timeout = (min(self.limits.connect_timeout, remaining),
                   min(self.limits.read_timeout, remaining))
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if authenticate:
            headers.update(self._credentials.headers_for(urlsplit(url).hostname))
        proxies = requests.utils.get_environ_proxies(url)
        with self._lock:
            self.requests_sent += 1
        return self._session().request(method, url, headers=headers, allow_redirects=False,
                                       stream=True, timeout=timeout, proxies=proxies,
                                       verify=self._verify())

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

    def send(self, method: str, url: str, *, authenticate: bool = True) -> requests.Response:
        """One hop with retries on connection errors, 429 and 5xx (never on other 4xx)."""
        attempt = 0
        while True:
            try:
                response = self.send_once(method, url, authenticate=authenticate)
            except requests.RequestException as exc:
                rule, message = describe_error(exc, self.limits)
                if rule is not rules.CONNECTION_FAILED or attempt >= self.limits.retries:
                    raise ProbeFailure(rule, _after(message, attempt)) from None
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
            # cross the network in clear text (requests strips it the same way).
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


def _after(message: str, attempt: int) -> str:
    return message if attempt == 0 else f"{message} (after {attempt + 1} attempts)"


def discard(response: requests.Response) -> None:
    """Finish with a response so its connection can be reused when the body is small."""
    length = response.headers.get("Content-Length")
    try:
        if (response.request is not None and response.request.method == "HEAD") or (
                length is not None and length.isdigit() and int(length) <= _DISCARD_LIMIT):
            _ = response.content
    except (requests.RequestException, OSError):
        pass
    response.close()


def read_chunks(answer: Answer) -> Callable[[int], bytes]:
    """A read(n) function over the open body, as raw bytes of the file."""
    raw: Any = answer.response.raw
    encoding = answer.headers.get("Content-Encoding", "identity").strip().lower()
    # Servers should honour `Accept-Encoding: identity`; if one compresses anyway, hash
    # what a client would save, the decoded bytes.
    decode = encoding not in ("", "identity")

    def read(n: int) -> bytes:
        data: bytes = raw.read(n, decode_content=decode)
        return data

    return read
