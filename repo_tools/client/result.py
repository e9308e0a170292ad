"""What `ConfigClient.load` returns: typed, for an application to read by attribute."""

from __future__ import annotations

import dataclasses
import enum

from repo_tools.client.sources import Origin, RemoteCheck
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
    check: with `Source.REMOTE`, how the release was found current: `RemoteCheck.DOWNLOADED`
        (new, fetched in full), `NOT_MODIFIED` (the server answered 304), `UNCHANGED` (it
        sent the same manifest again) or `NOT_DUE` (no request: confirmed less than
        `ClientConfig.refresh_interval` ago). None when the models are not the remote's
        (`LAST_KNOWN_GOOD` after a failure, offline, or `DEFAULTS`). So "checked, and
        nothing changed" is `Source.REMOTE` with `NOT_MODIFIED`/`UNCHANGED`, never
        `LAST_KNOWN_GOOD`, which always comes with the reasons the remote was not used.
    """

    models: list[ModelEntry]
    config_version: str | None
    source: Source
    reasons: list[Finding]
    skipped: list[Finding]
    origin: Origin | None
    check: RemoteCheck | None = None
