"""`repo-tools resolve --bundle` on the per-version archive format: it reads the signed
index from the manifest and fetches only the archive the client selects (none for
--table), verified as a client verifies it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from repo_tools.snapshot import NO_ARCHIVES, from_release
from tests.support.helpers import Run, cli
from tests.support.httpserver import serve_folder
from tests.support.verify_helpers import Kit, Release, default_versions, model_doc, new_kit

V1, V2 = "v1.0.0", "v2.0.0"


@dataclasses.dataclass
class Setup:
    tmp: Path
    kit: Kit
    out: Path
    signers: Path
    release: Release


def _fresh(kit: Kit, version: int = 1, **kw: object) -> Release:
    # resolve uses the real clock: a release valid now.
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return kit.release(version=version, created=now - dt.timedelta(hours=1),
                       expires=now + dt.timedelta(days=30), **kw)  # type: ignore[arg-type]


@pytest.fixture
def s(tmp_path: Path) -> Setup:
    kit = new_kit()
    release = _fresh(kit)
    out = release.write(tmp_path / "public")
    signers = tmp_path / "allowed_signers"
    signers.write_text(kit.allowed)
    return Setup(tmp_path, kit, out, signers, release)


def resolve(s: Setup, *args: str | Path, bundle: str | Path | None = None) -> Run:
    return cli("resolve", "--bundle", bundle if bundle is not None else s.out,
               "--allowed-signers", s.signers, *args)


def spoil(s: Setup, config_version: str) -> None:
    name, data = s.release.archive(config_version)
    (s.out / name).write_bytes(data.replace(b"mistral", b"mistrad", 1))


def models_of(run: Run) -> list[str]:
    return [m["model"] for m in json.loads(run.stdout)["models"]]


def test_a_client_gets_its_config_version_and_models(s: Setup) -> None:
    old = resolve(s, "--client-version", "1.5.0", "--format", "json")
    assert old.exit_code == 0, old.stderr
    assert json.loads(old.stdout)["config_version"] == V1
    assert models_of(old) == ["mistral-7b"]
    new = resolve(s, "--client-version", "2.0.0", "--format", "json")
    assert json.loads(new.stdout)["config_version"] == V2
    assert models_of(new) == ["mistral-7b", "phi-3-mini", "zephyr-7b"]
    none = resolve(s, "--client-version", "0.5.0")
    assert none.exit_code == 1 and "no config version admits" in none.stdout


def test_only_the_selected_archive_is_read(s: Setup) -> None:
    spoil(s, V2)
    old = resolve(s, "--client-version", "1.5.0", "--format", "json")
    assert old.exit_code == 0 and models_of(old) == ["mistral-7b"]
    new = resolve(s, "--client-version", "2.0.0")
    assert new.exit_code == 1 and new.stdout == ""
    assert "C002" in new.stderr and "R014" in new.stderr


def test_the_table_needs_no_archive(s: Setup) -> None:
    for archive in s.out.glob("*.tar"):
        archive.unlink()
    table = resolve(s, "--table")
    assert table.exit_code == 0, table.stderr
    assert V1 in table.stdout and V2 in table.stdout
    snapshot = from_release(str(s.out), s.signers, archives=NO_ARCHIVES)
    assert snapshot.entries is not None and snapshot.models_of(V2) == []
    assert snapshot.versions == (V1, V2) and snapshot.bundle_version == 1


def test_all_archives_by_default_for_the_library(s: Setup) -> None:
    snapshot = from_release(str(s.out), s.signers)
    assert [m.model for m in snapshot.models_of(V2)] == ["mistral-7b", "phi-3-mini",
                                                         "zephyr-7b"]
    spoil(s, V1)
    rejected = from_release(str(s.out), s.signers)
    assert rejected.entries is None and "R014" in rejected.problems[0].message


def test_a_tampered_manifest_is_rejected(s: Setup) -> None:
    manifest = s.out / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"bundle_version":1',
                                                       b'"bundle_version":9'))
    run = resolve(s, "--client-version", "1.5.0")
    assert run.exit_code == 1 and "C002" in run.stderr and "R006" in run.stderr


def test_an_invalid_model_is_left_out_with_a_note(s: Setup) -> None:
    bad = json.loads(model_doc("broken", clients=("1.0.0", "1.9.9")))
    del bad["models"][0]["download"]
    versions = {**default_versions(), V1: {
        "huggingface.json": default_versions()[V1]["huggingface.json"],
        "other.json": json.dumps(bad).encode()}}
    _fresh(s.kit, 2, versions=versions).write(s.out)
    run = resolve(s, "--client-version", "1.5.0", "--format", "json", "--previous",
                  s.out / "manifest.json")
    assert run.exit_code == 0, run.stderr
    assert models_of(run) == ["mistral-7b"]
    assert "other.json" in run.stderr


def test_the_shrink_guard_uses_the_release_before(s: Setup) -> None:
    # Release 2 keeps one of the three models clients 2.x have: they refuse it (C005) and
    # keep release 1's answer, found beside it as 1.manifest.json.
    fewer = {**default_versions(), V2: {"thebloke.json": model_doc(
        "zephyr-7b", clients=("2.0.0", None))}}
    _fresh(s.kit, 2, versions=fewer).write(s.out)
    run = resolve(s, "--client-version", "2.0.0", "--format", "json")
    assert run.exit_code == 1 and "C005" in run.stderr
    assert models_of(run) == ["mistral-7b", "phi-3-mini", "zephyr-7b"]
    old = resolve(s, "--client-version", "1.0.0", "--format", "json")
    assert old.exit_code == 0 and models_of(old) == ["mistral-7b"]


@pytest.fixture
def served(s: Setup) -> Iterator[str]:
    with serve_folder(s.out) as url:
        yield url


def test_over_http_as_from_the_folder(s: Setup, served: str) -> None:
    for version in ("1.5.0", "2.0.0"):
        args = ("--client-version", version, "--format", "json")
        assert resolve(s, *args, bundle=served).stdout == resolve(s, *args).stdout
    missing = resolve(s, "--client-version", "1.5.0", bundle=served + "nothing/")
    assert missing.exit_code == 2 and "HTTP 404" in missing.stderr
