"""Builders for client tests: a config repo whose model file is served by the test's own
loopback server, a real `repo-tools release` of it, and that release served over HTTP."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from repo_tools.client import BundleSource, ClientConfig, ConfigClient
from repo_tools.model import ModelEntry
from repo_tools.net.limits import NetworkLimits
from tests.support.helpers import cli, make_repo, write_json
from tests.support.httpserver import Body, LoopbackServer, _Handler, send_start
from tests.support.httpserver import sha256_hex as sha
from tests.support.release_helpers import allowed_line, write_ssh_key

REPO_ID = "example.org/models"
KEY = Ed25519PrivateKey.generate()
# Downloads in tests back off for at most a few milliseconds.
FAST_NETWORK = NetworkLimits(retries=3, backoff_base=0.001, backoff_cap=0.005,
                             retry_after_cap=0.01, connect_timeout=5, read_timeout=5)
FAST = ClientConfig(network=FAST_NETWORK, chunk_size=4096)

INDEX = {"versions": {
    "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.4.0"},
    "v1.1.0": {"min_client_version": "1.5.0", "max_client_version": None},
    "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": None},
}}


def blob(name: str, size: int = 40_000) -> bytes:
    """Deterministic, incompressible-looking bytes of a model file."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{name}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def entry(name: str, url: str, digest: str, *, ranking: int = 0, provider: str = "acme",
          version: str = "1.0.0", cache_path: str | None = None, size: int | None = None,
          platforms: list[str] | None = None, **compat: Any) -> dict[str, Any]:
    download: dict[str, Any] = {"url": url, "sha256": digest,
                                "cachePath": cache_path or f"{provider}/{name}.bin"}
    if size is not None:
        download["size"] = size
    model: dict[str, Any] = {"model": name, "provider": provider, "version": version,
                             "ranking": ranking, "download": download}
    compatibility = dict(compat)
    if platforms is not None:
        compatibility["supported_platforms"] = platforms
    if compatibility:
        model["compatibility"] = compatibility
    return model


def doc(*models: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": "2.0", "models": list(models)}


def fake_sha(name: str) -> str:
    return sha(name.encode())


@dataclasses.dataclass
class Release:
    """A published release folder and what it took to make it."""

    out: Path
    files: dict[str, bytes]  # relative path -> bytes

    @property
    def manifest(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.files["manifest.json"])
        return parsed

    def archive_of(self, config_version: str) -> str:
        """The release-relative path of a config version's archive."""
        name: str = self.manifest["versions"][config_version]["archive"]
        return name


class Lab:
    """One test's world: a key, a config repo, a release folder, a loopback server."""

    def __init__(self, root: Path, server: LoopbackServer) -> None:
        self.root = root
        self.server = server
        self.repo = root / "repo"
        self.out = root / "out"
        self.key = write_ssh_key(root / "release_key", KEY)
        self.allowed = root / "allowed_signers"
        self.allowed.write_text(allowed_line(KEY))
        self.defaults = root / "app" / "configs" / "defaults" / "models"
        self.model_bytes = blob("tiny")
        self.model_url = server.route("/files/tiny.bin", Body(self.model_bytes))

    def write_repo(self, versions: dict[str, list[dict[str, Any]]],
                   index: dict[str, Any] | None = None) -> None:
        """versions: config version -> models (all in acme.json)."""
        if (self.repo / "versions").exists():
            import shutil

            shutil.rmtree(self.repo / "versions")
        make_repo(self.repo, {f"{v}/acme": doc(*models) for v, models in versions.items()},
                  index or INDEX)

    def standard_repo(self, extra: int = 0) -> None:
        tiny = entry("tiny", self.model_url, sha(self.model_bytes), ranking=50,
                     size=len(self.model_bytes))
        others = [entry(f"m{i}", f"https://example.org/m{i}.bin", fake_sha(f"m{i}"),
                        ranking=i) for i in range(3 + extra)]
        self.write_repo({
            "v1.0.0": [tiny, *others[:2]],
            "v1.1.0": [tiny, *others, entry("linux-only", "https://example.org/l.bin",
                                            fake_sha("l"), platforms=["linux"])],
            "v2.0.0": [tiny, entry("next", "https://example.org/n.bin", fake_sha("n"),
                                   ranking=90)],
        })

    def write_defaults(self) -> None:
        """v1-format defaults: one model the remote overrides, one only the app has."""
        write_json(self.defaults / "acme.json", [
            {"name": "tiny", "provider": "acme", "version": "0.9.0",
             "download_url": "https://old.example.org/tiny.bin", "file_hash": "c" * 64,
             "cache_path": "acme/tiny-old.bin"},
            {"name": "builtin", "provider": "acme", "version": "1.0.0",
             "download_url": "https://example.org/builtin.bin", "file_hash": "d" * 64,
             "cache_path": "acme/builtin.bin"},
        ])

    def release(self, *extra: str) -> Release:
        run = cli("release", "--repo", self.repo, "--key", self.key, "--out", self.out,
                  "--created", "now", "--repository", REPO_ID, "--allow-removals", "--allow-shrink",
                  *extra,
                  cwd=self.root)
        assert run.exit_code == 0, run.stdout + run.stderr
        return Release(self.out, release_files(self.out))

    def serve(self, files: dict[str, bytes], prefix: str = "/rel/") -> str:
        """Serve exactly these release files under prefix (others 404); the folder URL."""
        for name in ("manifest.json", "manifest.json.sig", *files):
            if name in files:
                self.server.route(prefix + name, Body(files[name]))
            else:
                self.server.route(prefix + name, _missing())
        return self.server.url(prefix)

    def client(self, version: str, cache: str = "cache", platform: str | None = "linux",
               config: ClientConfig = FAST, url: str | None = None) -> ConfigClient:
        return ConfigClient(version, platform, source=BundleSource(url or self.server.url(
            "/rel/")), allowed_signers=self.allowed, defaults_dir=self.defaults,
                            cache_dir=self.root / cache, config=config)


def release_files(out: Path) -> dict[str, bytes]:
    """A release folder's files by relative path (manifests, signatures, `<sha256>.tar`
    archives)."""
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file()}


def _missing() -> Any:
    from tests.support.httpserver import Status

    return Status(404, b"gone\n")


@dataclasses.dataclass
class IgnoreRange:
    """200 with the whole body whatever Range asked (servers without range support)."""

    data: bytes

    def serve(self, handler: _Handler) -> None:
        send_start(handler, self.data, len(self.data))


def client_log(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "repo_tools.client")


def capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="repo_tools.client")


def names(models: list[ModelEntry]) -> list[str]:
    return [m.model for m in models]


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode()
