"""What the client tells an application's telemetry: typed events, one per thing that
happened, given to `ConfigClient(on_event=...)`.

Every event has a `kind` (a string literal, for counters' labels and `match`), and only
data that is safe to export: URLs are redacted, no token or header value is ever in one.
The handler runs in the thread that loads or downloads; it should be quick (count, enqueue).
A handler that raises is logged and otherwise ignored: telemetry never breaks a load.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Literal

from repo_tools.client.result import Source
from repo_tools.client.sources import RemoteCheck
from repo_tools.findings import Finding

log = logging.getLogger("repo_tools.client")


@dataclasses.dataclass(frozen=True, slots=True)
class LoadStarted:
    """`load()` began; sources: the remote sources it may try, in order (none when
    offline)."""

    sources: tuple[str, ...]
    offline: bool
    kind: Literal["load_started"] = dataclasses.field(default="load_started", init=False)


@dataclasses.dataclass(frozen=True, slots=True)
class LoadFinished:
    """`load()` returned: what it used, why not the remote (reason codes in `reasons`), how
    many models, how long it took, and how a remote release was found current (`check`,
    as `LoadResult.check`: "downloaded", "not-modified", "unchanged", "not-due")."""

    source: Source
    config_version: str | None
    models: int
    reasons: tuple[Finding, ...]
    duration: float  # seconds
    check: RemoteCheck | None = None
    kind: Literal["load_finished"] = dataclasses.field(default="load_finished", init=False)


@dataclasses.dataclass(frozen=True, slots=True)
class CacheHit:
    """`ensure` found the file in the cache, verified; nothing was downloaded."""

    cache_path: str
    size: int
    rehashed: bool  # the file was hashed again (it changed, or verify_on_use="always")
    kind: Literal["cache_hit"] = dataclasses.field(default="cache_hit", init=False)


@dataclasses.dataclass(frozen=True, slots=True)
class DownloadStarted:
    """A download attempt began (one per attempt: a retry starts again); resumed_from:
    bytes already on disk from an earlier attempt or process."""

    cache_path: str
    url: str  # redacted: no user info, no query
    total_bytes: int | None
    resumed_from: int
    kind: Literal["download_started"] = dataclasses.field(default="download_started",
                                                          init=False)


@dataclasses.dataclass(frozen=True, slots=True)
class DownloadProgress:
    """Bytes on disk so far (throttled like the progress callback)."""

    cache_path: str
    done_bytes: int
    total_bytes: int | None
    kind: Literal["download_progress"] = dataclasses.field(default="download_progress",
                                                           init=False)


@dataclasses.dataclass(frozen=True, slots=True)
class DownloadFinished:
    """The file is in place and verified; transferred: bytes received by this call
    (less than size after a resume)."""

    cache_path: str
    size: int
    transferred: int
    duration: float  # seconds
    kind: Literal["download_finished"] = dataclasses.field(default="download_finished",
                                                           init=False)


@dataclasses.dataclass(frozen=True, slots=True)
class DownloadFailed:
    """The download ended without a file: code is the error's rule (C010 failed, C011
    checksum, C014 cancelled, C016 offline); transferred as above."""

    cache_path: str
    code: str
    message: str
    transferred: int
    kind: Literal["download_failed"] = dataclasses.field(default="download_failed",
                                                         init=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Evicted:
    """A cached file was removed to stay under the cache budget."""

    cache_path: str
    size: int
    kind: Literal["evicted"] = dataclasses.field(default="evicted", init=False)


Event = (LoadStarted | LoadFinished | CacheHit | DownloadStarted | DownloadProgress
         | DownloadFinished | DownloadFailed | Evicted)
EventHandler = Callable[[Event], None]


def emitter(handler: EventHandler | None) -> Callable[[Event], None]:
    """handler, guarded: an exception in it is logged, never raised into the client."""
    if handler is None:
        return _ignore

    def emit(event: Event) -> None:
        try:
            handler(event)
        except Exception as exc:  # an app's telemetry bug must not fail its downloads
            log.warning("the on_event handler raised %s on a %s event; ignored",
                        type(exc).__name__, event.kind)

    return emit


def _ignore(event: Event) -> None:
    """No handler: events are dropped."""
