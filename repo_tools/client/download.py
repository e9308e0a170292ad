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
* A SHA-256 mismatch deletes the partial file. If the body was resumed, the parts may
  come from two versions of the file on the server, so it is downloaded once more from
  the start; a mismatch of a whole download fails (C011): the config's hash is wrong.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Any

from repo_tools.client.cache import PARTIAL_SUFFIX
from repo_tools.client.errors import DownloadError
from repo_tools.client.options import ClientConfig
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
        """From a v2 model entry; ValueError when it has no usable download section. A
        missing cachePath becomes `by-sha256/<sha256>`."""
        download = model.download
        if download == Download():
            raise ValueError("the model has no download section")
        url, sha256 = download.url, download.sha256
        if url is None or sha256 is None or len(sha256) != 64:
            raise ValueError("the model's download has no url or sha256")
        cache_path = download.cache_path or f"by-sha256/{sha256.lower()}"
        size = download.size
        return cls(url, sha256.lower(), cache_path, size)


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
                  transport: Transport, *, deadline: Deadline | None = None) -> None:
    """Download ref.url to target, verified; raises DownloadError. A download that fails
    for good leaves no `.partial` behind."""
    partial = target.with_name(target.name + PARTIAL_SUFFIX)  # what `prune` looks for
    target.parent.mkdir(parents=True, exist_ok=True)
    if deadline is None:
        deadline = Deadline(config.download_timeout,
                            name="the download time limit (ClientConfig.download_timeout)")
    try:
        _download(ref, target, partial, config, transport, deadline)
    except DownloadError:
        partial.unlink(missing_ok=True)
        raise


def _download(ref: DownloadRef, target: Path, partial: Path, config: ClientConfig,
              transport: Transport, deadline: Deadline) -> None:
    shown = redact_url(ref.url)
    attempt = 0
    restarted = False
    while True:
        try:
            body = _attempt(transport, ref, partial, config, deadline)
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


def _hash_existing(partial: Path, chunk_size: int) -> tuple[Any, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("rb") as handle:
            while chunk := handle.read(chunk_size):
                digest.update(chunk)
                size += len(chunk)
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
             deadline: Deadline) -> _Body:
    shown = redact_url(ref.url)
    digest, offset = _hash_existing(partial, config.chunk_size)
    if ref.size is not None and offset > ref.size:
        partial.unlink()
        digest, offset = hashlib.sha256(), 0
    if ref.size is not None and offset == ref.size and offset > 0:
        return _Body(digest.hexdigest(), resumed=True)  # finished before, never renamed
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
        received = offset
        try:
            with partial.open("ab" if resumed else "wb") as out:
                for chunk in response.iter_content(config.chunk_size):
                    received += len(chunk)
                    if received > cap:
                        raise _too_large(ref, shown, cap)
                    out.write(chunk)
                    digest.update(chunk)
                out.flush()
                os.fsync(out.fileno())
        except NetworkError as exc:
            if exc.kind == DEADLINE:
                raise DownloadError(rules.DOWNLOAD_FAILED,
                                    f"{exc.describe()} (after {received} bytes)") from None
            raise _Retry(f"{exc.message} after {received} bytes") from None
        except OSError as exc:
            raise DownloadError(rules.DOWNLOAD_FAILED,
                                f"cannot write {partial.name}: {exc.strerror}") from None
        return _Body(digest.hexdigest(), resumed)


def _too_large(ref: DownloadRef, shown: str, cap: int) -> DownloadError:
    if ref.size is not None:
        return DownloadError(rules.CHECKSUM_MISMATCH,
                             f"{shown}: the body is larger than the config's size {ref.size}; "
                             "the file was not kept")
    return DownloadError(rules.DOWNLOAD_FAILED,
                         f"{shown}: the body passed {cap} bytes and the entry declares no "
                         "download.size (the cap is ClientConfig.max_undeclared_size, or the "
                         "cache budget when smaller); the file was not kept")
