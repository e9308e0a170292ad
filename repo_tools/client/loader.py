"""`ConfigClient`: the design doc's loading process, error handling and model cache.

Loading, in the doc's order:

1. the application's defaults (`configs/defaults/models/*.json`; v1 files converted);
2. the remote (a signed release folder, or git), verified before anything is parsed;
3. the config version: the highest one whose index range admits this client
   (`repo_tools.compat.resolve`, the same code as `repo-tools resolve`), and its models
   that admit the client and platform;
4. the merge: remote over defaults by (provider, model) (`repo_tools.client.merge`);
5. the result is stored as the last known good config (atomically), then the release's
   version is recorded for rollback protection.

Any failure on the way (unreachable, unverifiable, stale, no compatible config version,
a remote that would drop most models) falls back to the last known good config, with a
warning on the `repo_tools.client` logger that starts with the reason's code (C001-C007).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repo_tools import compat
from repo_tools.client.cache import STATE_DIR, ModelCache, ModelFile
from repo_tools.client.catalog import InvalidRemote, RemoteConfig, load_defaults, parse_remote_files
from repo_tools.client.errors import DownloadError
from repo_tools.client.lkg import FILE_NAME, LastKnownGood, read_lkg, write_lkg
from repo_tools.client.merge import drop_conflicts, merge_models, shrink
from repo_tools.client.options import ClientConfig
from repo_tools.client.sources import (
    FetchContext,
    Origin,
    RemoteFailure,
    RemoteSource,
    client_transport,
    load_deadline,
)
from repo_tools.findings import Finding, finding
from repo_tools.model import ModelEntry, entries_from, entry_of
from repo_tools.release import sshsig
from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import format_time
from repo_tools.release.state import load_state, record_accepted
from repo_tools.rules import client as rules

if TYPE_CHECKING:
    from repo_tools.net.transport import Transport

log = logging.getLogger("repo_tools.client")

SOURCE_REMOTE = "remote"
SOURCE_LAST_KNOWN_GOOD = "last-known-good"
SOURCE_DEFAULTS = "defaults"
STATE_FILE = "release-state.json"


@dataclasses.dataclass(frozen=True, slots=True)
class LoadResult:
    """What `ConfigClient.load` decided.

    models: the models this client may use, best first (ranking, then provider, model,
        version), remote merged over defaults.
    config_version: the remote config version they come from (None: defaults only).
    source: "remote", "last-known-good" or "defaults".
    reasons: why the remote was not applied (empty when source is "remote").
    skipped: invalid or conflicting model entries that were left out, with why.
    origin: the release (or git source) the remote models come from.
    """

    models: list[dict[str, Any]]
    config_version: str | None
    source: str
    reasons: list[Finding]
    skipped: list[Finding]
    origin: Origin | None


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _signers(value: str | Path | Sequence[sshsig.AllowedSigner]) -> list[sshsig.AllowedSigner]:
    if isinstance(value, Path):
        return sshsig.parse_allowed_signers(value.read_text("utf-8"))
    if isinstance(value, str):
        return sshsig.parse_allowed_signers(value)
    return list(value)


class ConfigClient:
    """Load the configuration for one client version and platform, and fetch its models.

    allowed_signers: the trusted release keys, as an allowed_signers file (`Path`), its
        text (`str`) or parsed entries. An unsigned git source needs none.
    defaults_dir: the application's `configs/defaults/models/` (None: no defaults).
    cache_dir: model files go to `cache_dir/<cachePath>`; the client's own state (last
        known good config, accepted release versions, cache index, locks) to
        `cache_dir/.repo-tools/`.
    clock: the current time, for release expiry (injectable for tests).
    """

    def __init__(self, client_version: str, platform: str | None = None, *,
                 source: RemoteSource,
                 allowed_signers: str | Path | Sequence[sshsig.AllowedSigner] = (),
                 defaults_dir: Path | None = None, cache_dir: Path,
                 config: ClientConfig | None = None,
                 clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.client_version = compat.normalise(client_version)
        self.platform = platform
        self.source = source
        self.allowed_signers = _signers(allowed_signers)
        self.defaults_dir = defaults_dir
        self.cache_dir = Path(cache_dir)
        self.config = config or ClientConfig()
        self.clock = clock
        self.cache = ModelCache(self.cache_dir, self.config.cache_budget_bytes)
        self._transport: Transport | None = None

    def transport(self) -> Transport:
        """The client's one transport (pooled connections), made on first use; raises
        RemoteFailure when the environment's credentials cannot be read."""
        if self._transport is None:
            self._transport = client_transport(self.config)
        return self._transport

    @property
    def state_dir(self) -> Path:
        return self.cache_dir / STATE_DIR

    @property
    def last_known_good_path(self) -> Path:
        return self.state_dir / FILE_NAME

    # -- loading -------------------------------------------------------------------------

    def load(self) -> LoadResult:
        """Defaults, then the verified remote merged over them, else the last known good
        config. Never raises for a bad or missing remote: the result says what was used
        and why."""
        now = self.clock()
        default_models, skipped = load_defaults(self.defaults_dir)
        defaults = entries_from(default_models, "defaults")
        for problem in skipped:
            log.warning("%s %s: %s", problem.rule, problem.path, problem.message)
        lkg, lkg_problem = read_lkg(self.last_known_good_path)
        if lkg_problem is not None:
            log.warning("%s the last known good config is unusable: %s",
                        rules.NO_LAST_KNOWN_GOOD.code, lkg_problem)
        fallback = _Fallback(self, defaults, skipped, lkg)
        where = self.source.describe()
        try:
            state = load_state(self.state_dir / STATE_FILE)
            fetched = self.source.fetch(FetchContext(self.allowed_signers, state, now,
                                                     self.config, self.transport(),
                                                     load_deadline(self.config)))
            remote = parse_remote_files(fetched.files)
        except RemoteFailure as failure:
            return fallback.use(finding(failure.rule, where, failure.message))
        except VerificationError as exc:  # the stored rollback state is damaged (R023)
            return fallback.use(finding(rules.REMOTE_REJECTED, where,
                                        f"{exc.code} {exc.rule.name}: {exc.message}"))
        except InvalidRemote as exc:
            return fallback.use(finding(rules.INVALID_REMOTE, where, str(exc)))
        except OSError as exc:  # e.g. no space for git's temporary checkout
            return fallback.use(finding(rules.REMOTE_UNREACHABLE, where,
                                        f"{type(exc).__name__}: {exc.strerror or exc}"))
        origin = fetched.origin
        resolution = self.select(remote)
        if resolution.config_version is None:
            return fallback.use(finding(
                rules.NO_COMPATIBLE_CONFIG, where,
                f"no config version in the index of {origin.describe()} admits client "
                f"{self.client_version}"))
        suspect = self._suspect(resolution, lkg, origin)
        if suspect is not None:
            return fallback.use(suspect)
        remote_skipped = remote.skipped.get(resolution.config_version, [])
        for problem in remote_skipped:
            log.warning("%s %s: %s", problem.rule, problem.path, problem.message)
        models, conflicts = self._assemble(defaults, resolution.models)
        result = LoadResult(models, resolution.config_version, SOURCE_REMOTE, [],
                            [*skipped, *remote_skipped, *conflicts], origin)
        self._store(remote, origin, result, now)
        log.info("loaded config %s for client %s: %d models from %s",
                 resolution.config_version, self.client_version, len(models),
                 origin.describe())
        return result

    def select(self, remote: RemoteConfig) -> compat.Resolution:
        """This client's config version and remote models (the selection module's rule)."""
        return compat.resolve(compat.entries_from_index(remote.index), remote.models_of,
                              self.client_version, self.platform)

    def _assemble(self, defaults: Sequence[ModelEntry],
                  remote_models: Sequence[ModelEntry]) -> tuple[list[dict[str, Any]],
                                                                list[Finding]]:
        # One selection after the merge: filtering the defaults first changes nothing, as
        # merging drops replaced entries either way and the sorts are stable.
        merged = compat.select_models(merge_models(defaults, remote_models),
                                      self.client_version, self.platform)
        models, conflicts = drop_conflicts(merged)
        for problem in conflicts:
            log.warning("%s %s", problem.rule, problem.message)
        # The public result keeps the entries as published (dicts).
        return [dict(m.raw) for m in models], conflicts

    def _suspect(self, resolution: compat.Resolution, lkg: LastKnownGood | None,
                 origin: Origin) -> Finding | None:
        if lkg is None:
            return None
        before = self.select(lkg.remote).models
        dropped = shrink(before, resolution.models, self.config.max_drop_fraction)
        if dropped is None:
            return None
        gone, total = dropped
        share = gone / total
        return finding(rules.SUSPECT_REMOTE, self.source.describe(),
                       f"{origin.describe()} would drop {gone} of the {total} models the "
                       f"last known good config gives this client ({share:.0%}, more than "
                       f"the allowed {self.config.max_drop_fraction:.0%}); not applied")

    def _store(self, remote: RemoteConfig, origin: Origin, result: LoadResult,
               now: dt.datetime) -> None:
        lkg = LastKnownGood(
            RemoteConfig(remote.index, remote.versions), origin, format_time(now),
            {"client_version": self.client_version, "platform": self.platform,
             "config_version": result.config_version, "models": result.models})
        try:
            write_lkg(self.last_known_good_path, lkg)
            if origin.accepted is not None and origin.repository is not None:
                record_accepted(self.state_dir / STATE_FILE, origin.repository,
                                origin.accepted)
        except (OSError, VerificationError) as exc:
            log.warning("could not store the last known good config in %s: %s",
                        self.state_dir, exc)

    # -- model files ---------------------------------------------------------------------

    def ensure(self, model: ModelEntry | Mapping[str, Any]) -> ModelFile:
        """The model's file, downloaded if needed and verified, pinned against eviction
        until the returned handle is released (`with client.ensure(m) as f: f.path`).

        Raises DownloadError (C010 after the retries, C011 on a checksum mismatch) and
        ValueError for a model without a usable download section or cachePath.
        """
        from repo_tools.client.download import DownloadRef, download_file

        ref = DownloadRef.of(model if isinstance(model, ModelEntry) else entry_of(model))
        budget = self.config.cache_budget_bytes
        with self.cache.file_lock(ref.cache_path):
            handle = self.cache.open_verified(ref.cache_path, ref.sha256)
            if handle is None:
                if budget is not None and ref.size is not None:
                    self.cache.evict(max(budget - ref.size, 0), protect={ref.cache_path})
                try:
                    try:
                        transport = self.transport()
                    except RemoteFailure as exc:
                        raise DownloadError(rules.DOWNLOAD_FAILED, exc.message) from None
                    download_file(ref, self.cache.file_path(ref.cache_path), self.config,
                                  transport)
                except DownloadError as exc:
                    log.error("%s %s: %s", exc.rule.code, ref.cache_path, exc.message)
                    raise
                handle = self.cache.record(ref.cache_path, ref.sha256)
        if budget is not None:
            self.cache.evict(budget, protect={ref.cache_path})
        return handle


@dataclasses.dataclass(slots=True)
class _Fallback:
    client: ConfigClient
    defaults: list[ModelEntry]
    skipped: list[Finding]
    lkg: LastKnownGood | None

    def use(self, reason: Finding) -> LoadResult:
        """The last known good config (re-selected for this client), else the defaults."""
        client = self.client
        reasons = [reason]
        if self.lkg is not None:
            resolution = client.select(self.lkg.remote)
            if resolution.config_version is not None:
                log.warning("%s %s; using the last known good config (%s, saved %s)",
                            reason.rule, reason.message, self.lkg.origin.describe(),
                            self.lkg.saved)
                models, conflicts = client._assemble(self.defaults, resolution.models)
                return LoadResult(models, resolution.config_version, SOURCE_LAST_KNOWN_GOOD,
                                  reasons, [*self.skipped, *conflicts], self.lkg.origin)
            why = (f"the last known good config ({self.lkg.origin.describe()}) admits no "
                   f"config version for client {client.client_version} either")
        else:
            why = "there is no last known good config yet"
        log.warning("%s %s; %s: using the defaults only", reason.rule, reason.message, why)
        reasons.append(finding(rules.NO_LAST_KNOWN_GOOD, str(client.last_known_good_path),
                               f"{why}; using the defaults only"))
        models, conflicts = client._assemble(self.defaults, [])
        return LoadResult(models, None, SOURCE_DEFAULTS, reasons, [*self.skipped, *conflicts],
                          None)


def load_release_config(location: str,
                        allowed_signers: str | Path | Sequence[sshsig.AllowedSigner], *,
                        now: dt.datetime | None = None,
                        config: ClientConfig | None = None) -> tuple[RemoteConfig, Origin]:
    """A published release (folder URL, manifest URL or directory), verified as a client
    verifies it but without rollback state, and parsed as a client parses it (invalid
    models skipped, see `RemoteConfig.skipped`). This is what `repo-tools resolve --bundle`
    shows. Raises RemoteFailure (C001 unreachable, C002 rejected) or InvalidRemote."""
    from repo_tools.client.sources import BundleSource

    context = FetchContext(_signers(allowed_signers), {}, now or _utc_now(),
                           config or ClientConfig())
    fetched = BundleSource(location).fetch(context)
    return parse_remote_files(fetched.files), fetched.origin
