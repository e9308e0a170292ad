"""`release`: turn a checked config repo into a signed, versioned, reproducible release.

Published layout (in --out), every file written atomically, the top manifest last:

    <sha256>.tar            one archive per config version, named by its content (never
                            rewritten: an unchanged config version keeps its file)
    <N>.manifest.json       manifest N, never overwritten (a consistent snapshot)
    <N>.manifest.json.sig   its SSHSIG signature
    manifest.json           the latest manifest (a copy of <N>.manifest.json)
    manifest.json.sig       its signature

A release is built a config version at a time: each version's files are read, archived,
hashed and written to a staging folder, and only the versions that differ from the
previous release are kept in memory for the diff, so memory does not grow with the
repository. The staging folder's archives move into --out when the release is
written; a refused release leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from repo_tools import repo as repo_layout
from repo_tools.atomic import write_atomic
from repo_tools.checks.publishable import PUBLISHED, unpublishable
from repo_tools.jsonfile import parse_strict
from repo_tools.release import git, sshsig
from repo_tools.release.archive import Collection, ReleaseFile, build_archive, collect
from repo_tools.release.diff import ReleaseDiff, diff_releases
from repo_tools.release.errors import ReleaseRefused, VerificationError
from repo_tools.release.fetch import DirectorySource, Source, locate
from repo_tools.release.manifest import (
    INDEX_PATH,
    MANIFEST_NAME,
    MAX_INT,
    Manifest,
    VersionArchive,
    canonical_json,
    format_time,
    parse_manifest,
    repository_problem,
    signature_name,
    snapshot_name,
)
from repo_tools.release.verify import (
    DEFAULT_LIMITS,
    VerifyLimits,
    archive_limit,
    read_archives,
    verify_archive,
    verify_manifest,
)
from repo_tools.rules import release as rules

if TYPE_CHECKING:
    from repo_tools.outlook import Shrink

DEFAULT_EXPIRES_DAYS = 30
VERSIONS_PREFIX = repo_layout.VERSIONS_DIR + "/"


class ReleaseUsageError(Exception):
    """A wrong option or environment value (exit 2), not a refusal."""


@dataclasses.dataclass(frozen=True, slots=True)
class ReleaseRequest:
    repo: Path
    out: Path
    repository: str | None = None
    expires_days: int = DEFAULT_EXPIRES_DAYS
    bundle_version: int | None = None
    previous: str | None = None  # URL, folder or manifest file; default: --out
    allow_removals: bool = False
    created: str = "auto"  # auto | now | seconds since the epoch
    allow_shrink: bool = False
    resign: bool = False  # publish the previous release's files again, freshly signed
    # --resign: the keys whose signature the previous release must carry (None: unchecked)
    resign_signers: tuple[sshsig.AllowedSigner, ...] | None = None
    dry_run: bool = False  # build and check, write nothing (not even to a staging folder)


@dataclasses.dataclass(frozen=True, slots=True)
class PreviousRelease:
    """The previous release's manifest, and where its archives are read from (lazily:
    a release reads only the archives of the config versions it changes)."""

    manifest: Manifest
    source: Source
    where: str
    limits: VerifyLimits = DEFAULT_LIMITS
    manifest_bytes: bytes = b""  # as read: a signature is checked on these very bytes
    name: str = MANIFEST_NAME

    def files_of(self, config_versions: Iterable[str]) -> dict[str, bytes]:
        """index.json and the files of these config versions (those it has), each archive
        checked against the manifest; ReleaseRefused (R034) when one does not verify."""
        wanted = [v for v in config_versions if self.manifest.archive_of(v) is not None]
        files = {INDEX_PATH: self.manifest.index_bytes()}
        try:
            for _, contents in read_archives(self.source, self.manifest, wanted,
                                             limits=self.limits):
                files.update(contents)
        except VerificationError as exc:
            raise ReleaseRefused(rules.BAD_PREVIOUS_RELEASE,
                                 f"{self.where}: {exc.code} {exc.message}",
                                 self.where) from None
        return files

    def all_files(self) -> dict[str, bytes]:
        return self.files_of(v.config_version for v in self.manifest.versions)


@dataclasses.dataclass(frozen=True, slots=True)
class PreparedRelease:
    """A release ready to sign: its manifest, and the folder (`staging`) holding the
    archives `--out` lacks; None for a dry run, which writes nothing. `discard()` removes
    it when the release is not written."""

    manifest: Manifest
    manifest_bytes: bytes
    staging: Path | None
    out: Path
    previous: PreviousRelease | None
    diff: ReleaseDiff | None
    shrinks: tuple[Shrink, ...] = ()  # allowed by --allow-shrink; clients will refuse
    resigned: bool = False  # the previous release's files, signed again
    new_archives: int = 0  # archives --out does not have yet

    def archive_path(self, archive: VersionArchive) -> Path:
        staged = self.staging / archive.name if self.staging is not None else None
        return staged if staged is not None and staged.exists() else self.out / archive.name

    def discard(self) -> None:
        _remove(self.staging)


ALLOWED_SIGNERS_FILE = "allowed_signers"
"""Where the template keeps the keys its clients trust, at the repository's root."""


def created_time(request: ReleaseRequest, now: dt.datetime,
                 environ: Mapping[str, str]) -> dt.datetime:
    """auto: SOURCE_DATE_EPOCH, else the commit time, else now; so rebuilds are identical."""
    choice = request.created
    if choice == "auto":
        epoch_text = environ.get("SOURCE_DATE_EPOCH")
        if epoch_text is not None:
            choice = epoch_text
        elif request.resign:
            choice = "now"  # the point of signing again: a fresh created and expires
        else:
            commit_epoch = git.commit_time(request.repo)
            choice = str(commit_epoch) if commit_epoch is not None else "now"
    if choice == "now":
        return now.replace(microsecond=0)
    if not choice.isdigit() or int(choice) >= 8**11:  # USTAR's mtime field ends in 2242
        raise ReleaseUsageError(f"created time {choice!r} is not 'auto', 'now' or seconds "
                                "since the epoch (check SOURCE_DATE_EPOCH)")
    return dt.datetime.fromtimestamp(int(choice), dt.UTC)


def _locate_previous(request: ReleaseRequest) -> tuple[Source, str] | None:
    if request.previous is None:
        if not (request.out / MANIFEST_NAME).exists():
            return None
        return DirectorySource(request.out), MANIFEST_NAME
    return locate(request.previous)


def load_previous(request: ReleaseRequest, limits: VerifyLimits) -> PreviousRelease | None:
    """The previous release's manifest; its archives are read when needed and checked
    against it then.

    Its signature is not checked here: it is the maintainers' own earlier output, and the
    signing key may have been rotated since. FetchError when it cannot be read at all.
    """
    located = _locate_previous(request)
    if located is None:
        return None
    source, name = located
    where = f"{source.describe()}/{name}"
    try:
        data = source.read(name, limits.max_manifest_bytes)
        manifest = parse_manifest(data)
    except VerificationError as exc:
        raise ReleaseRefused(rules.BAD_PREVIOUS_RELEASE,
                             f"{where}: {exc.code} {exc.message}", where) from None
    return PreviousRelease(manifest, source, where, limits, data, name)


def _repository_id(request: ReleaseRequest, previous: PreviousRelease | None) -> str:
    repository = _chosen_repository_id(request, previous)
    problem = repository_problem(repository)
    if problem is not None:
        raise ReleaseUsageError(f"{problem} (got {repository!r}); pass --repository")
    return repository


def _chosen_repository_id(request: ReleaseRequest, previous: PreviousRelease | None) -> str:
    if request.repository is not None:
        if previous is not None and previous.manifest.repository != request.repository:
            raise ReleaseRefused(rules.BAD_PREVIOUS_RELEASE,
                                 f"the previous release is for repository "
                                 f"{previous.manifest.repository!r}, not "
                                 f"{request.repository!r}; clients would reject the switch",
                                 previous.where)
        return request.repository
    if previous is not None:
        return previous.manifest.repository
    return git.remote_id(request.repo) or request.repo.resolve().name or "config-repo"


def _version(request: ReleaseRequest, previous: PreviousRelease | None) -> int:
    last = previous.manifest.bundle_version if previous is not None else 0
    version = request.bundle_version if request.bundle_version is not None else last + 1
    if version <= last:
        raise ReleaseRefused(rules.VERSION_NOT_MONOTONIC,
                             f"bundle_version {version} is not above the published {last}",
                             previous.where if previous else "")
    if version > MAX_INT:  # what RFC 8785 (I-JSON) carries exactly
        raise ReleaseRefused(rules.VERSION_NOT_MONOTONIC,
                             f"bundle_version {version} is above the largest a manifest "
                             f"holds ({MAX_INT})", previous.where if previous else "")
    taken = snapshot_name(version)
    if (request.out / taken).exists():
        raise ReleaseRefused(rules.VERSION_NOT_MONOTONIC,
                             f"{taken} already exists in {request.out}: version {version} "
                             "was published before", taken)
    return version


def prepare_release(request: ReleaseRequest, *, now: dt.datetime,
                    environ: Mapping[str, str] | None = None,
                    limits: VerifyLimits = DEFAULT_LIMITS) -> PreparedRelease:
    """Everything but signing and writing; raises ReleaseRefused or ReleaseUsageError.

    The repo's checks (`lint_repo`) are the caller's job: they render as findings.
    """
    env = os.environ if environ is None else environ
    if request.resign:
        return _prepare_resign(request, now=now, environ=env, limits=limits)
    commit = git.head_commit(request.repo)
    if commit is not None:
        dirty = git.dirty_paths(request.repo)
        if dirty:
            raise ReleaseRefused(rules.DIRTY_WORKTREE,
                                 f"{len(dirty)} uncommitted path(s), first {dirty[0]!r}"
                                 f"{_stray_hint(request.repo, dirty)}", dirty[0])
    created, expires = _validity(request, now, env, limits)
    collection = collect(request.repo, use_git=commit is not None)
    previous = load_previous(request, limits)
    version = _version(request, previous)
    repository = _repository_id(request, previous)
    index = _index_value(collection.index)
    staging = _staging(request)
    try:
        return _prepare_built(request, collection, previous, index, staging,
                              Manifest(repository, version, created, expires, commit, index,
                                       ()))
    except BaseException:
        _remove(staging)
        raise


def _remove(staging: Path | None) -> None:
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)


def _prepare_built(request: ReleaseRequest, collection: Collection,
                   previous: PreviousRelease | None, index: dict[str, object],
                   staging: Path | None, draft: Manifest) -> PreparedRelease:
    # Which config versions the diff needs: a config version whose archive is the same
    # and that the same clients select as before gives every client exactly what it got,
    # so only the others are read and compared (with the same index: the changed ones).
    moved = _moved_versions(previous.manifest.index, index) if previous else set()
    archives: list[VersionArchive] = []
    current: dict[str, bytes] = {INDEX_PATH: draft.index_bytes()}
    new_archives = 0
    for config_version in collection.versions:
        files = collection.read_version(config_version)
        if not files:
            continue  # every file of it tracked but deleted: the dirty check says so
        data = build_archive(files)
        archive = VersionArchive(config_version, len(data), hashlib.sha256(data).hexdigest(),
                                 len(files))
        archives.append(archive)
        if not _published(request.out, archive):
            new_archives += 1
            if staging is not None:
                write_atomic(staging / archive.name, data, mode=0o644)
        before = previous.manifest.archive_of(config_version) if previous else None
        if previous is not None and (before != archive or config_version in moved):
            current.update((f.path, f.data) for f in files)
    manifest = dataclasses.replace(draft, versions=tuple(archives))
    _refuse_versions_without_archive(index, archives)
    diff = None
    shrinking: list[Shrink] = []
    if previous is not None:
        now_versions = {a.config_version: a for a in archives}
        compared = {v for v in {a.config_version for a in previous.manifest.versions}
                    | now_versions.keys()
                    if previous.manifest.archive_of(v) != now_versions.get(v) or v in moved}
        before_files = previous.files_of(compared)
        diff = diff_releases(before_files, current)
        if diff.removals_in_use and not request.allow_removals:
            removals = [r.describe() for r in diff.removals_in_use]
            raise ReleaseRefused(rules.REMOVES_MODELS_IN_USE,
                                 f"{len(removals)} model(s) would be taken from clients in "
                                 "range; pass --allow-removals if that is intended",
                                 "index.json", details=tuple(removals))
        shrinking = _shrinks(before_files, current, compared)
        if shrinking and not request.allow_shrink:
            raise ReleaseRefused(
                rules.SHRINKS_CLIENTS,
                f"clients with the default shrink guard would refuse this release (C005) and "
                f"stay on bundle_version {previous.manifest.bundle_version}: it drops more "
                f"than {_guard_share()} of their models for {len(shrinking)} client "
                "range(s); pass --allow-shrink if that is intended",
                "index.json", details=tuple(s.describe() for s in shrinking))
    return PreparedRelease(manifest, manifest.to_bytes(), staging, request.out, previous,
                           diff, tuple(shrinking), new_archives=new_archives)


def _published(out: Path, archive: VersionArchive) -> bool:
    """Whether --out holds this archive already (it is then kept as it is: archives are
    never rewritten). A file of its name that is not it (another size or hash) is a damaged
    --out: R034, rather than a release that keeps it and fails its own verification."""
    path = out / archive.name
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise ReleaseRefused(rules.BAD_PREVIOUS_RELEASE, f"cannot read: {exc.strerror}",
                             str(path)) from None
    if digest != archive.sha256:
        raise ReleaseRefused(rules.BAD_PREVIOUS_RELEASE,
                             f"{archive.name} in {out} is not the archive its name says "
                             "(its SHA-256 differs): --out is damaged; move the file away "
                             "and release again (it is written anew)", str(path))
    return True


def _moved_versions(before: Mapping[str, object], after: Mapping[str, object]) -> set[str]:
    """The config versions that another set of clients selects under `after` than under
    `before` (the selection code clients use)."""
    if before == after:
        return set()
    from repo_tools import compat

    old = compat.selected_ranges(compat.selection_table(before))
    new = compat.selected_ranges(compat.selection_table(after))
    return {v for v in old.keys() | new.keys() if old.get(v) != new.get(v)}


def _refuse_versions_without_archive(index: Mapping[str, object],
                                     archives: Sequence[VersionArchive]) -> None:
    """I002 even when the settings turn it off for lint: verifiers refuse a manifest whose
    index offers a config version without an archive (R007)."""
    from repo_tools.rules import index as index_rules

    listed = index.get("versions")
    if not isinstance(listed, dict):
        return
    missing = sorted(listed.keys() - {a.config_version for a in archives})
    if missing:
        raise ReleaseRefused(index_rules.MISSING_VERSION_DIR,
                             f"index.json lists {missing[0]!r}, which has no model file to "
                             "publish" + (f" ({len(missing) - 1} more)" if len(missing) > 1
                                          else ""), INDEX_PATH)


def _index_value(index: ReleaseFile) -> dict[str, object]:
    """index.json's value, as the manifest carries it (lint reports a bad index first)."""
    try:
        value = parse_strict(index.data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ReleaseRefused(rules.UNBUNDLABLE_FILE, f"index.json is not strict JSON: {exc}",
                             INDEX_PATH) from None
    if not isinstance(value, dict):
        raise ReleaseRefused(rules.UNBUNDLABLE_FILE, "index.json is not a JSON object",
                             INDEX_PATH)
    try:
        canonical = canonical_json(value)
        # A float such as 1e16 serialises as an integer beyond I-JSON's 2**53, which no
        # verifier reads back: what is signed must parse to the same canonical bytes.
        canonical_json(parse_strict(canonical.decode("utf-8")))
    except ValueError as exc:
        raise ReleaseRefused(rules.UNBUNDLABLE_FILE, f"index.json holds a value a signed "
                             f"manifest cannot carry exactly: {exc}", INDEX_PATH) from None
    return value


def _staging(request: ReleaseRequest) -> Path | None:
    """A new folder for this release's archives until it is written: inside --out when it
    exists (so they move in with a rename), else beside it; None for a dry run."""
    if request.dry_run:
        return None
    out = request.out
    parent = out if out.is_dir() else out.parent if out.parent.is_dir() else None
    path = Path(tempfile.mkdtemp(prefix=".release-", dir=parent))
    return path


def _guard_share() -> str:
    from repo_tools.outlook import DEFAULT_MAX_DROP_FRACTION

    return f"{DEFAULT_MAX_DROP_FRACTION:.0%}"


def _shrinks(before: Mapping[str, bytes], now: Mapping[str, bytes],
             compared: set[str]) -> list[Shrink]:
    """Where clients whose last known good config is the previous release refuse this one
    (before and now hold the compared config versions; the others are the same in both)."""
    from repo_tools import outlook, snapshot

    changed = {path.split("/")[1] for path in before.keys() ^ now.keys()
               if path.startswith(VERSIONS_PREFIX)}
    changed |= {path.split("/")[1] for path in before.keys() & now.keys()
                if path.startswith(VERSIONS_PREFIX) and before[path] != now[path]}
    return outlook.shrinks(snapshot.from_files(before), snapshot.from_files(now),
                           same_entries=lambda config_version: (config_version not in changed
                                                                and config_version
                                                                not in compared))


def _validity(request: ReleaseRequest, now: dt.datetime, env: Mapping[str, str],
              limits: VerifyLimits) -> tuple[dt.datetime, dt.datetime]:
    created = created_time(request, now, env)
    expires = created + dt.timedelta(days=request.expires_days)
    if created > now + limits.clock_skew:
        raise ReleaseUsageError(f"the created time {format_time(created)} is in the "
                                "future; clients would reject the release")
    if expires <= now:
        raise ReleaseUsageError(
            f"the release would expire at {format_time(expires)}, which has passed "
            "(the created time comes from the commit or SOURCE_DATE_EPOCH); use "
            "--created now or a larger --expires-days")
    return created, expires


def _prepare_resign(request: ReleaseRequest, *, now: dt.datetime, environ: Mapping[str, str],
                    limits: VerifyLimits) -> PreparedRelease:
    """The previous release's index and archives under a new bundle_version, created and
    expires: nothing is read from the work tree, and no archive changes."""
    previous = load_previous(request, limits)
    if previous is None:
        raise ReleaseRefused(rules.NOTHING_TO_RESIGN,
                             f"no previous release in {request.out} (or --previous) to sign "
                             "again", str(request.out))
    if request.resign_signers is not None:
        check_previous_signature(previous, request.resign_signers)
    created, expires = _validity(request, now, environ, limits)
    old = previous.manifest
    manifest = Manifest(_repository_id(request, previous), _version(request, previous),
                        created, expires, old.commit, old.index, old.versions)
    staging = _staging(request)
    new_archives = 0
    try:
        missing = [a for a in old.versions if not _published(request.out, a)]
        new_archives = len(missing)
        for archive in missing:
            # The previous archive's own bytes, verified: rebuilding it from its members
            # would give other bytes (and not its name) if another writer made it.
            data = previous.source.read(archive.name, archive_limit(archive, limits))
            verify_archive(archive, data, limits=limits)
            if staging is not None:
                write_atomic(staging / archive.name, data, mode=0o644)
    except VerificationError as exc:
        _remove(staging)
        raise ReleaseRefused(rules.BAD_PREVIOUS_RELEASE,
                             f"{previous.where}: {exc.code} {exc.message}",
                             previous.where) from None
    except BaseException:
        _remove(staging)
        raise
    return PreparedRelease(manifest, manifest.to_bytes(), staging, request.out, previous,
                           None, resigned=True, new_archives=new_archives)


def check_previous_signature(previous: PreviousRelease,
                             signers: Sequence[sshsig.AllowedSigner]) -> None:
    """For --resign: the previous release must carry a signature the repository's
    allowed_signers accepts (its expiry aside: re-signing an expired release is the
    point), or its files are nobody's to sign again (R042). Checked on the manifest bytes
    the re-signing uses, so a server cannot show one manifest here and another there."""
    limits = previous.limits
    try:
        signature = previous.source.read(signature_name(previous.name),
                                         limits.max_signature_bytes)
        verify_manifest(previous.manifest_bytes, signature, signers,
                        now=previous.manifest.created, limits=limits)
    except VerificationError as exc:
        raise ReleaseRefused(rules.NOTHING_TO_RESIGN,
                             f"the previous release's signature is not accepted by the "
                             f"repository's allowed_signers: {exc.code} {exc.message}",
                             previous.where) from None


def check_signer(prepared: PreparedRelease, signature: bytes,
                 signers: Sequence[sshsig.AllowedSigner], shown: str, now: dt.datetime) -> None:
    """The release must verify against the repository's own allowed_signers (`shown`),
    which is what its clients trust; else every client rejects it (R005), so refuse."""
    try:
        sshsig.verify(prepared.manifest_bytes, signature, signers,
                      now=max(now, prepared.manifest.created))
    except VerificationError as exc:
        if exc.rule not in (rules.UNTRUSTED_KEY, rules.WRONG_NAMESPACE):
            raise
        raise ReleaseRefused(
            rules.SIGNER_NOT_ALLOWED,
            f"{shown} does not accept this signature ({exc.code}: {exc.message}): clients "
            f"that trust {shown} would reject the release; sign with a key listed there, or "
            "add this key's line (`repo-tools keygen` writes it) and ship it to clients "
            "first", shown) from None


def _stray_hint(repo: Path, dirty: Sequence[str]) -> str:
    """Committing a stray file under versions/ would only trade R035 for R036: say so."""
    stray = [p for p in dirty if p.startswith(VERSIONS_PREFIX) and unpublishable(p)
             and os.path.lexists(repo / p)]
    if not stray:
        return ""
    return (f"; {stray[0]!r} would not be published once committed either (only "
            f"{PUBLISHED} are): move it out of versions/ or delete it")


def self_check(prepared: PreparedRelease, signature: bytes, now: dt.datetime) -> None:
    """Verify what is about to be published as a client would, trusting the signing key:
    the manifest, then every archive, one at a time."""
    public_blob = sshsig.parse_signature(signature).public_key
    signer = sshsig.AllowedSigner("release", sshsig.KEY_TYPE, public_blob)
    checked = verify_manifest(prepared.manifest_bytes, signature, [signer],
                              now=max(now, prepared.manifest.created))
    for archive in checked.manifest.versions:
        verify_archive(archive, prepared.archive_path(archive).read_bytes())


def write_release(prepared: PreparedRelease, signature: bytes, out: Path) -> list[Path]:
    """Write the release: new archives first, then the snapshot manifest, the top manifest
    last; an archive already in --out is the same bytes (its name is its hash) and is
    left as it is."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for archive in prepared.manifest.versions:
        target = out / archive.name
        staged = prepared.staging / archive.name if prepared.staging is not None else None
        if target.is_file() and target.stat().st_size == archive.size:
            continue
        if staged is None or not staged.exists():
            raise FileNotFoundError(f"the archive {archive.name} was not built")
        _move(staged, target)
        written.append(target)
    version = prepared.manifest.bundle_version
    writes = [
        (snapshot_name(version), prepared.manifest_bytes),
        (signature_name(snapshot_name(version)), signature),
        (signature_name(MANIFEST_NAME), signature),
        (MANIFEST_NAME, prepared.manifest_bytes),
    ]
    for name, data in writes:
        write_atomic(out / name, data, mode=0o644)
        written.append(out / name)
    prepared.discard()
    return written


def _move(source: Path, target: Path) -> None:
    """Rename into place; across file systems, copy beside the target and rename."""
    try:
        os.replace(source, target)
    except OSError:
        write_atomic(target, source.read_bytes(), mode=0o644)
