"""Generate the release-format test vectors in this folder (see docs/release-format.md).

    python tests/vectors/generate.py            # rewrite the vectors here
    python tests/vectors/generate.py OUT_DIR    # write them elsewhere

Deterministic: the signing key comes from a fixed seed (Ed25519 signatures are
deterministic), archives are built with fixed metadata, and every JSON file is written in
one fixed form, so a re-run gives byte-identical files; tests/test_vectors.py checks that,
and runs every vector through `verify_release`.

THE KEY IS FOR TESTS ONLY. Its seed is below, in public: anyone can sign with it. Only
its public half (allowed_signers) is committed; never trust it outside these vectors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sys
import tarfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from repo_tools.release import signing, sshsig
from repo_tools.release.archive import ReleaseFile, build_archive
from repo_tools.release.manifest import (
    Manifest,
    VersionArchive,
    archive_name,
    format_time,
    member_path,
)

HERE = Path(__file__).resolve().parent
TEST_ONLY_SEED = hashlib.sha256(b"repo-tools release test vectors: TEST-ONLY key").digest()
OTHER_SEED = hashlib.sha256(b"repo-tools release test vectors: an untrusted key").digest()
PRINCIPAL = "test-vectors@example.org"
REPOSITORY = "example.org/model-configs"
CREATED = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
EXPIRES = CREATED + dt.timedelta(days=30)
NOW = CREATED + dt.timedelta(days=1)
COMMIT = "1" * 40

INDEX: dict[str, Any] = {"versions": {
    "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.9.9"},
    "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": None},
}}


def _model(name: str, digest: str, low: str, high: str | None) -> dict[str, Any]:
    return {"model": name, "provider": "huggingface", "version": "1.0.0", "ranking": 10,
            "download": {"url": f"https://example.org/{name}.gguf", "sha256": digest * 64,
                         "cachePath": f"huggingface/{name}.gguf"},
            "compatibility": {"min_client_version": low, "max_client_version": high}}


def _doc(*models: dict[str, Any]) -> bytes:
    return (json.dumps({"schema_version": "2.0", "models": list(models)}, indent=2,
                       sort_keys=True) + "\n").encode()


FILES: dict[str, dict[str, bytes]] = {
    "v1.0.0": {"huggingface.json": _doc(_model("mistral-7b", "a", "1.0.0", "1.9.9"))},
    "v2.0.0": {"huggingface.json": _doc(_model("mistral-7b", "a", "2.0.0", None),
                                        _model("phi-3-mini", "b", "2.0.0", None)),
               "thebloke.json": _doc(_model("zephyr-7b", "c", "2.0.0", None))},
}


def key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def honest_archive(config_version: str) -> bytes:
    files = FILES[config_version]
    return build_archive([ReleaseFile(member_path(config_version, name), files[name])
                          for name in sorted(files, key=lambda n: n.encode("utf-8"))])


def tar(members: Sequence[tuple[str, bytes | None, bytes]],
        fmt: int = tarfile.USTAR_FORMAT, pax: dict[str, str] | None = None) -> bytes:
    """A hand-made archive: (name, data or None, tar type) in order, fixed metadata."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt, encoding="utf-8") as out:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = 0o644
            info.mtime = 0
            info.uname = info.gname = ""
            if kind == tarfile.SYMTYPE:
                info.linkname = "/etc/passwd"
            if data is not None:
                info.size = len(data)
            if pax:
                info.pax_headers = dict(pax)
            out.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def manifest_of(archives: dict[str, bytes], counts: dict[str, int] | None = None,
                version: int = 1) -> Manifest:
    entries = tuple(
        VersionArchive(v, len(data), hashlib.sha256(data).hexdigest(),
                       (counts or {}).get(v, len(FILES[v])))
        for v, data in sorted(archives.items(), key=lambda item: item[0].encode("utf-8")))
    return Manifest(REPOSITORY, version, CREATED, EXPIRES, COMMIT, INDEX, entries)


class Writer:
    """Collects the files and the vectors' descriptions, then writes them all."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.vectors: list[dict[str, Any]] = []
        self.signer = key(TEST_ONLY_SEED)
        self.archives = {v: honest_archive(v) for v in FILES}
        self.manifest = manifest_of(self.archives)
        self.manifest_bytes = self.manifest.to_bytes()
        self.signature = self.sign(self.manifest_bytes)
        self.put("release/manifest.json", self.manifest_bytes)
        self.put("release/manifest.json.sig", self.signature)
        self.archive_paths: dict[str, str] = {}
        for data in self.archives.values():
            name = archive_name(hashlib.sha256(data).hexdigest())
            self.archive_paths[name] = self.put(f"release/{name}", data)

    def sign(self, data: bytes, namespace: str = sshsig.NAMESPACE,
             seed: bytes = TEST_ONLY_SEED) -> bytes:
        return signing.sign(data, key(seed), namespace)

    def put(self, path: str, data: bytes) -> str:
        assert self.files.get(path, data) == data, path
        self.files[path] = data
        return path

    def vector(self, name: str, expect: str, description: str, *,
               manifest: bytes | None = None, signature: bytes | None = None,
               archives: dict[str, bytes] | None = None, now: dt.datetime = NOW,
               state: dict[str, Any] | None = None, repository: str | None = None,
               config_versions: list[str] | None = None) -> None:
        """One vector: what differs from the honest release is written under cases/NAME/."""
        entry: dict[str, Any] = {"name": name, "description": description}
        entry["manifest"] = ("release/manifest.json" if manifest is None
                             else self.put(f"cases/{name}/manifest.json", manifest))
        entry["signature"] = ("release/manifest.json.sig" if signature is None
                              else self.put(f"cases/{name}/manifest.json.sig", signature))
        paths = dict(self.archive_paths)
        for archive, data in (archives or {}).items():
            paths[archive] = self.put(f"cases/{name}/{archive}", data)
        entry["archives"] = dict(sorted(paths.items()))
        entry["now"] = format_time(now)
        if state is not None:
            entry["state"] = state
        if repository is not None:
            entry["repository"] = repository
        if config_versions is not None:
            entry["config_versions"] = config_versions
        entry["expect"] = expect
        self.vectors.append(entry)

    def resigned(self, name: str, expect: str, description: str,
                 change: Callable[[bytes], bytes], **kw: Any) -> None:
        data = change(self.manifest_bytes)
        assert data != self.manifest_bytes, name
        self.vector(name, expect, description, manifest=data, signature=self.sign(data), **kw)

    def with_archive(self, vector: str, expect: str, description: str, config_version: str,
                     data: bytes, files: int | None = None) -> None:
        """A release whose signed manifest vouches for `data` as config_version's archive:
        size and hash match, so only the member checks can catch it."""
        archives = {**self.archives, config_version: data}
        counts = {config_version: files} if files is not None else None
        manifest = manifest_of(archives, counts).to_bytes()
        name = archive_name(hashlib.sha256(data).hexdigest())
        self.vector(vector, expect, description, manifest=manifest,
                    signature=self.sign(manifest), archives={name: data})

    def write(self, out: Path) -> None:
        for path, data in self.files.items():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        pub = sshsig.public_key_line(self.signer.public_key())
        (out / "allowed_signers").write_text(
            f'{PRINCIPAL} namespaces="{sshsig.NAMESPACE}" {pub}\n', "utf-8")
        doc = {"about": "repo-tools release format test vectors; see docs/release-format.md",
               "allowed_signers": "allowed_signers", "vectors": self.vectors}
        (out / "vectors.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                                          "utf-8")


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def build() -> Writer:
    w = Writer()
    m = w.manifest_bytes
    digest = hashlib.sha256(m).hexdigest()
    v1_name = next(n for n in w.archive_paths if hashlib.sha256(
        w.archives["v1.0.0"]).hexdigest() in n)
    v1 = w.archives["v1.0.0"]
    models = "versions/v1.0.0/models/"
    good = FILES["v1.0.0"]["huggingface.json"]
    reg = tarfile.REGTYPE

    w.vector("ok", "ok", "The honest release: every archive verifies.")
    w.vector("ok-one-version", "ok", "A client of version 1.x checks only v1.0.0's archive.",
             config_versions=["v1.0.0"], archives={
                 next(n for n in w.archive_paths if n != v1_name): b"not fetched"})
    w.vector("ok-same-version-accepted", "ok", "The state holds this very manifest.",
             state={"bundle_version": 1, "manifest_sha256": digest})
    w.vector("manifest-flipped-byte", "R006", "One byte of the manifest changed after signing.",
             manifest=flip(m, 40))
    w.vector("manifest-newline-after-signing", "R006",
             "A trailing newline added after signing.", manifest=m + b"\n")
    w.vector("signature-wrong-namespace", "R004", "Signed in the namespace 'file'.",
             signature=w.sign(m, "file"))
    w.vector("signature-untrusted-key", "R005", "Signed by a key not in allowed_signers.",
             signature=w.sign(m, seed=OTHER_SEED))
    w.vector("signature-truncated", "R002", "The armored signature cut in half.",
             signature=w.signature[:len(w.signature) // 2])
    w.resigned("manifest-unknown-field", "R007", "A signed manifest with an unknown field.",
               lambda d: d.replace(b'"bundle_version":1', b'"bundle_version":1,"mirror":"x"'))
    w.resigned("manifest-duplicate-key", "R007", "A signed manifest with a duplicate key.",
               lambda d: d.replace(b'"bundle_version":1',
                                   b'"bundle_version":1,"bundle_version":2'))
    w.resigned("manifest-archive-name-mismatch", "R007",
               "An archive name that is not <its sha256>.tar.",
               lambda d: d.replace(v1_name.encode(), b"0" * 64 + b".tar"))
    w.resigned("manifest-old-schema", "R007", "The removed format repo-tools-release/1.",
               lambda d: d.replace(b"repo-tools-release/2", b"repo-tools-release/1"))
    w.resigned("manifest-trailing-newline", "R008",
               "Signed, but with a trailing newline: not the canonical bytes.",
               lambda d: d + b"\n")
    w.resigned("manifest-indented", "R008", "Signed, but indented.",
               lambda d: json.dumps(json.loads(d), indent=2, sort_keys=True).encode())
    w.resigned("manifest-escaped-letter", "R008",
               "Signed, but a string escapes a letter (\\u0065) that RFC 8785 writes as is.",
               lambda d: d.replace(b'"example.org', b'"\\u0065xample.org'))
    w.resigned("manifest-integer-as-float", "R007",
               "Signed, but bundle_version is written 1e0: a JSON number that is not an "
               "integer literal is not an integer (before any canonical-form check).",
               lambda d: d.replace(b'"bundle_version":1', b'"bundle_version":1e0'))
    w.resigned("manifest-escaped-solidus", "R008",
               "Signed, but '/' is escaped as \\/, which RFC 8785 never does.",
               lambda d: d.replace(b'"example.org/', b'"example.org\\/'))
    w.vector("wrong-repository", "R009", "The client expects another repository.",
             repository="example.org/other")
    w.vector("rollback", "R010", "The state accepted bundle_version 2 already.",
             state={"bundle_version": 2, "manifest_sha256": "0" * 64})
    w.vector("equivocation", "R011", "The state accepted another bundle_version 1.",
             state={"bundle_version": 1, "manifest_sha256": "f" * 64})
    w.vector("rollback-before-expiry", "R010", "Rollback is checked before expiry.",
             now=EXPIRES, state={"bundle_version": 2, "manifest_sha256": "0" * 64})
    w.vector("expired", "R012", "Verified at the expiry time.", now=EXPIRES)
    w.vector("future-dated", "R013", "Verified an hour before it was created (skew 5 min).",
             now=CREATED - dt.timedelta(hours=1))
    w.vector("archive-flipped-byte", "R014", "One byte of v1.0.0's archive changed.",
             archives={v1_name: flip(v1, 600)})
    w.vector("archive-wrong-size", "R014", "v1.0.0's archive with a block appended.",
             archives={v1_name: v1 + bytes(512)})
    w.with_archive("archive-bad-checksum", "R015", "A member header with a bad checksum.",
                   "v1.0.0", flip(tar([(models + "huggingface.json", good, reg)]), 10))
    w.with_archive("archive-pax-header", "R016", "A pax header that renames the member.",
                   "v1.0.0", tar([(models + "huggingface.json", good, reg)],
                                 tarfile.PAX_FORMAT, {"path": "../../outside.json"}))
    w.with_archive("archive-symlink", "R017", "A symlink member.", "v1.0.0",
                   tar([(models + "huggingface.json", good, reg),
                        (models + "link.json", None, tarfile.SYMTYPE)]))
    w.with_archive("archive-dotdot-name", "R018", "A member name that climbs out with '..'.",
                   "v1.0.0", tar([(models + "../../../evil.json", b"{}", reg)]), files=1)
    w.with_archive("archive-duplicate-member", "R019", "The same member twice.", "v1.0.0",
                   tar([(models + "huggingface.json", good, reg)] * 2), files=2)
    w.with_archive("archive-case-collision", "R019", "Two names equal up to case.", "v1.0.0",
                   tar([(models + "HuggingFace.json", good, reg),
                        (models + "huggingface.json", good, reg)]), files=2)
    w.with_archive("archive-other-version-member", "R020",
                   "v1.0.0's archive holds a file of v2.0.0.", "v1.0.0",
                   tar([(models + "huggingface.json", good, reg),
                        ("versions/v2.0.0/models/x.json", b"{}", reg)]), files=2)
    w.with_archive("archive-count-mismatch", "R021", "The manifest says 2 files, there is 1.",
                   "v1.0.0", v1, files=2)
    w.with_archive("archive-unsorted", "R022", "Members out of byte order.", "v1.0.0",
                   tar([(models + "z.json", b"{}", reg), (models + "a.json", b"{}", reg)]),
                   files=2)
    return w


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else HERE
    build().write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
