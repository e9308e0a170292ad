"""The attack suite: every way a mirror or a man in the middle can lie, each rejected with
its own rule code by `verify_release` (the function the client library calls)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import struct
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.release import signing, sshsig
from repo_tools.release.bundle import BundleFile, build_bundle
from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import FileEntry, canonical_json
from repo_tools.release.verify import (
    DEFAULT_LIMITS,
    AcceptedRelease,
    VerifyLimits,
    verify_release,
)
from tests.support.release_helpers import (
    CREATED,
    EXPIRES,
    NOW,
    REPO_ID,
    SSH_KEYGEN,
    Kit,
    Release,
    allowed_line,
    default_files,
    new_kit,
    reg,
    special,
    tar_bytes,
    write_ssh_key,
)

INDEX_DATA = default_files()[0].data
MODEL_PATH = "versions/v1.0.0/models/huggingface.json"
MODEL_DATA = default_files()[1].data


@dataclasses.dataclass
class Case:
    release: Release
    allowed: str
    state: dict[str, AcceptedRelease] | None = None
    now: dt.datetime = NOW
    limits: VerifyLimits = DEFAULT_LIMITS
    repository: str | None = None


def run(case: Case) -> None:
    r = case.release
    verify_release(r.manifest_bytes, r.signature, r.bundle, case.allowed, now=case.now,
                   state=case.state, limits=case.limits, repository=case.repository)


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def reblob(signature: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """Re-armor a signature after changing its binary blob."""
    return sshsig.armor(change(sshsig.dearmor(signature)))


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def blob_with(signature: bytes, *, version: int = 1, hash_alg: bytes | None = None) -> bytes:
    parsed = sshsig.parse_signature(signature)
    return (b"SSHSIG" + struct.pack(">I", version) + ssh_string(parsed.public_key)
            + ssh_string(parsed.namespace.encode()) + ssh_string(parsed.reserved)
            + ssh_string(hash_alg or parsed.hash_alg.encode())
            + ssh_string(ssh_string(b"ssh-ed25519") + ssh_string(parsed.signature)))


def with_members(kit: Kit, members: list[tuple[tarfile.TarInfo, bytes | None]],
                 listed: list[tuple[str, bytes]] | None = None,
                 fmt: int = tarfile.USTAR_FORMAT) -> Release:
    """A correctly signed release whose bundle holds exactly `members`."""
    bundle = tar_bytes(members, fmt)
    if listed is None:
        listed = [(i.name, d) for i, d in members if d is not None and i.isfile()]
    entries = sorted((FileEntry(p, len(d), hashlib.sha256(d).hexdigest()) for p, d in listed),
                     key=lambda e: e.path.encode())
    return kit.release(bundle=bundle, listed=entries)


def honest_members() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    return [reg("index.json", INDEX_DATA), reg(MODEL_PATH, MODEL_DATA)]


def resigned_json(kit: Kit, transform: Callable[[dict[str, object]], bytes]) -> Release:
    honest = kit.release()
    doc = json.loads(honest.manifest_bytes)
    data = transform(doc)
    return Release(data, kit.sign(data), honest.bundle, honest.manifest)


# --- the cases -----------------------------------------------------------------------------

def signature_cases(kit: Kit) -> dict[str, tuple[Case, str]]:
    honest = kit.release()
    other_key = Ed25519PrivateKey.generate()
    other_release = kit.release(version=2)
    cases: dict[str, tuple[Case, str]] = {
        "flipped byte in manifest": (Case(dataclasses.replace(
            honest, manifest_bytes=flip(honest.manifest_bytes, 40)), kit.allowed), "R006"),
        "re-ordered manifest keys": (Case(dataclasses.replace(
            honest, manifest_bytes=(json.dumps(dict(reversed(json.loads(
                honest.manifest_bytes).items())), separators=(",", ":")) + "\n").encode()),
            kit.allowed), "R006"),
        "re-spaced manifest": (Case(dataclasses.replace(
            honest, manifest_bytes=(json.dumps(json.loads(honest.manifest_bytes), indent=1,
                                               sort_keys=True) + "\n").encode()),
            kit.allowed), "R006"),
        "key not in allowed signers": (Case(dataclasses.replace(
            honest, signature=signing.sign(honest.manifest_bytes, other_key)), kit.allowed),
            "R005"),
        "listed key restricted to the git namespace": (Case(
            honest, allowed_line(kit.key, options='namespaces="git"')), "R005"),
        "listed key past valid-before": (Case(
            honest, allowed_line(kit.key, options='valid-before="20200101Z"')), "R005"),
        "only a cert-authority line for the key": (Case(
            honest, allowed_line(kit.key, options="cert-authority")), "R005"),
        "wrong namespace (file)": (Case(dataclasses.replace(
            honest, signature=kit.sign(honest.manifest_bytes, "file")), kit.allowed), "R004"),
        "signature from another release": (Case(dataclasses.replace(
            honest, signature=other_release.signature), kit.allowed), "R006"),
        "truncated signature": (Case(dataclasses.replace(
            honest, signature=honest.signature[:len(honest.signature) // 2]), kit.allowed),
            "R002"),
        "trailing garbage after the signature": (Case(dataclasses.replace(
            honest, signature=honest.signature + b"garbage\n"), kit.allowed), "R002"),
        "trailing bytes inside the signature blob": (Case(dataclasses.replace(
            honest, signature=reblob(honest.signature, lambda b: b + b"\0")), kit.allowed),
            "R002"),
        "truncated signature blob": (Case(dataclasses.replace(
            honest, signature=reblob(honest.signature, lambda b: b[:-10])), kit.allowed),
            "R002"),
        "SSHSIG version 2": (Case(dataclasses.replace(
            honest, signature=sshsig.armor(blob_with(honest.signature, version=2))),
            kit.allowed), "R002"),
        "unsupported hash algorithm": (Case(dataclasses.replace(
            honest, signature=sshsig.armor(blob_with(honest.signature, hash_alg=b"md5"))),
            kit.allowed), "R003"),
        "empty signature file": (Case(dataclasses.replace(honest, signature=b""), kit.allowed),
                                 "R002"),
        "oversize signature": (Case(dataclasses.replace(
            honest, signature=honest.signature + b" " * 20000), kit.allowed), "R001"),
        "oversize manifest": (Case(honest, kit.allowed, limits=dataclasses.replace(
            DEFAULT_LIMITS, max_manifest_bytes=100)), "R001"),
    }
    return cases


def manifest_cases(kit: Kit) -> dict[str, tuple[Case, str]]:
    honest = kit.release()
    digest = hashlib.sha256(honest.manifest_bytes).hexdigest()
    v2 = kit.release(version=2)

    def dup_key(doc: dict[str, object]) -> bytes:
        text = canonical_json(doc).decode()
        return text.replace('"bundle_version":1', '"bundle_version":1,"bundle_version":9',
                            1).encode()

    return {
        "duplicate key in a signed manifest": (Case(resigned_json(kit, dup_key), kit.allowed),
                                               "R007"),
        "NaN in a signed manifest": (Case(resigned_json(kit, lambda d: canonical_json(
            d).replace(b'"bundle_version":1', b'"bundle_version":NaN')), kit.allowed), "R007"),
        "true as bundle_version": (Case(resigned_json(kit, lambda d: canonical_json(
            {**d, "bundle_version": True})), kit.allowed), "R007"),
        "unknown manifest field": (Case(resigned_json(kit, lambda d: canonical_json(
            {**d, "mirror": "x"})), kit.allowed), "R007"),
        "manifest not UTF-8": (Case(resigned_json(kit, lambda d: canonical_json(d).replace(
            b'"repository":"', b'"repository":"\xff')), kit.allowed), "R007"),
        "signed but not canonical": (Case(resigned_json(kit, lambda d: (json.dumps(
            d, sort_keys=True, indent=2) + "\n").encode()), kit.allowed), "R008"),
        "manifest for another repository": (Case(honest, kit.allowed, repository="other/repo"),
                                            "R009"),
        "rollback to a lower version": (Case(honest, kit.allowed, state={
            REPO_ID: AcceptedRelease(5, "0" * 64)}), "R010"),
        "same version, different content": (Case(honest, kit.allowed, state={
            REPO_ID: AcceptedRelease(1, "f" * 64)}), "R011"),
        "rollback is checked before expiry": (Case(honest, kit.allowed, now=EXPIRES,
                                                   state={REPO_ID: AcceptedRelease(2, digest)}),
                                              "R010"),
        "expired": (Case(honest, kit.allowed, now=EXPIRES), "R012"),
        "future-dated": (Case(honest, kit.allowed, now=CREATED - dt.timedelta(hours=1)),
                         "R013"),
        "oversize bundle by the limit": (Case(v2, kit.allowed, limits=dataclasses.replace(
            DEFAULT_LIMITS, max_bundle_bytes=1024)), "R001"),
    }


def bundle_cases(kit: Kit) -> dict[str, tuple[Case, str]]:
    honest = kit.release()
    tampered = flip(honest.bundle, 600)  # inside the first member's data
    resigned_tampered = kit.release(bundle=tampered)
    padded = honest.bundle + bytes(512)
    mismatched_size = [FileEntry(e.path, e.size + 1, e.sha256) for e in honest.manifest.files]
    header_flip = flip(tar_bytes(honest_members()), 10)  # a name byte: checksum now wrong
    return {
        "flipped byte in the bundle": (Case(dataclasses.replace(honest, bundle=tampered),
                                            kit.allowed), "R014"),
        "bundle longer than the manifest says": (Case(dataclasses.replace(
            honest, bundle=padded), kit.allowed), "R014"),
        "old bundle with a new manifest": (Case(dataclasses.replace(
            kit.release(version=2, files=[BundleFile("index.json", b"{}\n")]),
            bundle=honest.bundle), kit.allowed), "R014"),
        "flipped byte in a member": (Case(resigned_tampered, kit.allowed), "R022"),
        "member size differs from the manifest": (Case(kit.release(listed=mismatched_size),
                                                       kit.allowed), "R022"),
        "bad header checksum": (Case(kit.release(bundle=header_flip), kit.allowed), "R015"),
        "data after the end-of-archive marker": (Case(kit.release(
            bundle=tar_bytes(honest_members()) + b"junk" + bytes(508)), kit.allowed), "R015"),
        "../ member name": (Case(with_members(kit, [*honest_members(),
                                                    reg("versions/../../evil", b"x")],
                                              listed=[("index.json", INDEX_DATA),
                                                      (MODEL_PATH, MODEL_DATA)]),
                                 kit.allowed), "R018"),
        "absolute member name": (Case(with_members(kit, [reg("/etc/passwd", b"x"),
                                                         *honest_members()],
                                                   listed=[("index.json", INDEX_DATA),
                                                           (MODEL_PATH, MODEL_DATA)]),
                                      kit.allowed), "R018"),
        "backslash member name": (Case(with_members(kit, [*honest_members(),
                                                          reg("versions\\x.json", b"x")],
                                                    listed=[("index.json", INDEX_DATA),
                                                            (MODEL_PATH, MODEL_DATA)]),
                                       kit.allowed), "R018"),
        "non-UTF-8 member name": (Case(with_members(kit, [
            *honest_members(), reg("versions/v1.0.0/models/\udcff.json", b"x")],
            listed=[("index.json", INDEX_DATA), (MODEL_PATH, MODEL_DATA)]), kit.allowed),
            "R018"),
        "symlink member": (Case(with_members(kit, [*honest_members(), special(
            "versions/link.json", tarfile.SYMTYPE, "/etc/passwd")]), kit.allowed), "R017"),
        "hardlink member": (Case(with_members(kit, [*honest_members(), special(
            "versions/hard.json", tarfile.LNKTYPE, "index.json")]), kit.allowed), "R017"),
        "character device member": (Case(with_members(kit, [*honest_members(), special(
            "versions/tty", tarfile.CHRTYPE)]), kit.allowed), "R017"),
        "block device member": (Case(with_members(kit, [*honest_members(), special(
            "versions/sda", tarfile.BLKTYPE)]), kit.allowed), "R017"),
        "FIFO member": (Case(with_members(kit, [*honest_members(), special(
            "versions/fifo", tarfile.FIFOTYPE)]), kit.allowed), "R017"),
        "directory member": (Case(with_members(kit, [special("versions/", tarfile.DIRTYPE),
                                                     *honest_members()]), kit.allowed),
                             "R017"),
        "duplicate member": (Case(with_members(kit, [*honest_members(),
                                                     reg("index.json", INDEX_DATA)],
                                               listed=[("index.json", INDEX_DATA),
                                                       (MODEL_PATH, MODEL_DATA)]),
                                  kit.allowed), "R019"),
        "case-colliding members": (Case(with_members(kit, [
            *honest_members(), reg(MODEL_PATH.replace("huggingface", "HuggingFace"),
                                   MODEL_DATA)],
            listed=[("index.json", INDEX_DATA), (MODEL_PATH, MODEL_DATA)]), kit.allowed),
            "R019"),
        "NFC/NFD-colliding members": (Case(with_members(kit, [
            reg("versions/v1.0.0/models/caf\u00e9.json", b"{}"),
            reg("versions/v1.0.0/models/cafe\u0301.json", b"{}")],
            listed=[("versions/v1.0.0/models/caf\u00e9.json", b"{}")]), kit.allowed), "R019"),
        "extra member not in the manifest": (Case(with_members(kit, [
            *honest_members(), reg("versions/v1.0.0/models/extra.json", b"{}")],
            listed=[("index.json", INDEX_DATA), (MODEL_PATH, MODEL_DATA)]), kit.allowed),
            "R020"),
        "missing member": (Case(with_members(kit, [reg("index.json", INDEX_DATA)], listed=[
            ("index.json", INDEX_DATA), (MODEL_PATH, MODEL_DATA)]), kit.allowed), "R021"),
        "pax header overriding a name": (Case(with_members(kit, [
            reg("index.json", INDEX_DATA), _pax_renamed(MODEL_PATH, "../../outside.json")],
            listed=[("index.json", INDEX_DATA), (MODEL_PATH, MODEL_DATA)],
            fmt=tarfile.PAX_FORMAT), kit.allowed), "R016"),
        "GNU long-name header": (Case(with_members(kit, [
            reg("versions/" + "d" * 120 + ".json", b"{}")],
            listed=[("versions/" + "d" * 120 + ".json", b"{}")], fmt=tarfile.GNU_FORMAT),
            kit.allowed), "R016"),
        "too many members": (Case(with_members(kit, honest_members()), kit.allowed,
                                  limits=dataclasses.replace(DEFAULT_LIMITS, max_members=1)),
                             "R001"),
    }


def _pax_renamed(name: str, pax_path: str) -> tuple[tarfile.TarInfo, bytes]:
    info, data = reg(name, MODEL_DATA)
    info.pax_headers = {"path": pax_path}
    return info, data


KIT = new_kit()
ALL_CASES = {**signature_cases(KIT), **manifest_cases(KIT), **bundle_cases(KIT)}

# Several attacks share a rule code; the message says which check fired, so a case that
# trips over an earlier, incidental problem fails here even when the code matches.
REASONS = {
    "../ member name": "'..' part",
    "FIFO member": "is a FIFO",
    "GNU long-name header": "GNU long-name header",
    "NFC/NFD-colliding members": "collides with",
    "NaN in a signed manifest": "NaN",
    "SSHSIG version 2": "version 2",
    "absolute member name": "absolute",
    "backslash member name": "backslash",
    "bad header checksum": "bad checksum",
    "block device member": "block device",
    "bundle longer than the manifest says": "the manifest says",
    "case-colliding members": "collides with",
    "character device member": "character device",
    "data after the end-of-archive marker": "after the end-of-archive marker",
    "directory member": "is a directory",
    "duplicate key in a signed manifest": "duplicate key",
    "duplicate member": "appears twice",
    "empty signature file": "does not start with",
    "expired": "expired at",
    "extra member not in the manifest": "not in the manifest",
    "flipped byte in a member": "SHA-256",
    "flipped byte in manifest": "does not match the manifest bytes",
    "flipped byte in the bundle": "SHA-256",
    "future-dated": "clock skew",
    "hardlink member": "hardlink",
    "key not in allowed signers": "not in the allowed signers",
    "listed key past valid-before": "at this time",
    "listed key restricted to the git namespace": "not allowed for namespace",
    "manifest for another repository": "expected 'other/repo'",
    "manifest not UTF-8": "not UTF-8",
    "member size differs from the manifest": "bytes, the manifest says",
    "missing member": "missing from the bundle",
    "non-UTF-8 member name": "is not UTF-8",
    "old bundle with a new manifest": "SHA-256",
    "only a cert-authority line for the key": "not in the allowed signers",
    "oversize bundle by the limit": "the bundle is",
    "oversize manifest": "manifest.json is",
    "oversize signature": "manifest.json.sig is",
    "pax header overriding a name": "pax extended header",
    "re-ordered manifest keys": "does not match the manifest bytes",
    "re-spaced manifest": "does not match the manifest bytes",
    "rollback is checked before expiry": "lower than the accepted 2",
    "rollback to a lower version": "lower than the accepted 5",
    "same version, different content": "other content",
    "signature from another release": "does not match the manifest bytes",
    "signed but not canonical": "canonical form",
    "symlink member": "is a symlink",
    "too many members": "more than 1 members",
    "trailing bytes inside the signature blob": "trailing bytes",
    "trailing garbage after the signature": "does not end with",
    "true as bundle_version": "bundle_version must be an integer",
    "truncated signature": "does not end with",
    "truncated signature blob": "truncated",
    "unknown manifest field": "unknown field(s) mirror",
    "unsupported hash algorithm": "'md5'",
    "wrong namespace (file)": "namespace is 'file'",
}


def test_the_honest_release_passes() -> None:
    release = KIT.release()
    verified = verify_release(release.manifest_bytes, release.signature, release.bundle,
                              KIT.allowed, now=NOW)
    assert verified.files == {f.path: f.data for f in default_files()}
    assert verified.signer == "release@example.org"


def test_the_suite_is_big_enough() -> None:
    assert len(ALL_CASES) >= 30
    assert len({code for _, code in ALL_CASES.values()}) >= 20


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_attack_is_rejected_with_its_reason(name: str) -> None:
    case, code = ALL_CASES[name]
    with pytest.raises(VerificationError) as caught:
        run(case)
    assert caught.value.code == code, caught.value.message
    assert REASONS[name] in caught.value.message


def test_every_attack_names_its_reason() -> None:
    assert set(REASONS) == set(ALL_CASES)


@pytest.mark.skipif(SSH_KEYGEN is None, reason="OpenSSH ssh-keygen is not installed here")
def test_real_git_namespace_signature_with_the_same_key_is_rejected(tmp_path: Path) -> None:
    key_path = write_ssh_key(tmp_path / "id_ed25519", KIT.key)
    release = KIT.release()
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(release.manifest_bytes)
    subprocess.run([str(SSH_KEYGEN), "-Y", "sign", "-f", str(key_path), "-n", "git",
                    str(manifest)], check=True, capture_output=True)
    git_sig = (tmp_path / "manifest.json.sig").read_bytes()
    assert sshsig.parse_signature(git_sig).namespace == "git"
    with pytest.raises(VerificationError) as caught:
        run(Case(dataclasses.replace(release, signature=git_sig), KIT.allowed))
    assert caught.value.code == "R004"


def test_signature_is_checked_before_the_manifest_is_parsed() -> None:
    # Garbage that is not even JSON, unsigned: the signature error must come first.
    release = dataclasses.replace(KIT.release(), manifest_bytes=b"\xff{not json")
    with pytest.raises(VerificationError) as caught:
        run(Case(release, KIT.allowed))
    assert caught.value.code == "R006"


def test_accepted_state_same_version_same_content_is_fine() -> None:
    release = KIT.release()
    digest = hashlib.sha256(release.manifest_bytes).hexdigest()
    run(Case(release, KIT.allowed, state={REPO_ID: AcceptedRelease(1, digest)}))


def test_reader_does_not_depend_on_tarfile_padding() -> None:
    # A minimal archive (two zero blocks, no record padding) is accepted too.
    files = default_files()
    bundle = build_bundle(files, 0)
    trimmed = bundle.rstrip(b"\0")
    trimmed += bytes(-len(trimmed) % 512) + bytes(1024)
    run(Case(KIT.release(bundle=trimmed), KIT.allowed))


def test_base64_body_may_be_wrapped_differently() -> None:
    release = KIT.release()
    blob = sshsig.dearmor(release.signature)
    body = base64.b64encode(blob).decode()
    rewrapped = "\n".join([sshsig.BEGIN, *[body[i:i + 76] for i in range(0, len(body), 76)],
                           sshsig.END, ""]).encode()
    run(Case(dataclasses.replace(release, signature=rewrapped), KIT.allowed))


HONEST = KIT.release()


@given(st.sampled_from(["manifest_bytes", "signature", "bundle"]), st.integers(min_value=0),
       st.integers(min_value=1, max_value=255))
def test_any_changed_byte_anywhere_is_rejected(part: str, position: int, mask: int) -> None:
    data: bytes = getattr(HONEST, part)
    index = position % len(data)
    changed = data[:index] + bytes([data[index] ^ mask]) + data[index + 1:]
    with pytest.raises(VerificationError) as caught:
        run(Case(dataclasses.replace(HONEST, **{part: changed}), KIT.allowed))  # type: ignore[arg-type]
    expected = {"manifest_bytes": {"R006"}, "signature": {"R002", "R003", "R004", "R005",
                                                           "R006"},
                "bundle": {"R014"}}[part]
    assert caught.value.code in expected
