"""`ClientConfig`: every limit and threshold of the client, as one frozen dataclass."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from repo_tools.net.credentials import Credentials
from repo_tools.net.limits import NetworkLimits
from repo_tools.release.verify import DEFAULT_LIMITS, VerifyLimits

GIB = 1 << 30
# A desktop app's downloads: patient reads (a CDN may pause), more retries than probe.
CLIENT_NETWORK = NetworkLimits(connect_timeout=10.0, read_timeout=60.0, retries=4,
                               backoff_base=0.5, backoff_cap=30.0, retry_after_cap=60.0)

VerifyOnUse = Literal["changed", "always"]
CACHE_DIR_VARIABLE = "REPO_TOOLS_CACHE_DIR"


def default_cache_dir(app_name: str, env: Mapping[str, str] | None = None) -> Path:
    """`REPO_TOOLS_CACHE_DIR` when set, else the platform's user cache directory for
    app_name (platformdirs: ~/.cache/APP on Linux, ~/Library/Caches/APP on macOS,
    %LOCALAPPDATA%\\APP\\Cache on Windows)."""
    chosen = (os.environ if env is None else env).get(CACHE_DIR_VARIABLE)
    if chosen:
        return Path(chosen)
    import platformdirs

    return platformdirs.user_cache_path(app_name, appauthor=False)


@dataclasses.dataclass(frozen=True, slots=True)
class ClientConfig:
    """Limits and policies; the defaults suit a desktop application.

    repository: the release repository id the client expects (None: any, but the
        rollback state is still kept per repository).
    max_drop_fraction: a remote that would remove more than this fraction of the models
        the last known good config gives this client is suspect and not applied (C005).
        1.0 turns the check off.
    allow_unsigned_git: accept a git source whose config_path holds a plain checkout
        (index.json and versions/) instead of a signed release folder. Validation only:
        anyone who can push to the branch controls the client's models.
    cache_budget_bytes: the model cache's size budget (None: unbounded); least recently
        used files are evicted to stay under it, never one in use or being downloaded.
    network: timeouts, retries (with backoff and Retry-After), redirects and CAs for every
        request the client makes (`repo_tools.net.NetworkLimits`; default
        `CLIENT_NETWORK`: connect 10 s, read 60 s, 4 retries).
    load_timeout: seconds the remote part of one `load()` may take in all (fetching and
        verifying the release, or cloning); past it, `load()` falls back to the last known
        good config (C001).
    fetch_timeout: seconds one release file (manifest, signature, archive) may take in all,
        inside load_timeout.
    download_timeout: seconds one model download in `ensure()` may take in all (None: no
        limit; the read timeout still bounds every wait for data).
    max_undeclared_size: the most bytes `ensure()` downloads for an entry without
        `download.size` (64 GiB; with a cache budget, the budget when smaller): a server
        sending endless data is cut off there, and nothing is kept.
    credentials: who gets an Authorization header and which extra headers, by exact origin
        (None: from the environment, `REPO_TOOLS_TOKENS`/`REPO_TOOLS_TOKENS_FILE` and
        ~/.netrc; `Credentials(tokens={...}, headers={...})` adds the application's own).
    refresh_interval: seconds during which a release, once confirmed current (downloaded,
        or found unchanged by a later load), is used without asking the server again:
        within it `load()` makes no request at all (`LoadResult.check` is
        `RemoteCheck.NOT_DUE`), provided the stored release still passes every check
        (expiry included) and came from one of this client's sources. None (the
        default) or 0: ask on every `load()`; the request is conditional, so an unchanged
        release costs one small answer (304) and nothing else.
    offline: no network at all: `load()` uses the last known good config (else the
        defaults) with reason C016, and `ensure()` hands out cached files only (C016 for
        one that is not cached).
    verify_on_use: "changed" re-hashes a cached file before handing it out only when its
        size, mtime or inode changed since it was hashed (cheap: one stat); "always"
        re-hashes it on every `ensure` (reads the whole file: about 1-2 s per GiB).
    """

    repository: str | None = None
    max_drop_fraction: float = 0.5
    allow_unsigned_git: bool = False
    cache_budget_bytes: int | None = None
    network: NetworkLimits = CLIENT_NETWORK
    load_timeout: float = 60.0
    fetch_timeout: float = 30.0
    download_timeout: float | None = None
    max_undeclared_size: int = 64 * GIB
    credentials: Credentials | None = dataclasses.field(default=None, repr=False)
    git_timeout: float = 300.0
    chunk_size: int = 1 << 20
    verify_limits: VerifyLimits = DEFAULT_LIMITS
    offline: bool = False
    refresh_interval: float | None = None
    verify_on_use: VerifyOnUse = "changed"

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_drop_fraction <= 1.0:
            raise ValueError("max_drop_fraction must be between 0 and 1")
        if self.cache_budget_bytes is not None and self.cache_budget_bytes < 0:
            raise ValueError("cache_budget_bytes must not be negative")
        if self.network.retries < 0:
            raise ValueError("network.retries must not be negative")
        for name in ("load_timeout", "fetch_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.refresh_interval is not None and not 0 <= self.refresh_interval < float("inf"):
            raise ValueError("refresh_interval must be a finite number of seconds >= 0, "
                             "or None")
        if self.download_timeout is not None and not self.download_timeout > 0:
            raise ValueError("download_timeout must be positive or None")
        if self.verify_on_use not in ("changed", "always"):
            raise ValueError('verify_on_use must be "changed" or "always"')
        if self.max_undeclared_size < 0:
            raise ValueError("max_undeclared_size must not be negative")

    def undeclared_cap(self) -> int:
        """The most bytes to accept for a file whose size the config does not give."""
        if self.cache_budget_bytes is not None:
            return min(self.max_undeclared_size, self.cache_budget_bytes)
        return self.max_undeclared_size
