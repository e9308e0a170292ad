"""What a client checks before it trusts a release: pure functions over bytes, no I/O.

The order follows TUF's client workflow: signature over the exact manifest bytes (before
any parsing), strict parse, repository, rollback, freeze, then each archive a client uses
and each of its members. `verify_manifest` and `verify_archive` split the work at the point
where a client learns which config version it needs and that archive's name and size, so it
fetches that archive alone and caps the download; `verify_release` runs both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from repo_tools.findings import Rule
from repo_tools.release import sshsig
from repo_tools.release.archive import collision_key, path_problem, read_members
from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import (
    INDEX_PATH,
    MANIFEST_NAME,
    Manifest,
    VersionArchive,
    canonical_json,
    format_time,
    member_path,
    parse_manifest,
    signature_name,
)
from repo_tools.rules import release as rules
from repo_tools.statefile import parse_state_json

if TYPE_CHECKING:
    from repo_tools.release.fetch import Source


@dataclasses.dataclass(frozen=True, slots=True)
class VerifyLimits:
    """Caps on what a client reads, in the spirit of python-tuf's UpdaterConfig."""

    max_manifest_bytes: int = 4 * 1024 * 1024
    max_signature_bytes: int = 16 * 1024
    max_archive_bytes: int = 256 * 1024 * 1024  # each config version's archive
    max_members: int = 100_000  # in each archive
    clock_skew: dt.timedelta = dt.timedelta(minutes=5)


DEFAULT_LIMITS = VerifyLimits()


@dataclasses.dataclass(frozen=True, slots=True)
class AcceptedRelease:
    """What a client remembers about the last release it accepted from one repository."""

    bundle_version: int
    manifest_sha256: str


@dataclasses.dataclass(frozen=True, slots=True)
class VerifiedManifest:
    manifest: Manifest
    manifest_sha256: str
    signer: str  # the allowed_signers principals whose key signed it


@dataclasses.dataclass(frozen=True, slots=True)
class VerifiedRelease:
    """A verified manifest and the files of the archives verified with it: index.json (the
    manifest's index in canonical form) and `versions/<v>/models/*.json` of each config
    version in `config_versions`, which is every one of them or those a client asked for."""

    manifest: Manifest
    manifest_sha256: str
    signer: str
    files: Mapping[str, bytes]  # path -> content
    config_versions: tuple[str, ...] = ()

    @property
    def accepted(self) -> AcceptedRelease:
        return AcceptedRelease(self.manifest.bundle_version, self.manifest_sha256)


def _cap(data: bytes, limit: int, what: str) -> None:
    if len(data) > limit:
        raise VerificationError(rules.OVERSIZE,
                                f"{what} is {len(data)} bytes, over the limit of {limit}", what)


def _aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def verify_manifest(manifest_bytes: bytes, signature_bytes: bytes,
                    allowed_signers: str | Sequence[sshsig.AllowedSigner], *,
                    now: dt.datetime, state: Mapping[str, AcceptedRelease] | None = None,
                    repository: str | None = None, limits: VerifyLimits = DEFAULT_LIMITS,
                    namespace: str = sshsig.NAMESPACE) -> VerifiedManifest:
    """Signature, strict parse, repository, rollback and freeze checks (R001-R013).

    `state` maps repository ids to what the client accepted before (see
    `repo_tools.release.state.load_state`;
    None or no entry: first use); `repository`, when given, is the id the client expects.
    allowed_signers may be the file's text (sshsig.AllowedSignersError, a ValueError, if it
    is malformed).
    """
    now = _aware(now)
    _cap(manifest_bytes, limits.max_manifest_bytes, MANIFEST_NAME)
    _cap(signature_bytes, limits.max_signature_bytes, MANIFEST_NAME + ".sig")
    signers = (sshsig.parse_allowed_signers(allowed_signers)
               if isinstance(allowed_signers, str) else allowed_signers)
    signer = sshsig.verify(manifest_bytes, signature_bytes, signers, namespace=namespace,
                           now=now)
    manifest = parse_manifest(manifest_bytes)
    if repository is not None and manifest.repository != repository:
        raise VerificationError(rules.WRONG_REPOSITORY,
                                f"the manifest is for {manifest.repository!r}, expected "
                                f"{repository!r}", MANIFEST_NAME)
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    check_rollback(manifest.bundle_version, digest, (state or {}).get(manifest.repository))
    check_freshness(manifest, now, limits.clock_skew)
    return VerifiedManifest(manifest, digest, signer.principals)


def check_rollback(version: int, manifest_sha256: str, accepted: AcceptedRelease | None) -> None:
    # Checked before expiry, as TUF does: an expired accepted release still blocks rollback.
    if accepted is None:
        return
    if version < accepted.bundle_version:
        raise VerificationError(rules.ROLLBACK,
                                f"bundle_version {version} is lower than the accepted "
                                f"{accepted.bundle_version}", MANIFEST_NAME)
    if version == accepted.bundle_version and manifest_sha256 != accepted.manifest_sha256:
        raise VerificationError(rules.EQUIVOCATION,
                                f"bundle_version {version} was accepted before with other "
                                "content", MANIFEST_NAME)


def check_freshness(manifest: Manifest, now: dt.datetime, skew: dt.timedelta) -> None:
    if now >= manifest.expires:
        raise VerificationError(rules.EXPIRED,
                                f"the release expired at {format_time(manifest.expires)}",
                                MANIFEST_NAME)
    if manifest.created > now + skew:
        raise VerificationError(rules.FUTURE_DATED,
                                f"the release is created at {format_time(manifest.created)}"
                                f", beyond the allowed clock skew of {skew}", MANIFEST_NAME)


def expiring(manifest: Manifest, now: dt.datetime,
             within: dt.timedelta) -> list[tuple[Rule, str]]:
    """R043 when a (still valid) manifest expires within `within` of `now`: clients will
    refuse it then (R012), so it is time to publish or re-sign."""
    left = manifest.expires - _aware(now)
    if left > within:
        return []
    days = left.total_seconds() / 86400
    return [(rules.EXPIRES_SOON,
             f"bundle_version {manifest.bundle_version} expires at "
             f"{format_time(manifest.expires)}, in {days:.1f} day(s), within the "
             f"{within.days} asked for: publish a new release or sign this one again "
             "(`repo-tools release --resign`)")]


def archive_limit(archive: VersionArchive, limits: VerifyLimits = DEFAULT_LIMITS) -> int:
    """How many bytes to read for archive at most: the size the signed manifest states,
    unless that is over the limit (R001, before a byte is fetched)."""
    if archive.size > limits.max_archive_bytes:
        raise VerificationError(rules.OVERSIZE,
                                f"the archive of {archive.config_version} is {archive.size} "
                                f"bytes, over the limit of {limits.max_archive_bytes}",
                                archive.name)
    return archive.size


def verify_archive(archive: VersionArchive, data: bytes, *,
                   limits: VerifyLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """One config version's archive against its manifest entry (R001, R014-R022): its size
    and SHA-256, then every member, which must be a model file of that config version, in
    sorted order, as many as the manifest says. Returns path -> content."""
    name = archive.name
    archive_limit(archive, limits)
    _cap(data, limits.max_archive_bytes, name)
    if len(data) != archive.size:
        raise VerificationError(rules.ARCHIVE_MISMATCH,
                                f"the archive is {len(data)} bytes, the manifest says "
                                f"{archive.size}", name)
    if hashlib.sha256(data).hexdigest() != archive.sha256:
        raise VerificationError(rules.ARCHIVE_MISMATCH,
                                "the archive's SHA-256 differs from the manifest", name)
    prefix = member_path(archive.config_version, "")
    contents: dict[str, bytes] = {}
    keys: dict[str, str] = {}
    last = b""
    for member in read_members(data, max_members=limits.max_members):
        problem = path_problem(member.name)
        if problem is not None:
            raise VerificationError(rules.UNSAFE_MEMBER_NAME,
                                    f"member {member.name!r}: {problem}", member.name)
        key = collision_key(member.name)
        if key in keys:
            clash = ("appears twice" if keys[key] == member.name else
                     f"collides with {keys[key]!r} (same name up to case or Unicode "
                     "normalisation)")
            raise VerificationError(rules.DUPLICATE_MEMBER,
                                    f"member {member.name!r} {clash}", member.name)
        keys[key] = member.name
        rest = member.name[len(prefix):]
        if not member.name.startswith(prefix) or "/" in rest or not rest.endswith(".json"):
            raise VerificationError(rules.UNLISTED_MEMBER,
                                    f"member {member.name!r} is not a model file of config "
                                    f"version {archive.config_version} ({prefix}*.json)",
                                    member.name)
        encoded = member.name.encode("utf-8")
        if encoded <= last:
            raise VerificationError(rules.MEMBER_MISMATCH,
                                    f"member {member.name!r} is out of order: an archive's "
                                    "members are sorted by name (UTF-8 bytes)", member.name)
        last = encoded
        contents[member.name] = member.data
    if len(contents) != archive.files:
        raise VerificationError(rules.MISSING_MEMBER,
                                f"the archive holds {len(contents)} file(s), the manifest "
                                f"says {archive.files}", name)
    return contents


def _chosen(manifest: Manifest, config_versions: Iterable[str] | None,
            ) -> tuple[VersionArchive, ...]:
    if config_versions is None:
        return manifest.versions
    chosen = []
    for config_version in config_versions:
        archive = manifest.archive_of(config_version)
        if archive is None:
            raise ValueError(f"the release has no config version {config_version!r}")
        chosen.append(archive)
    return tuple(chosen)


def verify_release(manifest_bytes: bytes, signature_bytes: bytes,
                   archives: Mapping[str, bytes],
                   allowed_signers: str | Sequence[sshsig.AllowedSigner], *,
                   now: dt.datetime, state: Mapping[str, AcceptedRelease] | None = None,
                   repository: str | None = None, limits: VerifyLimits = DEFAULT_LIMITS,
                   namespace: str = sshsig.NAMESPACE,
                   config_versions: Iterable[str] | None = None) -> VerifiedRelease:
    """All checks a client makes, in order; raises VerificationError with a rule code.

    archives: archive name (`<sha256>.tar`) -> bytes, holding at least those of
    `config_versions` (None: every config version in the manifest)."""
    checked = verify_manifest(manifest_bytes, signature_bytes, allowed_signers, now=now,
                              state=state, repository=repository, limits=limits,
                              namespace=namespace)
    files = {INDEX_PATH: checked.manifest.index_bytes()}
    chosen = _chosen(checked.manifest, config_versions)
    for archive in chosen:
        if archive.name not in archives:
            raise ValueError(f"no bytes given for {archive.name}")
        files.update(verify_archive(archive, archives[archive.name], limits=limits))
    return VerifiedRelease(checked.manifest, checked.manifest_sha256, checked.signer, files,
                           tuple(a.config_version for a in chosen))


def read_manifest(source: Source, manifest_name: str,
                  allowed_signers: str | Sequence[sshsig.AllowedSigner], *,
                  now: dt.datetime, state: Mapping[str, AcceptedRelease] | None = None,
                  repository: str | None = None,
                  limits: VerifyLimits = DEFAULT_LIMITS) -> VerifiedManifest:
    """A published manifest and its signature, read (capped) and verified."""
    manifest_bytes = source.read(manifest_name, limits.max_manifest_bytes)
    signature = source.read(signature_name(manifest_name), limits.max_signature_bytes)
    return verify_manifest(manifest_bytes, signature, allowed_signers, now=now, state=state,
                           repository=repository, limits=limits)


def read_archives(source: Source, manifest: Manifest,
                  config_versions: Iterable[str] | None = None, *,
                  limits: VerifyLimits = DEFAULT_LIMITS,
                  ) -> Iterator[tuple[VersionArchive, dict[str, bytes]]]:
    """Each chosen archive (None: all), fetched capped at its signed size and verified, one
    at a time, so a caller that handles each in turn holds one archive's files at once."""
    for archive in _chosen(manifest, config_versions):
        data = source.read(archive.name, archive_limit(archive, limits))
        yield archive, verify_archive(archive, data, limits=limits)


def verify_published(source: Source, manifest_name: str,
                     allowed_signers: str | Sequence[sshsig.AllowedSigner], *,
                     now: dt.datetime, state: Mapping[str, AcceptedRelease] | None = None,
                     repository: str | None = None,
                     limits: VerifyLimits = DEFAULT_LIMITS,
                     config_versions: Iterable[str] | None = None) -> VerifiedRelease:
    """`verify_release` on a published release folder: the manifest and signature are read
    and checked first, so each archive download is capped at the size the signed manifest
    states. Raises VerificationError, or FetchError when a file cannot be read at all."""
    checked = read_manifest(source, manifest_name, allowed_signers, now=now, state=state,
                            repository=repository, limits=limits)
    files = {INDEX_PATH: checked.manifest.index_bytes()}
    chosen: list[str] = []
    for archive, contents in read_archives(source, checked.manifest, config_versions,
                                           limits=limits):
        files.update(contents)
        chosen.append(archive.config_version)
    return VerifiedRelease(checked.manifest, checked.manifest_sha256, checked.signer, files,
                           tuple(chosen))


# --- client state --------------------------------------------------------------------------

STATE_SCHEMA = "repo-tools-client-state/1"


def bad_state(why: str, path: str) -> VerificationError:
    return VerificationError(rules.BAD_STATE, why, path)


def parse_state(data: bytes, path: str = "state") -> dict[str, AcceptedRelease]:
    """repository id -> accepted release; raises VerificationError (R023) when malformed."""
    try:
        raw: Any = parse_state_json(data)
    except ValueError as exc:
        raise bad_state(f"the state file {exc}", path) from None
    if not isinstance(raw, dict) or raw.get("schema") != STATE_SCHEMA or not isinstance(
            raw.get("repositories"), dict):
        raise bad_state(f"the state file is not a {STATE_SCHEMA} document", path)
    state: dict[str, AcceptedRelease] = {}
    for repo_id, entry in raw["repositories"].items():
        if not (isinstance(entry, dict) and type(entry.get("bundle_version")) is int
                and isinstance(entry.get("manifest_sha256"), str)):
            raise bad_state(f"the state entry for {repo_id!r} is malformed", path)
        state[repo_id] = AcceptedRelease(entry["bundle_version"], entry["manifest_sha256"])
    return state


def state_bytes(state: Mapping[str, AcceptedRelease]) -> bytes:
    return canonical_json({
        "schema": STATE_SCHEMA,
        "repositories": {k: dataclasses.asdict(v) for k, v in sorted(state.items())},
    })
