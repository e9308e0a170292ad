"""Hand-made releases in the per-version archive format, for the verifier's tests.

Unlike tests.support.release_helpers' Kit (one config version, from a file list), this Kit
builds releases of several config versions, so the attack suite and the CLI tests of
`verify` and `resolve --bundle` can check that a client reads only the archive it selects,
and replace any part of a release after (or before) signing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from repo_tools.release.archive import ReleaseFile, build_archive
from repo_tools.release.manifest import (
    Manifest,
    VersionArchive,
    member_path,
    signature_name,
    snapshot_name,
)
from tests.support.helpers import config, model
from tests.support.release_helpers import (  # re-exported: one import for the verify tests
    CREATED,
    EXPIRES,
    NOW,
    PRINCIPAL,
    REPO_ID,
    SSH_KEYGEN,
    SigningKit,
    allowed_line,
    reg,
    special,
    tar_bytes,
    write_ssh_key,
)

__all__ = ["CREATED", "EXPIRES", "NOW", "PRINCIPAL", "REPO_ID", "SSH_KEYGEN", "allowed_line",
           "reg", "special", "tar_bytes", "write_ssh_key"]

COMMIT = "0" * 40

INDEX: dict[str, Any] = {"versions": {
    "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.9.9"},
    "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": None},
}}


def model_doc(*names: str, clients: tuple[str, str | None] = ("1.0.0", None)) -> bytes:
    """A valid model file with one model per name, for the clients `clients` spans."""
    models = [model(model=name, download={
        "url": f"https://example.org/{name}.gguf", "sha256": "abcdef"[i % 6] * 64,
        "cachePath": f"huggingface/{name}.gguf"}, compatibility={
        "min_client_version": clients[0], "max_client_version": clients[1]})
        for i, name in enumerate(names)]
    return (json.dumps(config(*models), indent=2) + "\n").encode()


def default_versions() -> dict[str, dict[str, bytes]]:
    """config version -> model file name -> bytes: two config versions, three files."""
    return {"v1.0.0": {"huggingface.json": model_doc("mistral-7b", clients=("1.0.0", "1.9.9"))},
            "v2.0.0": {"huggingface.json": model_doc("mistral-7b", "phi-3-mini",
                                                     clients=("2.0.0", None)),
                       "thebloke.json": model_doc("zephyr-7b", clients=("2.0.0", None))}}


def archive_of(config_version: str, files: Mapping[str, bytes]) -> bytes:
    """The honest archive of one config version, as `release` writes it."""
    return build_archive(sorted((ReleaseFile(member_path(config_version, n), d)
                                 for n, d in files.items()),
                                key=lambda f: f.path.encode("utf-8")))


@dataclasses.dataclass
class Release:
    manifest_bytes: bytes
    signature: bytes
    archives: dict[str, bytes]  # <sha256>.tar -> bytes
    manifest: Manifest

    def archive(self, config_version: str) -> tuple[str, bytes]:
        entry = self.manifest.archive_of(config_version)
        assert entry is not None
        return entry.name, self.archives[entry.name]

    def write(self, out: Path) -> Path:
        """The published layout: latest and snapshot manifests, signatures, archives."""
        out.mkdir(parents=True, exist_ok=True)
        for name, data in self.archives.items():
            (out / name).write_bytes(data)
        for name in ("manifest.json", snapshot_name(self.manifest.bundle_version)):
            (out / name).write_bytes(self.manifest_bytes)
            (out / signature_name(name)).write_bytes(self.signature)
        return out


@dataclasses.dataclass
class Kit(SigningKit):
    def release(self, versions: Mapping[str, Mapping[str, bytes]] | None = None, *,
                version: int = 1, index: Mapping[str, Any] | None = None,
                archives: Mapping[str, bytes] | None = None,
                counts: Mapping[str, int] | None = None,
                created: dt.datetime = CREATED, expires: dt.datetime = EXPIRES,
                repository: str = REPO_ID,
                edit: Callable[[Manifest], Manifest] | None = None) -> Release:
        """A signed release. `archives` replaces config versions' honest archives (by
        config version) before the manifest is made, so the manifest vouches for them;
        `counts` replaces the stated file counts; `edit` changes the manifest last."""
        versions = versions if versions is not None else default_versions()
        built = {v: archive_of(v, files) for v, files in versions.items()}
        built.update(archives or {})
        entries = []
        for config_version in sorted(built, key=lambda v: v.encode("utf-8")):
            data = built[config_version]
            files = (counts or {}).get(config_version, len(versions.get(config_version, {})))
            entries.append(VersionArchive(config_version, len(data),
                                          hashlib.sha256(data).hexdigest(), files))
        manifest = Manifest(repository, version, created, expires, COMMIT,
                            dict(index if index is not None else INDEX), tuple(entries))
        if edit is not None:
            manifest = edit(manifest)
        data = manifest.to_bytes()
        by_name = {a.name: built[a.config_version] for a in manifest.versions
                   if a.config_version in built}
        return Release(data, self.sign(data), by_name, manifest)


def kit_from_seed(seed: bytes) -> Kit:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return Kit(key, allowed_line(key))


def new_kit() -> Kit:
    key = Ed25519PrivateKey.generate()
    return Kit(key, allowed_line(key))


