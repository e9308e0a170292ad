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

A signed release is read by what this client uses: its manifest (with the index), then
only the archive of the config version selected for this client, which is kept by its
SHA-256 (in the last known good config as validated models, and as a file in the archive
cache), so a release that leaves that config version unchanged costs no archive at all.

The last known good config keeps the signed manifest it came from, with the server's
ETag and Last-Modified. A later load sends them (If-None-Match / If-Modified-Since); on
304, or the same manifest bytes, it fetches nothing else and checks the stored manifest
again (`RemoteCheck`). Within `ClientConfig.refresh_interval` of the last confirmation it
makes no request at all.

Any failure on the way (unreachable, unverifiable, stale, no compatible config version,
a remote that would drop most models) falls back to the last known good config, with a
warning on the `repo_tools.client` logger that starts with the reason's code (C001-C007).
With several sources (a primary and its mirrors), each is tried in turn within the one
load deadline until one can be fetched, verified and parsed. Offline, no source is tried.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repo_tools import compat
from repo_tools.client.cache import STATE_DIR, ModelCache, ModelFile
from repo_tools.client.catalog import (
    InvalidRemote,
    RemoteConfig,
    load_defaults,
    parse_model_files,
    parse_remote_files,
)
from repo_tools.client.errors import DownloadError, NotDownloadable
from repo_tools.client.events import (
    CacheHit,
    DownloadFailed,
    EventHandler,
    Evicted,
    LoadFinished,
    LoadStarted,
    emitter,
)
from repo_tools.client.lkg import (
    ARCHIVE_DIR,
    CONFIRMATION_FILE,
    FILE_NAME,
    Confirmation,
    LastKnownGood,
    current_release,
    read_confirmation,
    read_lkg,
    write_confirmation,
    write_lkg,
)
from repo_tools.client.merge import drop_conflicts, merge_models, shrink
from repo_tools.client.options import ClientConfig, VerifyOnUse, default_cache_dir
from repo_tools.client.progress import CancelFlag, ProgressCallback
from repo_tools.client.result import LoadResult, Source
from repo_tools.client.sources import (
    Chooser,
    FetchContext,
    FetchedRemote,
    ManifestCopy,
    Origin,
    RemoteCheck,
    RemoteFailure,
    RemoteSource,
    check_stored,
    client_transport,
    load_deadline,
)
from repo_tools.findings import Finding, finding
from repo_tools.model import ModelEntry, entries_from
from repo_tools.release import sshsig
from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import format_time, parse_manifest
from repo_tools.release.state import load_state, record_accepted
from repo_tools.release.verify import verify_archive
from repo_tools.rules import client as rules

if TYPE_CHECKING:
    from repo_tools.net.deadline import Deadline
    from repo_tools.net.transport import Transport

log = logging.getLogger("repo_tools.client")

# The names before `Source`; equal to its members.
SOURCE_REMOTE = Source.REMOTE
SOURCE_LAST_KNOWN_GOOD = Source.LAST_KNOWN_GOOD
SOURCE_DEFAULTS = Source.DEFAULTS
STATE_FILE = "release-state.json"
# How many archives the archive cache keeps (see `ConfigClient._prune_archives`).
ARCHIVES_KEPT = 4


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
    Thread-safe: loads and downloads from several threads (or processes) share one cache.

    source / sources: where the remote configuration comes from; `sources=[primary,
        mirror, ...]` are tried in order within the load deadline (give one or the other).
    allowed_signers: the trusted release keys, as an allowed_signers file (`Path`), its
        text (`str`) or parsed entries. An unsigned git source needs none.
    defaults_dir: the application's `configs/defaults/models/` (None: no defaults).
    cache_dir: model files go to `cache_dir/<cachePath>`; the client's own state (last
        known good config, accepted release versions, cache index, locks) to
        `cache_dir/.repo-tools/`. None: `REPO_TOOLS_CACHE_DIR` when set, else the user
        cache directory for app_name (`default_cache_dir`).
    app_name: names the default cache directory; give the application's own name, so
        that two applications never share a last known good config.
    on_event: receives typed events (`repo_tools.client.events`) for telemetry.
    clock: the current time, for release expiry (injectable for tests).
    """

    def __init__(self, client_version: str, platform: str | None = None, *,
                 source: RemoteSource | None = None,
                 sources: Sequence[RemoteSource] = (),
                 allowed_signers: str | Path | Sequence[sshsig.AllowedSigner] = (),
                 defaults_dir: Path | None = None, cache_dir: Path | None = None,
                 app_name: str = "repo-tools",
                 config: ClientConfig | None = None,
                 on_event: EventHandler | None = None,
                 clock: Callable[[], dt.datetime] = _utc_now) -> None:
        if (source is None) == (not sources):
            raise ValueError("give either source or sources (a primary and its mirrors)")
        self.client_version = compat.normalise(client_version)
        self.platform = platform
        self.sources: tuple[RemoteSource, ...] = (source,) if source is not None else tuple(
            sources)
        self.source = self.sources[0]
        self.allowed_signers = _signers(allowed_signers)
        self.defaults_dir = defaults_dir
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir(
            app_name)
        self.config = config or ClientConfig()
        self.clock = clock
        self._emit = emitter(on_event)
        self.cache = ModelCache(self.cache_dir, self.config.cache_budget_bytes,
                                on_evict=lambda path, size: self._emit(Evicted(path, size)))
        self._transport: Transport | None = None
        self._transport_lock = threading.Lock()

    def transport(self) -> Transport:
        """The client's one transport (pooled connections), made on first use; raises
        RemoteFailure when the environment's credentials cannot be read."""
        with self._transport_lock:
            if self._transport is None:
                self._transport = client_transport(self.config)
            return self._transport

    @property
    def state_dir(self) -> Path:
        return self.cache_dir / STATE_DIR

    @property
    def last_known_good_path(self) -> Path:
        return self.state_dir / FILE_NAME

    @property
    def archive_cache(self) -> Path:
        """Where verified release archives are kept, as `<sha256>.tar`."""
        return self.state_dir / ARCHIVE_DIR

    def choose(self, index: Mapping[str, Any]) -> str | None:
        """This client's config version from an index (see `choose_config_version`)."""
        return choose_config_version(index, self.client_version)

    # -- loading -------------------------------------------------------------------------

    def load(self) -> LoadResult:
        """Defaults, then the verified remote merged over them, else the last known good
        config. Never raises for a bad or missing remote: the result says what was used
        and why."""
        started = time.monotonic()
        offline = self.config.offline
        self._emit(LoadStarted(() if offline else tuple(s.describe() for s in self.sources),
                               offline))
        result = self._load()
        self._emit(LoadFinished(result.source, result.config_version, len(result.models),
                                tuple(result.reasons), time.monotonic() - started,
                                result.check))
        return result

    def _load(self) -> LoadResult:
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
        if self.config.offline:
            return fallback.use([finding(rules.OFFLINE, self.source.describe(),
                                         "offline (ClientConfig.offline): the remote was not "
                                         "fetched")])
        held = None if lkg is None else current_release(
            lkg, read_confirmation(self.confirmation_path))
        previous = None if held is None else held[0]
        if lkg is not None and held is not None:
            not_due = self._not_due(lkg, *held, now)
            if not_due is not None:
                resolution, refusal = self._judge(*not_due, lkg.remote, lkg)
                if refusal is not None:
                    return fallback.use([refusal])
                return self._apply(*not_due, lkg.remote, resolution, lkg, defaults, skipped,
                                   [], now, previous)
        failures: list[Finding] = []
        deadline = load_deadline(self.config)
        for source in self.sources:
            fetched, remote, failure = self._fetch(source, now, deadline, lkg, previous)
            if failure is None:
                assert fetched is not None and remote is not None
                # A release that gives this client nothing, or looks like a mistake (the
                # shrink guard), sends it on to the next source, as a failed fetch does.
                resolution, failure = self._judge(source, fetched, remote, lkg)
                if failure is None:
                    return self._apply(source, fetched, remote, resolution, lkg, defaults,
                                       skipped, failures, now, previous)
            failures.append(failure)
            if len(self.sources) > 1:
                log.info("%s %s: %s", failure.rule, failure.path, failure.message)
        return fallback.use(failures)

    def _judge(self, source: RemoteSource, fetched: FetchedRemote, remote: RemoteConfig,
               lkg: LastKnownGood | None) -> tuple[compat.Resolution, Finding | None]:
        """This client's selection from the verified remote, and why it must not take it
        (None: it may): no config version admits it (C004), or it would drop too many of
        its models (the shrink guard, C005)."""
        resolution = self.select(remote)
        if resolution.config_version is None:
            return resolution, finding(
                rules.NO_COMPATIBLE_CONFIG, source.describe(),
                f"no config version in the index of {fetched.origin.describe()} admits "
                f"client {self.client_version}")
        return resolution, self._suspect(source, resolution, lkg, fetched.origin)

    @property
    def confirmation_path(self) -> Path:
        return self.state_dir / CONFIRMATION_FILE

    def _not_due(self, lkg: LastKnownGood, release: ManifestCopy,
                 confirmed: dt.datetime | None, now: dt.datetime
                 ) -> tuple[RemoteSource, FetchedRemote] | None:
        """The stored release as this load's remote when it was confirmed less than
        refresh_interval ago, came from one of this client's sources, and still passes
        every check; else None (ask the server)."""
        interval = self.config.refresh_interval
        if not interval or confirmed is None:
            return None
        # A clock set back makes the age negative: that is no proof of freshness.
        if not dt.timedelta(0) <= now - confirmed < dt.timedelta(seconds=interval):
            return None
        source = next((s for s in self.sources if s.describe() == lkg.origin.location), None)
        if source is None:
            return None
        chosen = self.choose(lkg.remote.index)
        if chosen is not None and chosen not in lkg.remote.versions:
            return None  # an application update selects a config version not held: ask
        try:
            state = load_state(self.state_dir / STATE_FILE)
            fetched = check_stored(release, lkg.origin, FetchContext(
                self.allowed_signers, state, now, self.config))
        except (RemoteFailure, VerificationError) as exc:
            log.info("the stored release is not used without asking: %s", exc)
            return None
        return source, fetched

    def _fetch(self, source: RemoteSource, now: dt.datetime, deadline: Deadline,
               lkg: LastKnownGood | None, previous: ManifestCopy | None
               ) -> tuple[FetchedRemote | None, RemoteConfig | None, Finding | None]:
        """One source, fetched, verified and parsed; or why not. An unchanged release
        (304, or the same manifest) is the last known good config's remote."""
        where = source.describe()
        try:
            state = load_state(self.state_dir / STATE_FILE)
            held = {} if lkg is None else lkg.remote.archives
            fetched = source.fetch(FetchContext(
                self.allowed_signers, state, now, self.config, self.transport(), deadline,
                previous, self.choose, held, self.archive_cache))
            return fetched, _remote_of(fetched, lkg), None
        except RemoteFailure as failure:
            return None, None, finding(failure.rule, where, failure.message)
        except VerificationError as exc:  # the stored rollback state is damaged (R023)
            return None, None, finding(rules.REMOTE_REJECTED, where,
                                       f"{exc.code} {exc.rule.name}: {exc.message}")
        except InvalidRemote as exc:
            return None, None, finding(rules.INVALID_REMOTE, where, str(exc))
        except OSError as exc:  # e.g. no space for git's temporary checkout
            return None, None, finding(rules.REMOTE_UNREACHABLE, where,
                                       f"{type(exc).__name__}: {exc.strerror or exc}")

    def _apply(self, source: RemoteSource, fetched: FetchedRemote, remote: RemoteConfig,
               resolution: compat.Resolution, lkg: LastKnownGood | None,
               defaults: list[ModelEntry], skipped: list[Finding], failures: list[Finding],
               now: dt.datetime, previous: ManifestCopy | None = None) -> LoadResult:
        """The accepted remote (`_judge` found nothing against it), merged and stored."""
        assert resolution.config_version is not None
        origin = fetched.origin
        remote_skipped = remote.skipped.get(resolution.config_version, [])
        for problem in remote_skipped:
            log.warning("%s %s: %s", problem.rule, problem.path, problem.message)
        models, conflicts = self._assemble(defaults, resolution.models)
        result = LoadResult(models, resolution.config_version, Source.REMOTE, failures,
                            [*skipped, *remote_skipped, *conflicts], origin, fetched.check)
        stored = self._stored_result(result)
        if fetched.check is RemoteCheck.NOT_DUE:
            pass  # nothing was confirmed: the stored files stay as they are
        elif (fetched.check is not RemoteCheck.DOWNLOADED and lkg is not None
              and fetched.release is not None and previous is not None
              and fetched.release.locator == previous.locator
              and fetched.release.signature == previous.signature and lkg.result == stored):
            self._confirm(fetched.release, origin, now)
        else:
            self._store(remote, resolution.config_version, origin, stored, now,
                        fetched.release)
        log.info("loaded config %s for client %s: %d models from %s (%s)",
                 resolution.config_version, self.client_version, len(models),
                 origin.describe(), fetched.check)
        return result

    def select(self, remote: RemoteConfig) -> compat.Resolution:
        """This client's config version and remote models (the selection module's rule)."""
        return compat.resolve(compat.entries_from_index(remote.index), remote.models_of,
                              self.client_version, self.platform)

    def _assemble(self, defaults: Sequence[ModelEntry],
                  remote_models: Sequence[ModelEntry]) -> tuple[list[ModelEntry],
                                                                list[Finding]]:
        # One selection after the merge: filtering the defaults first changes nothing, as
        # merging drops replaced entries either way and the sorts are stable.
        merged = compat.select_models(merge_models(defaults, remote_models),
                                      self.client_version, self.platform)
        models, conflicts = drop_conflicts(merged)
        for problem in conflicts:
            log.warning("%s %s", problem.rule, problem.message)
        return list(models), conflicts

    def _suspect(self, source: RemoteSource, resolution: compat.Resolution,
                 lkg: LastKnownGood | None, origin: Origin) -> Finding | None:
        if lkg is None:
            return None
        before = self.select(lkg.remote).models
        dropped = shrink(before, resolution.models, self.config.max_drop_fraction)
        if dropped is None:
            return None
        gone, total = dropped
        share = gone / total
        return finding(rules.SUSPECT_REMOTE, source.describe(),
                       f"{origin.describe()} would drop {gone} of the {total} models the "
                       f"last known good config gives this client ({share:.0%}, more than "
                       f"the allowed {self.config.max_drop_fraction:.0%}); not applied")

    def _stored_result(self, result: LoadResult) -> dict[str, Any]:
        """The LKG's `result` member for a load's result: which models, by (provider,
        model, version); the entries themselves are in its `versions` and the defaults,
        and a second copy would double the file."""
        return {"client_version": self.client_version, "platform": self.platform,
                "config_version": result.config_version,
                "models": [list(m.identity) for m in result.models]}

    def _store(self, remote: RemoteConfig, config_version: str, origin: Origin,
               stored: dict[str, Any], now: dt.datetime,
               release: ManifestCopy | None = None) -> None:
        """Keep the index and this client's config version (its models and archive hash)
        only, then drop cached archives the stored config no longer names."""
        archives = {config_version: remote.archives[config_version]} if (
            config_version in remote.archives) else {}
        kept = RemoteConfig(remote.index, {config_version: remote.versions.get(
            config_version, [])}, archives=archives)
        lkg = LastKnownGood(kept, origin, format_time(now), stored, release)
        try:
            write_lkg(self.last_known_good_path, lkg)
            self._remember_accepted(origin)
        except (OSError, VerificationError) as exc:
            log.warning("could not store the last known good config in %s: %s",
                        self.state_dir, exc)
            return
        self._prune_archives(set(archives.values()))

    def _prune_archives(self, keep: set[str]) -> None:
        """Bound the archive cache: the archives the last known good config uses, and the
        ARCHIVES_KEPT - 1 others used last (mtime: set on every use), so that switching
        between a few config versions (an application update and back, two apps of one
        cache) costs no download; older ones would only grow the cache."""
        try:
            others = [(path.stat().st_mtime_ns, path) for path in
                      self.archive_cache.glob("*.tar") if path.stem not in keep]
        except OSError:
            return
        others.sort(reverse=True)
        for _, path in others[ARCHIVES_KEPT - 1:]:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.info("could not remove %s from the archive cache: %s", path, exc)

    def _held_remote(self, lkg: LastKnownGood, config_version: str) -> RemoteConfig | None:
        """The last known good config's remote with config_version's models: as stored,
        or read from the archive cache (verified against the stored manifest) when this
        client selects a config version the stored config does not hold (after an
        application update); None when neither has it."""
        if config_version in lkg.remote.versions:
            return lkg.remote
        if lkg.release is None:
            return None
        try:
            # The stored manifest was verified when it was stored; the archive is checked
            # against its entry (size, SHA-256, members) as a downloaded one is.
            archive = parse_manifest(lkg.release.manifest).archive_of(config_version)
            if archive is None:
                return None
            data = (self.archive_cache / f"{archive.sha256}.tar").read_bytes()
            files = verify_archive(archive, data, limits=self.config.verify_limits)
        except (OSError, VerificationError):
            return None
        versions, skipped = parse_model_files(files)
        return dataclasses.replace(
            lkg.remote, versions={**lkg.remote.versions, **versions},
            skipped={**lkg.remote.skipped, **skipped},
            archives={**lkg.remote.archives, config_version: archive.sha256})

    def _confirm(self, release: ManifestCopy, origin: Origin, now: dt.datetime) -> None:
        """Record that the stored release was found unchanged now (a small file, not the
        whole last known good config again)."""
        try:
            write_confirmation(self.confirmation_path, Confirmation(
                release.locator, release.sha256, format_time(now), release.validators))
            self._remember_accepted(origin)
        except (OSError, VerificationError) as exc:
            log.warning("could not record the check of the last known good config in %s: %s",
                        self.state_dir, exc)

    def _remember_accepted(self, origin: Origin) -> None:
        """Record the release for rollback protection, unless it is recorded already (an
        unchanged release: no write, no lock)."""
        accepted = origin.accepted
        if accepted is None or origin.repository is None:
            return
        path = self.state_dir / STATE_FILE
        if load_state(path).get(origin.repository) != accepted:
            record_accepted(path, origin.repository, accepted)

    # -- model files ---------------------------------------------------------------------

    def ensure(self, model: ModelEntry, *, progress: ProgressCallback | None = None,
               cancel: CancelFlag | None = None,
               verify_on_use: VerifyOnUse | None = None) -> ModelFile:
        """The model's file, downloaded if needed and verified, pinned against eviction
        until the returned handle is released (`with client.ensure(m) as f: f.path`).

        progress: called with (done_bytes, total_bytes or None) as bytes arrive
            (throttled, never backwards, last with done == total); not called for a file
            already cached.
        cancel: anything with `is_set()` (a `threading.Event`); when set, the download
            stops, its partial file is kept, and Cancelled (C014) is raised; the next
            `ensure` resumes it.
        verify_on_use: "changed" or "always" for this call (None: the config's).

        Raises DownloadError (C010 after the retries, C011 on a checksum mismatch, C016
        offline and not cached), Cancelled (C014), NotDownloadable (C015: the entry has no
        usable download section or cachePath; also a ValueError).
        """
        from repo_tools.client.download import DownloadRef, Watch, download_file

        if not isinstance(model, ModelEntry):
            raise TypeError("ensure() takes a ModelEntry (an item of LoadResult.models); "
                            "repo_tools.model.entry_of(d) makes one of a dict")
        ref = DownloadRef.of(model)
        try:
            self.cache.file_path(ref.cache_path)
        except ValueError as exc:
            raise NotDownloadable(rules.NOT_DOWNLOADABLE, f"{model.describe()}: {exc}",
                                  model.path) from None
        rehash = (verify_on_use or self.config.verify_on_use) == "always"
        budget = self.config.cache_budget_bytes
        with self.cache.file_lock(ref.cache_path):
            handle = self.cache.open_verified(ref.cache_path, ref.sha256, rehash=rehash)
            if handle is not None:
                self._emit(CacheHit(ref.cache_path, handle.size, handle.rehashed))
            else:
                if self.config.offline:
                    error = DownloadError(rules.OFFLINE, f"{ref.cache_path} is not in the "
                                          "cache and the client is offline "
                                          "(ClientConfig.offline)")
                    self._emit(DownloadFailed(ref.cache_path, error.code, error.message, 0))
                    raise error
                if budget is not None and ref.size is not None:
                    self.cache.evict(max(budget - ref.size, 0), protect={ref.cache_path})
                watch = Watch(ref.cache_path, progress, cancel, self._emit)
                try:
                    try:
                        transport = self.transport()
                    except RemoteFailure as exc:
                        raise DownloadError(rules.DOWNLOAD_FAILED, exc.message) from None
                    download_file(ref, self.cache.file_path(ref.cache_path), self.config,
                                  transport, watch=watch)
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

    def use(self, reasons: list[Finding]) -> LoadResult:
        """The last known good config (re-selected for this client), else the defaults;
        reasons: why the remote was not applied (the last one is logged as the cause)."""
        client = self.client
        reason = reasons[-1]
        reasons = list(reasons)
        if self.lkg is not None:
            chosen = client.choose(self.lkg.remote.index)
            held = None if chosen is None else client._held_remote(self.lkg, chosen)
            if held is not None:
                resolution = client.select(held)
                log.warning("%s %s; using the last known good config (%s, saved %s)",
                            reason.rule, reason.message, self.lkg.origin.describe(),
                            self.lkg.saved)
                models, conflicts = client._assemble(self.defaults, resolution.models)
                return LoadResult(models, resolution.config_version, Source.LAST_KNOWN_GOOD,
                                  reasons, [*self.skipped, *conflicts], self.lkg.origin)
            shown = self.lkg.origin.describe()
            why = (f"the last known good config ({shown}) admits no config version for "
                   f"client {client.client_version} either" if chosen is None else
                   f"the last known good config ({shown}) does not hold config version "
                   f"{chosen}, which client {client.client_version} selects")
        else:
            why = "there is no last known good config yet"
        log.warning("%s %s; %s: using the defaults only", reason.rule, reason.message, why)
        reasons.append(finding(rules.NO_LAST_KNOWN_GOOD, str(client.last_known_good_path),
                               f"{why}; using the defaults only"))
        models, conflicts = client._assemble(self.defaults, [])
        return LoadResult(models, None, Source.DEFAULTS, reasons,
                          [*self.skipped, *conflicts], None)


def choose_config_version(index: Mapping[str, Any], client_version: str) -> str | None:
    """The config version an index selects for client_version, the selection module's rule
    (None: none admits it, or the index has no `versions` object, which
    parse_remote_files reports as C003): what decides which archive a client reads."""
    if not isinstance(index.get("versions"), dict):
        return None
    return compat.select_config_version(compat.entries_from_index(index), client_version)


def _remote_of(fetched: FetchedRemote, lkg: LastKnownGood | None) -> RemoteConfig:
    """The fetched remote as the client uses it: the files it read, parsed, and the models
    of the archives it held already (`fetched.held`) from the last known good config."""
    parsed = parse_remote_files(fetched.files)
    versions = dict(parsed.versions)
    for config_version in fetched.held:
        assert lkg is not None  # only what the last known good config holds is `held`
        versions[config_version] = lkg.remote.versions[config_version]
    return RemoteConfig(parsed.index, versions, parsed.skipped, dict(fetched.archives))


def load_release_config(location: str,
                        allowed_signers: str | Path | Sequence[sshsig.AllowedSigner], *,
                        now: dt.datetime | None = None,
                        config: ClientConfig | None = None,
                        client_version: str | None = None) -> tuple[RemoteConfig, Origin]:
    """A published release (folder URL, manifest URL or directory), verified as a client
    verifies it but without rollback state, and parsed as a client parses it (invalid
    models skipped, see `RemoteConfig.skipped`). This is what `repo-tools resolve --bundle`
    shows. Every config version's archive is read and verified, unless client_version is
    given: then only the one its selection picks, as that client would (`export-defaults`).
    Raises RemoteFailure (C001 unreachable, C002 rejected) or InvalidRemote."""
    from repo_tools.client.sources import BundleSource

    choose: Chooser | None = None
    if client_version is not None:
        choose = functools.partial(choose_config_version,
                                   client_version=compat.normalise(client_version))
    context = FetchContext(_signers(allowed_signers), {}, now or _utc_now(),
                           config or ClientConfig(), choose=choose)
    fetched = BundleSource(location).fetch(context)
    return parse_remote_files(fetched.files), fetched.origin
