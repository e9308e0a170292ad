"""`ClientConfig`: every limit and threshold of the client, as one frozen dataclass."""

from __future__ import annotations

import dataclasses

from repo_tools.release.verify import DEFAULT_LIMITS, VerifyLimits


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
    retries, backoff_base, backoff_cap, retry_after_cap: model downloads are retried
        `retries` times after the first attempt, waiting
        min(cap, base * 2**attempt) seconds, half of it random (jitter); a server's
        Retry-After is honoured up to retry_after_cap.
    """

    repository: str | None = None
    max_drop_fraction: float = 0.5
    allow_unsigned_git: bool = False
    cache_budget_bytes: int | None = None
    retries: int = 4
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    git_timeout: float = 300.0
    chunk_size: int = 1 << 20
    verify_limits: VerifyLimits = DEFAULT_LIMITS

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_drop_fraction <= 1.0:
            raise ValueError("max_drop_fraction must be between 0 and 1")
        if self.cache_budget_bytes is not None and self.cache_budget_bytes < 0:
            raise ValueError("cache_budget_bytes must not be negative")
        if self.retries < 0:
            raise ValueError("retries must not be negative")
