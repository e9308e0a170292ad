"""What `ConfigClient.load` returns: typed, for an application to read by attribute."""

from __future__ import annotations

import dataclasses
import enum

from repo_tools.client.sources import Origin
from repo_tools.findings import Finding
from repo_tools.model import ModelEntry


class Source(enum.StrEnum):
    """Where the models of a load come from. A StrEnum, so it still equals (and prints
    as) the strings it replaced: `Source.REMOTE == "remote"`."""

    REMOTE = "remote"
    LAST_KNOWN_GOOD = "last-known-good"
    DEFAULTS = "defaults"


@dataclasses.dataclass(frozen=True, slots=True)
class LoadResult:
    """What `ConfigClient.load` decided.

    models: the models this client may use, best first (ranking, then provider, model,
        version), remote merged over defaults, as `ModelEntry` objects (`entry.model`,
        `entry.provider`, `entry.download.url`, ...; `entry.raw` is the entry as published).
    config_version: the remote config version they come from (None: defaults only).
    source: `Source.REMOTE`, `Source.LAST_KNOWN_GOOD` or `Source.DEFAULTS`.
    reasons: why the remote was not applied; with mirrors, also why the sources tried
        before the one that answered failed (so it can be non-empty with `Source.REMOTE`).
    skipped: invalid or conflicting model entries that were left out, with why.
    origin: the release (or git source) the remote models come from.
    """

    models: list[ModelEntry]
    config_version: str | None
    source: Source
    reasons: list[Finding]
    skipped: list[Finding]
    origin: Origin | None
