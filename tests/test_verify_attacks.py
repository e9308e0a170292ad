"""The attack suite: every way a mirror or a man in the middle can lie about a release in
the per-version archive format, each rejected by `verify_release` (the function the client
library calls) with its own rule code and a message that says which check fired."""

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
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.release import signing, sshsig
from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import Manifest, VersionArchive, canonical_json
from repo_tools.release.verify import (
    DEFAULT_LIMITS,
    AcceptedRelease,
    VerifyLimits,
    verify_release,
)
from tests.support.verify_helpers import (
    CREATED,
    EXPIRES,
    INDEX,
    NOW,
    REPO_ID,
    SSH_KEYGEN,
    Kit,
    Release,
    allowed_line,
    archive_of,
    default_versions,
    model_doc,
    new_kit,
    reg,
    special,
    tar_bytes,
    write_ssh_key,
)

V1 = "v1.0.0"
MODELS = "versions/v1.0.0/models/"
MODEL_DATA = default_versions()[V1]["huggingface.json"]


@dataclasses.dataclass
class Case:
    release: Release
    allowed: str
    code: str
    reason: str  # a part of the message: several attacks share a code
    state: dict[str, AcceptedRelease] | None = None
    now: dt.datetime = NOW
    limits: VerifyLimits = DEFAULT_LIMITS
    repository: str | None = None


def run(case: Case) -> None:
    r = case.release
    verify_release(r.manifest_bytes, r.signature, r.archives, case.allowed, now=case.now,
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


def resigned(kit: Kit, transform: Callable[[bytes], bytes]) -> Release:
    """The honest release with its manifest bytes transformed, then signed: the signature
    is good, so what fires is the check on the content."""
    honest = kit.release()
    data = transform(honest.manifest_bytes)
    return dataclasses.replace(honest, manifest_bytes=data, signature=kit.sign(data))


def resigned_doc(kit: Kit, change: Callable[[dict[str, Any]], Any]) -> Release:
    """As `resigned`, changing the parsed manifest and writing it canonically again."""
    def transform(data: bytes) -> bytes:
        doc = json.loads(data)
        changed = change(doc)
        return canonical_json(doc if changed is None else changed)
    return resigned(kit, transform)


def with_archive(kit: Kit, members: list[tuple[tarfile.TarInfo, bytes | None]], *,
                 files: int | None = None, fmt: int = tarfile.USTAR_FORMAT) -> Release:
    """A correctly signed release whose v1.0.0 archive holds exactly `members` (the manifest
    states its true size and hash, so only the member checks can catch it)."""
    data = tar_bytes(members, fmt)
    count = files if files is not None else sum(1 for i, d in members if d is not None)
    return kit.release(archives={V1: data}, counts={V1: count})


def honest_members() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    return [reg(MODELS + "huggingface.json", MODEL_DATA)]


def replace_archive(release: Release, config_version: str, data: bytes) -> Release:
    name, _ = release.archive(config_version)
    return dataclasses.replace(release, archives={**release.archives, name: data})


def edit_entry(config_version: str, **changes: Any) -> Callable[[Manifest], Manifest]:
    def edit(manifest: Manifest) -> Manifest:
        versions = tuple(dataclasses.replace(a, **changes) if a.config_version == config_version
                         else a for a in manifest.versions)
        return dataclasses.replace(manifest, versions=versions)
    return edit


# --- the cases -----------------------------------------------------------------------------

def signature_cases(kit: Kit) -> dict[str, Case]:
    honest = kit.release()
    other_key = Ed25519PrivateKey.generate()
    other_release = kit.release(version=2)
    a = kit.allowed
    mismatch = "does not match the manifest bytes"

    def with_manifest(data: bytes) -> Release:
        return dataclasses.replace(honest, manifest_bytes=data)

    def with_sig(sig: bytes) -> Release:
        return dataclasses.replace(honest, signature=sig)

    doc = json.loads(honest.manifest_bytes)
    return {
        "flipped byte in manifest": Case(with_manifest(flip(honest.manifest_bytes, 40)), a,
                                         "R006", mismatch),
        "re-ordered manifest keys": Case(with_manifest(json.dumps(
            dict(reversed(doc.items())), separators=(",", ":")).encode()), a, "R006", mismatch),
        "re-spaced manifest": Case(with_manifest(json.dumps(
            doc, indent=1, sort_keys=True).encode()), a, "R006", mismatch),
        "trailing newline added after signing": Case(with_manifest(
            honest.manifest_bytes + b"\n"), a, "R006", mismatch),
        "key not in allowed signers": Case(with_sig(signing.sign(honest.manifest_bytes,
                                                                 other_key)), a, "R005",
                                           "not in the allowed signers"),
        "listed key restricted to the git namespace": Case(
            honest, allowed_line(kit.key, options='namespaces="git"'), "R005",
            "not allowed for namespace"),
        "listed key past valid-before": Case(
            honest, allowed_line(kit.key, options='valid-before="20200101Z"'), "R005",
            "at this time"),
        "listed key not yet valid-after": Case(
            honest, allowed_line(kit.key, options='valid-after="20400101Z"'), "R005",
            "at this time"),
        "only a cert-authority line for the key": Case(
            honest, allowed_line(kit.key, options="cert-authority"), "R005",
            "not in the allowed signers"),
        "wrong namespace (file)": Case(with_sig(kit.sign(honest.manifest_bytes, "file")), a,
                                       "R004", "namespace is 'file'"),
        "wrong namespace (old release namespace spelling)": Case(with_sig(kit.sign(
            honest.manifest_bytes, "repo-tools-release@v2")), a, "R004",
            "namespace is 'repo-tools-release@v2'"),
        "signature from another release": Case(with_sig(other_release.signature), a, "R006",
                                               mismatch),
        "truncated signature": Case(with_sig(honest.signature[:len(honest.signature) // 2]),
                                    a, "R002", "does not end with"),
        "trailing garbage after the signature": Case(with_sig(honest.signature + b"garbage\n"),
                                                     a, "R002", "does not end with"),
        "trailing bytes inside the signature blob": Case(with_sig(reblob(
            honest.signature, lambda b: b + b"\0")), a, "R002", "trailing bytes"),
        "truncated signature blob": Case(with_sig(reblob(honest.signature, lambda b: b[:-10])),
                                         a, "R002", "truncated"),
        "SSHSIG version 2": Case(with_sig(sshsig.armor(blob_with(honest.signature,
                                                                 version=2))),
                                 a, "R002", "version 2"),
        "unsupported hash algorithm": Case(with_sig(sshsig.armor(blob_with(
            honest.signature, hash_alg=b"md5"))), a, "R003", "'md5'"),
        "empty signature file": Case(with_sig(b""), a, "R002", "does not start with"),
        "oversize signature": Case(with_sig(honest.signature + b" " * 20000), a, "R001",
                                   "manifest.json.sig is"),
        "oversize manifest": Case(honest, a, "R001", "manifest.json is",
                                  limits=dataclasses.replace(DEFAULT_LIMITS,
                                                             max_manifest_bytes=100)),
    }


def manifest_cases(kit: Kit) -> dict[str, Case]:
    honest = kit.release()
    digest = hashlib.sha256(honest.manifest_bytes).hexdigest()
    a = kit.allowed
    with_extra = kit.release(index={**honest.manifest.index, "note": 100})
    emoji_index = kit.release(index={**honest.manifest.index, "\U0001F600": 1, "\uff61": 2})

    def text_resigned(base: Release, old: bytes, new: bytes) -> Release:
        assert old in base.manifest_bytes
        data = base.manifest_bytes.replace(old, new, 1)
        return dataclasses.replace(base, manifest_bytes=data, signature=kit.sign(data))

    def set_v1(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def change(doc: dict[str, Any]) -> None:
            doc["versions"][V1][field] = value
        return change

    non_canonical = "canonical form"
    return {
        "duplicate key in a signed manifest": Case(resigned(kit, lambda d: d.replace(
            b'"bundle_version":1', b'"bundle_version":1,"bundle_version":9', 1)), a, "R007",
            "duplicate key"),
        "NaN in a signed manifest": Case(resigned(kit, lambda d: d.replace(
            b'"bundle_version":1', b'"bundle_version":NaN', 1)), a, "R007", "NaN"),
        "true as bundle_version": Case(resigned_doc(kit, lambda d: {**d, "bundle_version":
                                                                     True}),
                                       a, "R007", "bundle_version must be an integer"),
        "bundle_version beyond 2^53": Case(resigned(kit, lambda d: d.replace(
            b'"bundle_version":1', b'"bundle_version":9007199254740993', 1)), a, "R007",
            "bundle_version must be an integer"),
        "unknown manifest field": Case(resigned_doc(kit, lambda d: {**d, "mirror": "x"}), a,
                                       "R007", "unknown field(s) mirror"),
        "unknown field in a version entry": Case(resigned_doc(kit, set_v1("url", "x")), a,
                                                 "R007", "unknown field(s) url"),
        "missing field": Case(resigned_doc(kit, lambda d: {k: v for k, v in d.items()
                                                           if k != "expires"}),
                              a, "R007", "lacks expires"),
        "old single-bundle schema": Case(resigned_doc(kit, lambda d: {
            **d, "schema": "repo-tools-release/1"}), a, "R007", "'repo-tools-release/1'"),
        "manifest not UTF-8": Case(resigned(kit, lambda d: d.replace(
            b'"repository":"', b'"repository":"\xff', 1)), a, "R007", "not UTF-8"),
        "archive name not matching its sha256": Case(resigned_doc(
            kit, set_v1("archive", "0" * 64 + ".tar")), a, "R007",
            "the name its sha256 gives"),
        "archive name with a path": Case(resigned_doc(
            kit, set_v1("archive", "../" + honest.archive(V1)[0])), a, "R007",
            "the name its sha256 gives"),
        "config version with '..'": Case(resigned_doc(kit, lambda d: {
            **d, "versions": {"..": d["versions"][V1]}}), a, "R007", "'..' part"),
        # A second entry pointing at v1.0.0's archive: its members lie in another folder.
        "config version naming another version's archive": Case(resigned_doc(
            kit, lambda d: {**d, "versions": {"V1.0.0": d["versions"][V1], **d["versions"]}}),
            a, "R020", "not a model file of config version V1.0.0"),
        "archive of zero files": Case(resigned_doc(kit, set_v1("files", 0)), a, "R007",
                                      "files must be an integer from 1"),
        "expires before created": Case(kit.release(expires=CREATED), a, "R007",
                                       "expires is not after created"),
        "index not an object": Case(resigned_doc(kit, lambda d: {**d, "index": []}), a,
                                    "R007", "index must be an object"),
        "signed but indented": Case(resigned(kit, lambda d: json.dumps(
            json.loads(d), sort_keys=True, indent=2).encode()), a, "R008", non_canonical),
        "signed with a trailing newline": Case(resigned(kit, lambda d: d + b"\n"), a, "R008",
                                               non_canonical),
        "number in exponent form (1e2 for 100)": Case(text_resigned(
            with_extra, b'"note":100', b'"note":1e2'), a, "R008", non_canonical),
        "number with a fraction (100.0 for 100)": Case(text_resigned(
            with_extra, b'"note":100', b'"note":100.0'), a, "R008", non_canonical),
        "escaped ASCII letter (\\u0041)": Case(text_resigned(
            honest, b'"example.org/models"', b'"ex\\u0061mple.org/models"'), a, "R008",
            non_canonical),
        "escaped solidus (\\/)": Case(text_resigned(
            honest, b'"example.org/models"', b'"example.org\\/models"'), a, "R008",
            non_canonical),
        "keys sorted by code point, not UTF-16": Case(text_resigned(
            emoji_index, '"\U0001F600":1,"\uff61":2'.encode(),
            '"\uff61":2,"\U0001F600":1'.encode()), a, "R008", non_canonical),
        "manifest for another repository": Case(honest, a, "R009", "expected 'other/repo'",
                                                repository="other/repo"),
        "rollback to a lower version": Case(honest, a, "R010", "lower than the accepted 5",
                                            state={REPO_ID: AcceptedRelease(5, "0" * 64)}),
        "same version, different content (equivocation)": Case(
            honest, a, "R011", "other content", state={REPO_ID: AcceptedRelease(1, "f" * 64)}),
        "rollback is checked before expiry": Case(honest, a, "R010",
                                                  "lower than the accepted 2", now=EXPIRES,
                                                  state={REPO_ID: AcceptedRelease(2, digest)}),
        "expired": Case(honest, a, "R012", "expired at", now=EXPIRES),
        "future-dated": Case(honest, a, "R013", "clock skew",
                             now=CREATED - dt.timedelta(hours=1)),
        "archive over the limit": Case(honest, a, "R001", "over the limit of 1024",
                                       limits=dataclasses.replace(DEFAULT_LIMITS,
                                                                  max_archive_bytes=1024)),
    }


def archive_cases(kit: Kit) -> dict[str, Case]:
    honest = kit.release()
    a = kit.allowed
    name1, data1 = honest.archive(V1)
    _, data2 = honest.archive("v2.0.0")
    header_flip = flip(tar_bytes(honest_members()), 10)  # a name byte: checksum now wrong
    members = honest_members()
    other = MODELS + "other.json"

    def plus(*extra: tuple[tarfile.TarInfo, bytes | None]) -> list[tuple[tarfile.TarInfo,
                                                                         bytes | None]]:
        return [*members, *extra]

    return {
        "flipped byte in an archive": Case(replace_archive(honest, V1, flip(data1, 600)), a,
                                           "R014", "SHA-256"),
        "archive longer than the manifest says": Case(replace_archive(
            honest, V1, data1 + bytes(512)), a, "R014", "the manifest says"),
        "archive truncated": Case(replace_archive(honest, V1, data1[:-512]), a, "R014",
                                  "the manifest says"),
        "wrong size in the signed manifest": Case(kit.release(edit=edit_entry(
            V1, size=len(data1) + 1)), a, "R014", "the manifest says"),
        "another version's archive under this name": Case(dataclasses.replace(
            honest, archives={**honest.archives, name1: data2}), a, "R014",
            "the manifest says" if len(data1) != len(data2) else "SHA-256"),
        "old archive with a new manifest": Case(replace_archive(kit.release(
            {V1: {"huggingface.json": model_doc("other-model")}}, version=2,
            index={"versions": {V1: INDEX["versions"][V1]}}), V1, data1), a,
            "R014", "SHA-256"),
        "bad header checksum": Case(kit.release(archives={V1: header_flip}), a, "R015",
                                    "bad checksum"),
        "data after the end-of-archive marker": Case(kit.release(archives={
            V1: tar_bytes(members) + b"junk" + bytes(508)}), a, "R015",
            "after the end-of-archive marker"),
        "member truncated": Case(kit.release(archives={V1: tar_bytes(members)[:700]}), a,
                                 "R015", "truncated"),
        "pax header overriding a name": Case(with_archive(kit, [
            _pax_renamed(MODELS + "huggingface.json", "../../outside.json")],
            fmt=tarfile.PAX_FORMAT), a, "R016", "pax extended header"),
        "GNU long-name header": Case(with_archive(kit, [
            reg(MODELS + "d" * 120 + ".json", b"{}")], fmt=tarfile.GNU_FORMAT), a, "R016",
            "GNU long-name header"),
        "symlink member": Case(with_archive(kit, plus(special(
            MODELS + "link.json", tarfile.SYMTYPE, "/etc/passwd"))), a, "R017", "is a symlink"),
        "hardlink member": Case(with_archive(kit, plus(special(
            MODELS + "hard.json", tarfile.LNKTYPE, MODELS + "huggingface.json"))), a, "R017",
            "hardlink"),
        "character device member": Case(with_archive(kit, plus(special(
            MODELS + "tty", tarfile.CHRTYPE))), a, "R017", "character device"),
        "block device member": Case(with_archive(kit, plus(special(
            MODELS + "sda", tarfile.BLKTYPE))), a, "R017", "block device"),
        "FIFO member": Case(with_archive(kit, plus(special(MODELS + "fifo", tarfile.FIFOTYPE))),
                            a, "R017", "is a FIFO"),
        "directory member": Case(with_archive(kit, [special(MODELS, tarfile.DIRTYPE),
                                                    *members]), a, "R017", "is a directory"),
        "../ member name": Case(with_archive(kit, plus(reg(MODELS + "../../../evil.json",
                                                           b"x"))), a, "R018", "'..' part"),
        "absolute member name": Case(with_archive(kit, [reg("/etc/passwd", b"x"), *members]),
                                     a, "R018", "absolute"),
        "backslash member name": Case(with_archive(kit, plus(reg(MODELS + "a\\b.json",
                                                                 b"x"))), a, "R018",
                                      "backslash"),
        "drive-letter member name": Case(with_archive(kit, [reg("C:/evil.json", b"x"),
                                                            *members]), a, "R018", "':'"),
        "control character in a member name": Case(with_archive(kit, plus(reg(
            MODELS + "x\x1b[2J.json", b"x"))), a, "R018", "control character"),
        "non-UTF-8 member name": Case(with_archive(kit, plus(reg(MODELS + "\udcff.json",
                                                                 b"x"))), a, "R018",
                                      "is not UTF-8"),
        "duplicate member": Case(with_archive(kit, plus(reg(MODELS + "huggingface.json",
                                                            MODEL_DATA))), a, "R019",
                                 "appears twice"),
        "case-colliding members": Case(with_archive(kit, [
            reg(MODELS + "HuggingFace.json", MODEL_DATA), *members]), a, "R019",
            "collides with"),
        "NFC/NFD-colliding members": Case(with_archive(kit, [
            reg(MODELS + "caf\u00e9.json", b"{}"), reg(MODELS + "cafe\u0301.json", b"{}")]),
            a, "R019", "collides with"),
        "member of another config version (R020)": Case(with_archive(kit, plus(reg(
            "versions/v2.0.0/models/huggingface.json", MODEL_DATA))), a, "R020",
            "not a model file of config version v1.0.0"),
        "index.json inside an archive": Case(with_archive(kit, [reg("index.json", b"{}"),
                                                                *members]), a, "R020",
                                             "not a model file"),
        "member in a subfolder of models/": Case(with_archive(kit, plus(reg(
            MODELS + "sub/x.json", b"{}"))), a, "R020", "not a model file"),
        "member that is not .json": Case(with_archive(kit, plus(reg(MODELS + "notes.txt",
                                                                    b"x"))), a, "R020",
                                         "not a model file"),
        "fewer members than the manifest says": Case(with_archive(kit, members, files=2), a,
                                                     "R021", "the manifest says 2"),
        "more members than the manifest says": Case(with_archive(kit, plus(reg(
            other, b"{}")), files=1), a, "R021", "the manifest says 1"),
        "members not sorted": Case(with_archive(kit, [reg(other, b"{}"), *members]), a,
                                   "R022", "out of order"),
        "too many members": Case(with_archive(kit, plus(reg(other, b"{}"))), a, "R001",
                                 "more than 1 members",
                                 limits=dataclasses.replace(DEFAULT_LIMITS, max_members=1)),
    }


def _pax_renamed(name: str, pax_path: str) -> tuple[tarfile.TarInfo, bytes]:
    info, data = reg(name, MODEL_DATA)
    info.pax_headers = {"path": pax_path}
    return info, data


KIT = new_kit()
ALL_CASES = {**signature_cases(KIT), **manifest_cases(KIT), **archive_cases(KIT)}


def test_the_honest_release_passes() -> None:
    release = KIT.release()
    verified = verify_release(release.manifest_bytes, release.signature, release.archives,
                              KIT.allowed, now=NOW)
    expected = {f"versions/{v}/models/{n}": d for v, files in default_versions().items()
                for n, d in files.items()}
    assert verified.files == {"index.json": release.manifest.index_bytes(), **expected}
    assert verified.signer == "release@example.org"
    assert verified.config_versions == ("v1.0.0", "v2.0.0")


def test_the_suite_is_big_enough() -> None:
    assert len(ALL_CASES) >= 80
    assert {c.code for c in ALL_CASES.values()} == {f"R{n:03d}" for n in range(1, 23)}


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_attack_is_rejected_with_its_reason(name: str) -> None:
    case = ALL_CASES[name]
    with pytest.raises(VerificationError) as caught:
        run(case)
    assert caught.value.code == case.code, caught.value.message
    assert case.reason in caught.value.message


def test_only_the_chosen_archive_is_needed_and_checked() -> None:
    # A client of version 2 fetches v2.0.0's archive only: the others need not be given,
    # and a tampered archive it does not use does not concern it.
    release = KIT.release()
    name1, data1 = release.archive(V1)
    name2, data2 = release.archive("v2.0.0")
    verified = verify_release(release.manifest_bytes, release.signature,
                              {name2: data2, name1: flip(data1, 600)}, KIT.allowed, now=NOW,
                              config_versions=["v2.0.0"])
    assert verified.config_versions == ("v2.0.0",)
    assert sorted(verified.files) == ["index.json", "versions/v2.0.0/models/huggingface.json",
                                      "versions/v2.0.0/models/thebloke.json"]
    with pytest.raises(VerificationError) as caught:
        verify_release(release.manifest_bytes, release.signature, {name1: flip(data1, 600)},
                       KIT.allowed, now=NOW, config_versions=[V1])
    assert caught.value.code == "R014"


def test_an_unchanged_config_version_keeps_its_archive_name() -> None:
    first = KIT.release()
    second = KIT.release({**default_versions(), "v2.0.0": {"huggingface.json": model_doc(
        "changed", clients=("2.0.0", None))}}, version=2)
    assert first.archive(V1) == second.archive(V1)
    assert first.archive("v2.0.0")[0] != second.archive("v2.0.0")[0]


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
        run(Case(dataclasses.replace(release, signature=git_sig), KIT.allowed, "R004", ""))
    assert caught.value.code == "R004"


def test_signature_is_checked_before_the_manifest_is_parsed() -> None:
    # Garbage that is not even JSON, unsigned: the signature error must come first.
    release = dataclasses.replace(KIT.release(), manifest_bytes=b"\xff{not json")
    with pytest.raises(VerificationError) as caught:
        run(Case(release, KIT.allowed, "R006", ""))
    assert caught.value.code == "R006"


def test_accepted_state_same_version_same_content_is_fine() -> None:
    release = KIT.release()
    digest = hashlib.sha256(release.manifest_bytes).hexdigest()
    run(Case(release, KIT.allowed, "", "", state={REPO_ID: AcceptedRelease(1, digest)}))


def test_reader_does_not_depend_on_tarfile_padding() -> None:
    # A minimal archive (two zero blocks, no record padding to 10 KiB) is accepted too.
    data = archive_of(V1, default_versions()[V1])
    trimmed = data.rstrip(b"\0")
    trimmed += bytes(-len(trimmed) % 512) + bytes(1024)
    assert len(trimmed) < len(data)
    run(Case(KIT.release(archives={V1: trimmed}), KIT.allowed, "", ""))


def test_base64_body_may_be_wrapped_differently() -> None:
    release = KIT.release()
    blob = sshsig.dearmor(release.signature)
    body = base64.b64encode(blob).decode()
    rewrapped = "\n".join([sshsig.BEGIN, *[body[i:i + 76] for i in range(0, len(body), 76)],
                           sshsig.END, ""]).encode()
    run(Case(dataclasses.replace(release, signature=rewrapped), KIT.allowed, "", ""))


def test_version_entries_are_parsed_in_canonical_order() -> None:
    release = KIT.release()
    assert [v.config_version for v in release.manifest.versions] == ["v1.0.0", "v2.0.0"]
    assert all(isinstance(v, VersionArchive) for v in release.manifest.versions)


HONEST = KIT.release()
PARTS = ["manifest_bytes", "signature", *sorted(HONEST.archives)]


@given(st.sampled_from(PARTS), st.integers(min_value=0), st.integers(min_value=1,
                                                                      max_value=255))
def test_any_changed_byte_anywhere_is_rejected(part: str, position: int, mask: int) -> None:
    data = HONEST.archives[part] if part in HONEST.archives else getattr(HONEST, part)
    index = position % len(data)
    changed = data[:index] + bytes([data[index] ^ mask]) + data[index + 1:]
    if part in HONEST.archives:
        release = dataclasses.replace(HONEST, archives={**HONEST.archives, part: changed})
    else:
        release = dataclasses.replace(HONEST, **{part: changed})
    with pytest.raises(VerificationError) as caught:
        run(Case(release, KIT.allowed, "", ""))
    expected = ({"R014"} if part in HONEST.archives else
                {"manifest_bytes": {"R006"},
                 "signature": {"R002", "R003", "R004", "R005", "R006"}}[part])
    assert caught.value.code in expected
