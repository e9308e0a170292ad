"""Downloading one model file into the cache: resume, retries with backoff, hash first.

The body goes to `<target>.partial`; only when its SHA-256 is the expected one is it
renamed over the target, so a file at its cache path is always a verified one.

* Resume: a partial file left by an earlier attempt (or process) is continued with
  `Range: bytes=<size>-`; a server that answers 200 instead of 206 starts it over.
* Retries: connection errors, bodies cut short, 429 and 5xx are retried
  `ClientConfig.network.retries` times with exponential backoff and jitter (Retry-After
  honoured, capped), by the network layer; other statuses (404, 403, ...) fail at once.
* Limits: `ClientConfig.download_timeout` bounds a whole download; an entry without
  `download.size` is cut off at `ClientConfig.undeclared_cap()`. A download that fails
  for good deletes its partial file.
* Progress and cancel (`Watch`): progress is reported as bytes arrive (throttled, never
  backwards); a cancel stops at the next chunk (or wakes a read blocked on a silent
  server), keeps the partial file for a later resume and raises Cancelled (C014).
* A SHA-256 mismatch deletes the partial file. If the body was resumed, the parts may
  come from two versions of the file on the server, so it is downloaded once more from
  the start; a mismatch of a whole download fails (C011): the config's hash is wrong.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from repo_tools.client.cache import PARTIAL_SUFFIX
from repo_tools.client.errors import Cancelled, DownloadError, NotDownloadable
from repo_tools.client.events import (
    DownloadFailed,
    DownloadFinished,
    DownloadProgress,
    DownloadStarted,
    Event,
)
from repo_tools.client.options import ClientConfig
from repo_tools.client.progress import CancelFlag, ProgressCallback, Throttle, abort_on_cancel
from repo_tools.findings import RuleError
from repo_tools.model import Download, ModelEntry
from repo_tools.net.deadline import Deadline
from repo_tools.net.transport import (
    DEADLINE,
    NetworkError,
    Transport,
    is_retryable_status,
    redact_url,
)
from repo_tools.rules import client as rules

USER_AGENT = "repo-tools-client"


@dataclasses.dataclass(frozen=True, slots=True)
class DownloadRef:
    """What a model entry says about its file."""

    url: str
    sha256: str
    cache_path: str
    size: int | None

    @classmethod
    def of(cls, model: ModelEntry) -> DownloadRef:
        """From a v2 model entry; NotDownloadable (C015) when it has no usable download
        section. A missing cachePath becomes `by-sha256/<sha256>`."""
        download = model.download
        where = model.describe()
        if download == Download():
            raise NotDownloadable(rules.NOT_DOWNLOADABLE, f"{where}: the model has no "
                                  "download section", model.path)
        url, sha256 = download.url, download.sha256
        if url is None or sha256 is None or not is_sha256(sha256):
            raise NotDownloadable(rules.NOT_DOWNLOADABLE, f"{where}: the model's download "
                                  "has no url or no sha256 of 64 hex digits", model.path)
        cache_path = download.cache_path or f"by-sha256/{sha256.lower()}"
        size = download.size
        return cls(url, sha256.lower(), cache_path, size)


def is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


@dataclasses.dataclass(slots=True)
class Watch:
    """Who watches one download: the application's progress callback and cancel flag, and
    the client's events. Counts what this call received (`transferred`)."""

    cache_path: str = ""
    progress: ProgressCallback | None = None
    cancel: CancelFlag | None = None
    emit: Callable[[Event], None] | None = None
    throttle: Throttle = dataclasses.field(default_factory=Throttle)
    transferred: int = 0
    started: float = dataclasses.field(default_factory=time.monotonic)

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def check(self, done: int) -> None:
        if self.cancelled():
            raise self.cancel_error(done)

    def cancel_error(self, done: int) -> Cancelled:
        return Cancelled(rules.DOWNLOAD_CANCELLED,
                         f"{self.cache_path}: cancelled with {done} bytes on disk; the "
                         "partial file is kept and the next download resumes it",
                         self.cache_path, done_bytes=done)

    def report(self, done: int, total: int | None, *, final: bool = False) -> None:
        if not self.throttle.due(done, final=final):
            return
        if self.progress is not None:
            self.progress(done, total)
        if self.emit is not None:
            self.emit(DownloadProgress(self.cache_path, done, total))

    def start(self, url: str, total: int | None, offset: int) -> None:
        if self.emit is not None:
            self.emit(DownloadStarted(self.cache_path, redact_url(url), total, offset))

    def finish(self, size: int) -> None:
        self.report(size, size, final=True)
        if self.emit is not None:
            self.emit(DownloadFinished(self.cache_path, size, self.transferred,
                                       time.monotonic() - self.started))

    def fail(self, error: RuleError) -> None:
        if self.emit is not None:
            self.emit(DownloadFailed(self.cache_path, error.code, error.message,
                                     self.transferred))


class _Retry(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True, slots=True)
class _Body:
    sha256: str
    resumed: bool


def download_file(ref: DownloadRef, target: Path, config: ClientConfig,
                  transport: Transport, *, deadline: Deadline | None = None,
                  watch: Watch | None = None) -> None:
    """Download ref.url to target, verified; raises DownloadError, or Cancelled (the
    partial file kept). A download that fails for good leaves no `.partial` behind."""
    partial = target.with_name(target.name + PARTIAL_SUFFIX)  # what `prune` looks for
    watch = watch or Watch(ref.cache_path)
    # The download's own deadline (inside the caller's), so that a cancel ends this
    # download only.
    deadline = Deadline(config.download_timeout, parent=deadline,
                        name="the download time limit (ClientConfig.download_timeout)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # A cancel ends the download's deadline: whatever the transfer waits for
        # (connecting, the answer, the next bytes) wakes up at once and fails.
        with abort_on_cancel(watch.cancel, _Ending(deadline)):
            _download(ref, target, partial, config, transport, deadline, watch)
    except DownloadError as exc:
        if watch.cancelled():  # the failure is the cancel's doing: keep what was received
            cancelled = watch.cancel_error(_size_of(partial))
            watch.fail(cancelled)
            raise cancelled from None
        partial.unlink(missing_ok=True)
        watch.fail(exc)
        raise
    except Cancelled as exc:
        watch.fail(exc)
        raise
    except OSError as exc:
        error = DownloadError(rules.DOWNLOAD_FAILED, f"cannot write {target.name}: "
                              f"{exc.strerror or type(exc).__name__}")
        watch.fail(error)
        raise error from None
    watch.finish(target.stat().st_size)


def _download(ref: DownloadRef, target: Path, partial: Path, config: ClientConfig,
              transport: Transport, deadline: Deadline, watch: Watch) -> None:
    shown = redact_url(ref.url)
    attempt = 0
    restarted = False
    while True:
        try:
            body = _attempt(transport, ref, partial, config, deadline, watch)
        except _Retry as retry:
            if attempt >= config.network.retries:
                raise DownloadError(rules.DOWNLOAD_FAILED,
                                    f"{shown}: {retry.message} (after {attempt + 1} "
                                    "attempts)") from None
            try:
                transport.pause(attempt, deadline, retry.retry_after, ref.url)
            except NetworkError as exc:
                raise DownloadError(rules.DOWNLOAD_FAILED,
                                    f"{exc.describe()} after: {retry.message}") from None
            attempt += 1
            continue
        if body.sha256 != ref.sha256:
            partial.unlink(missing_ok=True)
            if body.resumed and not restarted:
                restarted = True
                continue
            raise DownloadError(rules.CHECKSUM_MISMATCH,
                                f"{shown}: SHA-256 is {body.sha256}, the config says "
                                f"{ref.sha256}; the file was not kept")
        os.replace(partial, target)
        return


def _hash_existing(partial: Path, chunk_size: int, watch: Watch) -> tuple[Any, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("rb") as handle:
            while chunk := handle.read(chunk_size):
                digest.update(chunk)
                size += len(chunk)
                watch.check(size)  # hashing gigabytes already on disk takes seconds
    except FileNotFoundError:
        pass
    return digest, size


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-999/1000"
    if not value or not value.startswith("bytes "):
        return None
    first = value[len("bytes "):].split("-", 1)[0]
    return int(first) if first.isdigit() else None


def _attempt(transport: Transport, ref: DownloadRef, partial: Path, config: ClientConfig,
             deadline: Deadline, watch: Watch) -> _Body:
    shown = redact_url(ref.url)
    watch.check(_size_of(partial))
    digest, offset = _hash_existing(partial, config.chunk_size, watch)
    if ref.size is not None and offset > ref.size:
        partial.unlink()
        digest, offset = hashlib.sha256(), 0
    if ref.size is not None and offset == ref.size and offset > 0:
        return _Body(digest.hexdigest(), resumed=True)  # finished before, never renamed
    watch.start(ref.url, ref.size, offset)
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        # The transport retries connection errors, 429 and 5xx itself.
        answer = transport.follow("GET", ref.url, deadline, headers=headers)
    except NetworkError as exc:
        raise DownloadError(rules.DOWNLOAD_FAILED, exc.describe()) from None
    with answer.response as response:
        status = response.status
        if status == 416 and offset:
            partial.unlink(missing_ok=True)  # the partial file is not a prefix we can use
            raise _Retry("the server refused to resume (416); starting over", 0.0)
        if status not in (200, 206):
            tried = f" (after {config.network.retries + 1} attempts)" if \
                is_retryable_status(status) else ""
            raise DownloadError(rules.DOWNLOAD_FAILED, f"{shown}: the server answers HTTP "
                                f"{status} {response.reason}".rstrip() + tried)
        if status == 206 and _content_range_start(response.headers.get("Content-Range")) \
                != offset:
            partial.unlink(missing_ok=True)
            raise _Retry("the server resumed at another offset; starting over", 0.0)
        resumed = status == 206
        if not resumed:
            digest, offset = hashlib.sha256(), 0
        cap = ref.size if ref.size is not None else config.undeclared_cap()
        total = ref.size if ref.size is not None else _declared_total(response, offset)
        received = offset
        try:
            with partial.open("ab" if resumed else "wb") as out:
                try:
                    watch.report(received, total)
                    for chunk in response.iter_content(config.chunk_size):
                        received += len(chunk)
                        watch.transferred += len(chunk)
                        if received > cap:
                            raise _too_large(ref, shown, cap)
                        out.write(chunk)
                        digest.update(chunk)
                        watch.check(received)
                        watch.report(received, total)
                finally:
                    # Kept for a resume after a cancel or a cut: what was received is on
                    # disk before the error goes up.
                    out.flush()
                    os.fsync(out.fileno())
        except NetworkError as exc:
            watch.check(received)  # a cancel aborts a blocked read: it shows up here
            if exc.kind == DEADLINE:
                raise DownloadError(rules.DOWNLOAD_FAILED,
                                    f"{exc.describe()} (after {received} bytes)") from None
            raise _Retry(f"{exc.message} after {received} bytes") from None
        except OSError as exc:
            raise DownloadError(rules.DOWNLOAD_FAILED,
                                f"cannot write {partial.name}: {exc.strerror}") from None
        return _Body(digest.hexdigest(), resumed)


@dataclasses.dataclass(frozen=True, slots=True)
class _Ending:
    deadline: Deadline

    def abort(self) -> None:
        self.deadline.expire()


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _declared_total(response: Any, offset: int) -> int | None:
    length = response.headers.get("Content-Length", "")
    return offset + int(length) if length.isdigit() else None


def _too_large(ref: DownloadRef, shown: str, cap: int) -> DownloadError:
    if ref.size is not None:
        return DownloadError(rules.CHECKSUM_MISMATCH,
                             f"{shown}: the body is larger than the config's size {ref.size}; "
                             "the file was not kept")
    return DownloadError(rules.DOWNLOAD_FAILED,
                         f"{shown}: the body passed {cap} bytes and the entry declares no "
                         "download.size (the cap is ClientConfig.max_undeclared_size, or the "
                         "cache budget when smaller); the file was not kept")


def download(url: str, sha256: str, dest: Path, *, size: int | None = None,
             config: ClientConfig | None = None, progress: ProgressCallback | None = None,
             cancel: CancelFlag | None = None,
             on_event: Callable[[Event], None] | None = None) -> Path:
    """Download url to dest and check its SHA-256, outside any cache: what `ensure` does
    for one file. Returns dest, which exists only when verified.

    A file already at dest with this SHA-256 is kept (nothing is fetched). The body goes
    to `dest.partial` first; after a cancel (Cancelled, C014) or a crash, the next call
    resumes it. Credentials and headers come from `config.credentials` (by exact origin),
    retries and timeouts from `config.network`; `config.offline` allows no request (C016).
    One writer per dest at a time: unlike `ensure`, this takes no lock.

    Raises DownloadError (C010, C011, C016), Cancelled (C014), NotDownloadable (C015: a
    sha256 that is not 64 hex digits).
    """
    from repo_tools.client.cache import sha256_file
    from repo_tools.client.events import emitter
    from repo_tools.client.sources import RemoteFailure, client_transport

    config = config or ClientConfig()
    dest = Path(dest)
    if not is_sha256(sha256):
        raise NotDownloadable(rules.NOT_DOWNLOADABLE, "sha256 must be 64 hex digits")
    ref = DownloadRef(url, sha256.lower(), dest.name, size)
    if dest.is_file() and sha256_file(dest) == ref.sha256:
        return dest
    watch = Watch(dest.name, progress, cancel, emitter(on_event))
    if config.offline:
        error = DownloadError(rules.OFFLINE, f"{dest.name} is not there and downloads are "
                              "off (ClientConfig.offline)")
        watch.fail(error)
        raise error
    try:
        transport = client_transport(config)
    except RemoteFailure as exc:
        raise DownloadError(rules.DOWNLOAD_FAILED, exc.message) from None
    with transport:
        download_file(ref, dest, config, transport, watch=watch)
    return dest
