"""`release`: turn a checked config repo into a signed, versioned, reproducible release.

Published layout (in --out), every file written atomically, the top manifest last:

    bundle-<N>.tar          index.json and versions/*/models/*.json, deterministic USTAR
    <N>.manifest.json       manifest N, never overwritten (a consistent snapshot)
    <N>.manifest.json.sig   its SSHSIG signature
    manifest.json           the latest manifest (a copy of <N>.manifest.json)
    manifest.json.sig       its signature
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from repo_tools import repo as repo_layout
from repo_tools.atomic import write_atomic
from repo_tools.checks.publishable import PUBLISHED, unpublishable
from repo_tools.release import git, sshsig
from repo_tools.release.bundle import BundleFile, build_bundle, bundle_name, collect_files
from repo_tools.release.diff import ReleaseDiff, diff_releases
from repo_tools.release.errors import ReleaseRefused, VerificationError
from repo_tools.release.fetch import DirectorySource, Source, locate
from repo_tools.release.manifest import (
    MANIFEST_NAME,
    BundleRef,
    Manifest,
    file_entries,
    format_time,
    parse_manifest,
    repository_problem,
    signature_name,
    snapshot_name,
)
from repo_tools.release.verify import (
    DEFAULT_LIMITS,
    VerifyLimits,
    verify_bundle,
    verify_manifest,
    verify_release,
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


@dataclasses.dataclass(frozen=True, slots=True)
class PreviousRelease:
    manifest: Manifest
    files: Mapping[str, bytes]
    where: str


@dataclasses.dataclass(frozen=True, slots=True)
class PreparedRelease:
    manifest: Manifest
    manifest_bytes: bytes
    bundle_bytes: bytes
    previous: PreviousRelease | None
    diff: ReleaseDiff | None
    shrinks: tuple[Shrink, ...] = ()  # allowed by --allow-shrink; clients will refuse
    resigned: bool = False  # the previous release's files, signed again


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
    """The previous release and its files, checked against its own manifest.

    Its signature is not checked here: it is the maintainers' own earlier output, and the
    signing key may have been rotated since. FetchError when it cannot be read at all.
    """
    located = _locate_previous(request)
    if located is None:
        return None
    source, name = located
    where = f"{source.describe()}/{name}"
    try:
        manifest = parse_manifest(source.read(name, limits.max_manifest_bytes))
        bundle = source.read(manifest.bundle.name, limits.max_bundle_bytes)
        files = verify_bundle(manifest, bundle, limits=limits)
    except VerificationError as exc:
        raise ReleaseRefused(rules.BAD_PREVIOUS_RELEASE,
                             f"{where}: {exc.code} {exc.message}", where) from None
    return PreviousRelease(manifest, files, where)


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
    for taken in (bundle_name(version), snapshot_name(version)):
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
    files = collect_files(request.repo, use_git=commit is not None)
    previous = load_previous(request, limits)
    manifest, bundle = _signed_content(request, previous, files, created, expires, commit)
    diff = None
    if previous is not None:
        diff = diff_releases(previous.files, {f.path: f.data for f in files})
        if diff.removals_in_use and not request.allow_removals:
            removals = [r.describe() for r in diff.removals_in_use]
            raise ReleaseRefused(rules.REMOVES_MODELS_IN_USE,
                                 f"{len(removals)} model(s) would be taken from clients in "
                                 "range; pass --allow-removals if that is intended",
                                 "index.json", details=tuple(removals))
    shrinking = _shrinks(previous, files)
    if shrinking and not request.allow_shrink:
        raise ReleaseRefused(
            rules.SHRINKS_CLIENTS,
            f"clients with the default shrink guard would refuse this release (C005) and "
            f"stay on bundle_version {previous.manifest.bundle_version if previous else 0}: "
            f"it drops more than {_guard_share()} of their models for "
            f"{len(shrinking)} client range(s); pass --allow-shrink if that is intended",
            "index.json", details=tuple(s.describe() for s in shrinking))
    return PreparedRelease(manifest, manifest.to_bytes(), bundle, previous, diff,
                           tuple(shrinking))


def _guard_share() -> str:
    from repo_tools.outlook import DEFAULT_MAX_DROP_FRACTION

    return f"{DEFAULT_MAX_DROP_FRACTION:.0%}"


def _shrinks(previous: PreviousRelease | None, files: Sequence[BundleFile]) -> list[Shrink]:
    """Where clients whose last known good config is the previous release refuse this one."""
    if previous is None:
        return []
    from repo_tools import outlook, snapshot

    now = {f.path: f.data for f in files}
    changed = {path.split("/")[1] for path in previous.files.keys() ^ now.keys()
               if path.startswith(VERSIONS_PREFIX)}
    changed |= {path.split("/")[1] for path in previous.files.keys() & now.keys()
                if path.startswith(VERSIONS_PREFIX) and previous.files[path] != now[path]}
    return outlook.shrinks(snapshot.from_files(previous.files), snapshot.from_files(now),
                           same_entries=lambda config_version: config_version not in changed)


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
    """The previous release's files, bundled and signed again with a new bundle_version,
    created and expires: nothing is read from the work tree."""
    previous = load_previous(request, limits)
    if previous is None:
        raise ReleaseRefused(rules.NOTHING_TO_RESIGN,
                             f"no previous release in {request.out} (or --previous) to sign "
                             "again", str(request.out))
    created, expires = _validity(request, now, environ, limits)
    files = [BundleFile(path, data) for path, data in sorted(
        previous.files.items(), key=lambda item: item[0].encode("utf-8"))]
    manifest, bundle = _signed_content(request, previous, files, created, expires,
                                       previous.manifest.commit)
    return PreparedRelease(manifest, manifest.to_bytes(), bundle, previous, None,
                           resigned=True)


def _signed_content(request: ReleaseRequest, previous: PreviousRelease | None,
                    files: list[BundleFile], created: dt.datetime, expires: dt.datetime,
                    commit: str | None) -> tuple[Manifest, bytes]:
    """The next release's manifest and bundle of `files` (a release and a re-signing
    differ only in where the files and the commit come from)."""
    version = _version(request, previous)
    bundle = build_bundle(files, int(created.timestamp()))
    manifest = Manifest(
        repository=_repository_id(request, previous),
        bundle_version=version,
        created=created,
        expires=expires,
        commit=commit,
        bundle=BundleRef(bundle_name(version), len(bundle), hashlib.sha256(bundle).hexdigest()),
        files=file_entries(files),
    )
    return manifest, bundle


def check_previous_signature(request: ReleaseRequest, signers: Sequence[sshsig.AllowedSigner],
                             limits: VerifyLimits = DEFAULT_LIMITS) -> None:
    """For --resign: the previous release must carry a signature the repository's
    allowed_signers accepts (its expiry aside: re-signing an expired release is the
    point), or its files are nobody's to sign again (R042)."""
    located = _locate_previous(request)
    if located is None:
        return  # prepare_release says so
    source, name = located
    try:
        manifest_bytes = source.read(name, limits.max_manifest_bytes)
        signature = source.read(signature_name(name), limits.max_signature_bytes)
        created = parse_manifest(manifest_bytes).created
        verify_manifest(manifest_bytes, signature, signers, now=created, limits=limits)
    except VerificationError as exc:
        raise ReleaseRefused(rules.NOTHING_TO_RESIGN,
                             f"the previous release's signature is not accepted by the "
                             f"repository's allowed_signers: {exc.code} {exc.message}",
                             f"{source.describe()}/{name}") from None


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
    """Verify what is about to be published as a client would, trusting the signing key."""
    public_blob = sshsig.parse_signature(signature).public_key
    signer = sshsig.AllowedSigner("release", sshsig.KEY_TYPE, public_blob)
    verify_release(prepared.manifest_bytes, signature, prepared.bundle_bytes, [signer],
                   now=max(now, prepared.manifest.created))


def write_release(prepared: PreparedRelease, signature: bytes, out: Path) -> list[Path]:
    """Write the release files; the bundle and snapshot first, the top manifest last."""
    out.mkdir(parents=True, exist_ok=True)
    version = prepared.manifest.bundle_version
    writes = [
        (bundle_name(version), prepared.bundle_bytes),
        (snapshot_name(version), prepared.manifest_bytes),
        (signature_name(snapshot_name(version)), signature),
        (signature_name(MANIFEST_NAME), signature),
        (MANIFEST_NAME, prepared.manifest_bytes),
    ]
    written = []
    for name, data in writes:
        write_atomic(out / name, data, mode=0o644)
        written.append(out / name)
    return written
