"""What a client checks before it trusts a release: pure functions over bytes, no I/O.

The order follows TUF's client workflow: signature over the exact manifest bytes (before
any parsing), strict parse, repository, rollback, freeze, then the bundle and each of its
members. `verify_manifest` and `verify_bundle` split the work at the point where a client
learns the bundle's name and size, so it can cap that download; `verify_release` runs both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from repo_tools.findings import Rule
from repo_tools.release import sshsig
from repo_tools.release.bundle import collision_key, path_problem, read_members
from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import (
    MANIFEST_NAME,
    Manifest,
    canonical_json,
    format_time,
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
    max_bundle_bytes: int = 256 * 1024 * 1024
    max_members: int = 100_000
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
    manifest: Manifest
    manifest_sha256: str
    signer: str
    files: Mapping[str, bytes]  # path -> content, exactly the manifest's list

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
    if manifest.bundle.size > limits.max_bundle_bytes:
        raise VerificationError(rules.OVERSIZE,
                                f"the bundle is {manifest.bundle.size} bytes, over the limit "
                                f"of {limits.max_bundle_bytes}", manifest.bundle.name)
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


def verify_bundle(manifest: Manifest, bundle_bytes: bytes, *,
                  limits: VerifyLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Bundle size and hash, then every member against the manifest (R001, R014-R022)."""
    name = manifest.bundle.name
    _cap(bundle_bytes, limits.max_bundle_bytes, name)
    if len(bundle_bytes) != manifest.bundle.size:
        raise VerificationError(rules.BUNDLE_MISMATCH,
                                f"the bundle is {len(bundle_bytes)} bytes, the manifest says "
                                f"{manifest.bundle.size}", name)
    if hashlib.sha256(bundle_bytes).hexdigest() != manifest.bundle.sha256:
        raise VerificationError(rules.BUNDLE_MISMATCH,
                                "the bundle's SHA-256 differs from the manifest", name)
    listed = {f.path: f for f in manifest.files}
    contents: dict[str, bytes] = {}
    keys: dict[str, str] = {}
    for member in read_members(bundle_bytes, max_members=limits.max_members):
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
        entry = listed.get(member.name)
        if entry is None:
            raise VerificationError(rules.UNLISTED_MEMBER,
                                    f"member {member.name!r} is not in the manifest",
                                    member.name)
        if len(member.data) != entry.size:
            raise VerificationError(rules.MEMBER_MISMATCH,
                                    f"member {member.name!r} is {len(member.data)} bytes, the "
                                    f"manifest says {entry.size}", member.name)
        if hashlib.sha256(member.data).hexdigest() != entry.sha256:
            raise VerificationError(rules.MEMBER_MISMATCH,
                                    f"member {member.name!r} has another SHA-256 than the "
                                    "manifest's", member.name)
        contents[member.name] = member.data
    missing = [path for path in listed if path not in contents]
    if missing:
        raise VerificationError(rules.MISSING_MEMBER,
                                f"{len(missing)} listed file(s) missing from the bundle, "
                                f"first {missing[0]!r}", missing[0])
    return contents


def verify_release(manifest_bytes: bytes, signature_bytes: bytes, bundle_bytes: bytes,
                   allowed_signers: str | Sequence[sshsig.AllowedSigner], *,
                   now: dt.datetime, state: Mapping[str, AcceptedRelease] | None = None,
                   repository: str | None = None, limits: VerifyLimits = DEFAULT_LIMITS,
                   namespace: str = sshsig.NAMESPACE) -> VerifiedRelease:
    """All checks a client makes, in order; raises VerificationError with a rule code."""
    checked = verify_manifest(manifest_bytes, signature_bytes, allowed_signers, now=now,
                              state=state, repository=repository, limits=limits,
                              namespace=namespace)
    files = verify_bundle(checked.manifest, bundle_bytes, limits=limits)
    return VerifiedRelease(checked.manifest, checked.manifest_sha256, checked.signer, files)


def verify_published(source: Source, manifest_name: str,
                     allowed_signers: str | Sequence[sshsig.AllowedSigner], *,
                     now: dt.datetime, state: Mapping[str, AcceptedRelease] | None = None,
                     repository: str | None = None,
                     limits: VerifyLimits = DEFAULT_LIMITS) -> VerifiedRelease:
    """`verify_release` on a published release folder: the manifest and signature are read
    and checked first, so the bundle download is capped at the size the signed manifest
    states. Raises VerificationError, or FetchError when a file cannot be read at all."""
    manifest_bytes = source.read(manifest_name, limits.max_manifest_bytes)
    signature = source.read(signature_name(manifest_name), limits.max_signature_bytes)
    checked = verify_manifest(manifest_bytes, signature, allowed_signers, now=now, state=state,
                              repository=repository, limits=limits)
    bundle = source.read(checked.manifest.bundle.name, checked.manifest.bundle.size)
    files = verify_bundle(checked.manifest, bundle, limits=limits)
    return VerifiedRelease(checked.manifest, checked.manifest_sha256, checked.signer, files)


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
