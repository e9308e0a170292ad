"""Builders for release tests: keys, git config repos, hand-made manifests and archives."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from repo_tools.release import signing, sshsig
from repo_tools.release.archive import ReleaseFile, build_archive
from repo_tools.release.manifest import INDEX_PATH, Manifest, VersionArchive
from tests.support.helpers import config, git, git_env, make_repo, model

SSH_KEYGEN = shutil.which("ssh-keygen")
needs_ssh_keygen = pytest.mark.skipif(SSH_KEYGEN is None,
                                      reason="OpenSSH ssh-keygen is not installed here")

CREATED = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
NOW = CREATED + dt.timedelta(days=1)
EXPIRES = CREATED + dt.timedelta(days=30)
REPO_ID = "example.org/models"
PRINCIPAL = "release@example.org"
def allowed_line(key: Ed25519PrivateKey, principal: str = PRINCIPAL,
                 options: str = f'namespaces="{sshsig.NAMESPACE}"') -> str:
    opts = f"{options} " if options else ""
    return f"{principal} {opts}{sshsig.public_key_line(key.public_key())}\n"


def write_ssh_key(path: Path, key: Ed25519PrivateKey, passphrase: str | None = None) -> Path:
    path.write_bytes(signing.private_key_pem(key, passphrase))
    path.chmod(0o600)
    path.with_name(path.name + ".pub").write_text(
        sshsig.public_key_line(key.public_key()) + " test\n")
    return path


# --- config repos ------------------------------------------------------------------------

INDEX = {"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}}}


def two_model_config() -> dict[str, Any]:
    return config(
        model(),
        model(model="phi-3-mini", download={
            "url": "https://example.org/phi.gguf", "sha256": "b" * 64,
            "cachePath": "huggingface/phi.gguf"}),
    )


def commit_all(repo: Path, message: str = "update", when: int = 1_767_225_600) -> str:
    git(repo, "add", "-A")
    env_date = f"{when} +0000"
    env = git_env(GIT_AUTHOR_DATE=env_date, GIT_COMMITTER_DATE=env_date)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", message], check=True,
                   capture_output=True, env=env)
    return git(repo, "rev-parse", "HEAD")


def git_config_repo(root: Path, doc: dict[str, Any] | None = None,
                    index: dict[str, Any] | None = None) -> Path:
    """A committed config repo (commit time 2026-01-01, so releases are reproducible)."""
    make_repo(root, {"v1.0.0/huggingface": doc or two_model_config()}, index or INDEX)
    git(root.parent, "init", "-q", str(root))
    commit_all(root, "init")
    return root


# --- hand-made releases ------------------------------------------------------------------

@dataclasses.dataclass
class Release:
    manifest_bytes: bytes
    signature: bytes
    archives: dict[str, bytes]  # archive name (<sha256>.tar) -> bytes
    manifest: Manifest

    @property
    def archive(self) -> bytes:
        """The archive of the first (in tests usually the only) config version."""
        return self.archives[self.manifest.versions[0].name]

    def folder(self, out: Path) -> Path:
        """Write it as `release` lays it out (manifest.json, its .sig, the archives)."""
        out.mkdir(parents=True, exist_ok=True)
        (out / "manifest.json").write_bytes(self.manifest_bytes)
        (out / "manifest.json.sig").write_bytes(self.signature)
        for name, data in self.archives.items():
            (out / name).write_bytes(data)
        return out


def describe(config_version: str, data: bytes, files: int) -> VersionArchive:
    return VersionArchive(config_version, len(data), hashlib.sha256(data).hexdigest(), files)


@dataclasses.dataclass
class SigningKit:
    """A release key and its allowed_signers line; the Kits that build releases (this
    module's, of one config version, and tests.support.verify_helpers') extend it."""

    key: Ed25519PrivateKey
    allowed: str

    def sign(self, manifest_bytes: bytes, namespace: str = sshsig.NAMESPACE) -> bytes:
        return signing.sign(manifest_bytes, self.key, namespace)


@dataclasses.dataclass
class Kit(SigningKit):
    def release(self, files: Sequence[ReleaseFile] | None = None, *, version: int = 1,
                archive: bytes | None = None, count: int | None = None,
                created: dt.datetime = CREATED, expires: dt.datetime = EXPIRES,
                repository: str = REPO_ID,
                edit: Callable[[Manifest], Manifest] | None = None) -> Release:
        """A signed release of files (index.json and model files); `archive` replaces the
        first config version's honest archive (the manifest then describes it, with
        `count` files), `edit` changes the manifest before it is signed."""
        import json

        files = list(files if files is not None else default_files())
        index: dict[str, Any] = {}
        by_version: dict[str, list[ReleaseFile]] = {}
        for f in files:
            if f.path == INDEX_PATH:
                index = json.loads(f.data)
            else:
                by_version.setdefault(f.path.split("/")[1], []).append(f)
        archives: dict[str, bytes] = {}
        described = []
        for i, (config_version, members) in enumerate(sorted(by_version.items())):
            members.sort(key=lambda m: m.path.encode("utf-8"))
            data = build_archive(members)
            files_count = len(members)
            if i == 0 and archive is not None:
                data = archive
                files_count = count if count is not None else files_count
            entry = describe(config_version, data, files_count)
            described.append(entry)
            archives[entry.name] = data
        manifest = Manifest(repository, version, created, expires, "0" * 40, index,
                            tuple(described))
        if edit is not None:
            manifest = edit(manifest)
        data = manifest.to_bytes()
        return Release(data, self.sign(data), archives, manifest)


def new_kit() -> Kit:
    key = Ed25519PrivateKey.generate()
    return Kit(key, allowed_line(key))


def default_files() -> list[ReleaseFile]:
    import json

    index = (json.dumps(INDEX, indent=2) + "\n").encode()
    doc = (json.dumps(two_model_config(), indent=2) + "\n").encode()
    return [ReleaseFile("index.json", index),
            ReleaseFile("versions/v1.0.0/models/huggingface.json", doc)]


def tar_bytes(members: Sequence[tuple[tarfile.TarInfo, bytes | None]],
              fmt: int = tarfile.USTAR_FORMAT) -> bytes:
    """An archive of hand-made members (for attacks the release writer never makes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt, encoding="utf-8",
                      errors="surrogateescape") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def reg(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None
