"""docs/maintaining.md's shell sessions are real: `add`, `import`, `migrate --without-hash`
and `lint --fix` run in bash in a repo made by `repo-tools init`, against HTTPS servers
on 127.0.0.1 that answer as huggingface.co, raw.githubusercontent.com and example.org
would (the sessions' URLs are rewritten to them, and back in what is printed)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import real_catalogs
from tests.support.httpserver import Body, LoopbackServer, Redirect, make_certificate
from tests.test_readme_examples import block, run_session

HF = "https://huggingface.co"
RAW = "https://raw.githubusercontent.com"
EXAMPLE = "https://example.org"
ZEPHYR = "/TheBloke/zephyr-7B-beta-GGUF/resolve/main/zephyr-7b-beta.Q4_K_M.gguf"
# The LFS digest and size the redirect states (made up: the body is never requested).
ZEPHYR_SHA = "275d5f9e2e7d8b1d2a2e8a3e9b9a1d2c3b4a5f60718293a4b5c6d7e8f9012345"
ZEPHYR_SIZE = "4368439584"
CATALOGS = {
    "/lmstudio-ai/model-catalog/main/catalog.json": "lmstudio_catalog.json",
    "/nomic-ai/gpt4all/main/gpt4all-chat/metadata/models3.json": "gpt4all_models3.json",
}
DEMO_URL = "https://huggingface.co/example-org/example-model/resolve/main/example-model-Q4_K_M.gguf"
DEMO_SHA = "9a" * 32
TINY = b"GGUF" + bytes(range(256)) * 40


class Hosts:
    def __init__(self, tmp: Path) -> None:
        self.cert = make_certificate(tmp / "cert")
        self.servers = {name: LoopbackServer(self.cert.server_context())
                        for name in (HF, RAW, EXAMPLE)}

    def __enter__(self) -> Hosts:
        for server in self.servers.values():
            server.__enter__()
        hf = self.servers[HF]
        hf.route("/cdn/zephyr", Body(b"never requested"))
        hf.route(ZEPHYR, Redirect("/cdn/zephyr", headers={
            "X-Linked-Etag": f'"{ZEPHYR_SHA}"', "X-Linked-Size": ZEPHYR_SIZE}))
        for path, name in CATALOGS.items():
            self.servers[RAW].route(path, Body(real_catalogs.catalog_bytes(name)))
        self.servers[EXAMPLE].route("/tiny.gguf", Body(TINY))
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers.values():
            server.close()

    @property
    def replace(self) -> dict[str, str]:
        return {name: server.url("") for name, server in self.servers.items()}

    def env(self, tmp: Path) -> dict[str, str]:
        return {"REQUESTS_CA_BUNDLE": str(self.cert.cert), "XDG_CACHE_HOME": str(tmp / "cache"),
                "REPO_TOOLS_TOKENS": "", "NETRC": str(tmp / "no-netrc")}


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[Hosts]:
    with Hosts(tmp_path) as running:
        yield running


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    # A real model's URL and digest in place of the template's placeholders (V015).
    subprocess.run(["repo-tools", "init", "demo", "--set", f"example_url={DEMO_URL}",
                    "--set", f"example_sha256={DEMO_SHA}"], cwd=tmp_path, check=True,
                   capture_output=True)
    return tmp_path / "demo"


def run(name: str, containing: str, cwd: Path, hosts: Hosts, tmp: Path) -> None:
    run_session(block(name, containing), cwd, replace=hosts.replace, env=hosts.env(tmp))


def test_add_session(demo: Path, hosts: Hosts, tmp_path: Path) -> None:
    run("maintaining-add", "$ repo-tools add", demo, hosts, tmp_path)
    hf = hosts.servers[HF]
    assert hf.body_requests() == 0 and hf.count() == 4  # HEAD and HEAD after the 302, twice


def test_import_session(demo: Path, hosts: Hosts, tmp_path: Path) -> None:
    run("maintaining-import", "$ repo-tools import", demo, hosts, tmp_path)


def test_migrate_without_hash_session(demo: Path, hosts: Hosts, tmp_path: Path) -> None:
    run("maintaining-migrate", "--without-hash", demo, hosts, tmp_path)
    assert hosts.servers[EXAMPLE].body_requests("/tiny.gguf") == 1


def test_lint_fix_session(demo: Path, hosts: Hosts, tmp_path: Path) -> None:
    run("maintaining-fix", "$ repo-tools lint --fix", demo, hosts, tmp_path)
