"""`repo-tools resolve --bundle`: what a client of version X gets from a published release,
verified first, through the same client code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client_helpers import Lab
from tests.support.helpers import cli
from tests.support.httpserver import LoopbackServer


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with LoopbackServer() as server:
        world = Lab(tmp_path, server)
        world.standard_repo()
        yield world


def resolve(lab: Lab, *args: str | Path) -> object:
    return cli("resolve", "--allowed-signers", lab.allowed, *args, cwd=lab.root)


def test_a_published_release_resolves_like_its_checkout(lab: Lab) -> None:
    release = lab.release()
    url = lab.serve(release.files)
    for version in ("1.2.0", "1.7.0", "2.3.0"):
        for platform in ("linux", "macos"):
            args = ("--client-version", version, "--platform", platform, "--format", "json")
            from_url = resolve(lab, "--bundle", url, *args)
            from_dir = resolve(lab, "--bundle", release.out, *args)
            checkout = cli("resolve", "--repo", lab.repo, *args)
            assert from_url.exit_code == 0, from_url.stderr
            assert from_url.stdout == from_dir.stdout == checkout.stdout
    doc = json.loads(resolve(lab, "--bundle", url, "--client-version", "1.7.0", "--format",
                             "json").stdout)
    assert doc["config_version"] == "v1.1.0"
    table = resolve(lab, "--bundle", url, "--table")
    assert table.exit_code == 0 and table.stdout == cli("resolve", "--repo", lab.repo,
                                                        "--table").stdout


def test_a_tampered_release_is_rejected(lab: Lab) -> None:
    release = lab.release()
    manifest = release.files["manifest.json"].replace(b'"bundle_version":1',
                                                      b'"bundle_version":9')
    url = lab.serve({**release.files, "manifest.json": manifest})
    run = resolve(lab, "--bundle", url, "--client-version", "1.7.0")
    assert run.exit_code == 1
    assert "C002" in run.stderr and "R006" in run.stderr
    assert run.stdout == ""


def test_an_unreachable_release_is_an_io_error(lab: Lab) -> None:
    run = resolve(lab, "--bundle", lab.server.url("/nothing/"), "--client-version", "1.7.0")
    assert run.exit_code == 2 and "HTTP 404" in run.stderr


def test_bundle_and_allowed_signers_go_together(lab: Lab) -> None:
    run = cli("resolve", "--bundle", str(lab.out), "--client-version", "1.7.0")
    assert run.exit_code == 2 and "go together" in run.stderr
    lab.allowed.write_text("not an allowed signers line\n")
    release = lab.release()
    run = resolve(lab, "--bundle", release.out, "--client-version", "1.7.0")
    assert run.exit_code == 2 and "allowed signers line 1" in run.stderr
