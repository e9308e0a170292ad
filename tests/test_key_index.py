"""The hook's key index answers exactly as the full summaries do.

`validate NAMED` in a large config version reads, of the siblings, only those the key
index names (plus any changed since it was written). Differential property: whatever
the directory holds and however it changed since, the findings on the named files are
the same as with no cache at all.
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repo_tools.checks import summaries
from repo_tools.checks.summaries import CACHED_FROM
from repo_tools.checks.validate import validate_paths
from tests.support.helpers import SHA_A, SHA_B, config, model

IDENTITIES = [("acme", "m1", "1.0.0"), ("acme", "m2", "1.0.0"), ("beta", "m1", "2.0.0")]
CACHE_PATHS = ["a", "a/b.gguf", "A/B.gguf", "c/d.gguf", "c/e.gguf", None]

entries = st.lists(st.tuples(st.sampled_from(IDENTITIES), st.sampled_from(CACHE_PATHS),
                             st.sampled_from([SHA_A, SHA_B])), min_size=0, max_size=2)


def document(rows: list[tuple[tuple[str, str, str], str | None, str]], number: int) -> str:
    models = []
    for (provider, name, version), cache_path, sha in rows:
        download: dict[str, Any] = {"url": f"https://h/{number}", "sha256": sha}
        if cache_path is not None:
            download["cachePath"] = cache_path
        models.append(model(provider=provider, model=name, version=version,
                            download=download))
    # Most files hold unrelated models, as a real config version's do.
    models.append(model(provider=f"p{number}", model=f"own-{number}",
                        download={"url": f"https://h/own/{number}", "sha256": SHA_A,
                                  "cachePath": f"own/{number}.gguf"}))
    return json.dumps(config(*models), indent=2)


def replace(path: Path, text: str) -> None:
    # A new inode: the stat key changes even within one timestamp tick.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def findings(paths: list[Path], base: Path) -> list[tuple[str, str, str]]:
    return [(f.rule, f.path, f.message) for f in validate_paths(paths, base, jobs=1).findings]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(entries, min_size=CACHED_FROM, max_size=CACHED_FROM + 4),
       changes=st.dictionaries(st.integers(0, CACHED_FROM + 6), st.none() | entries,
                               max_size=20),
       named=st.sets(st.integers(0, CACHED_FROM + 6), min_size=1, max_size=3))
def test_key_index_gives_the_findings_the_full_summaries_give(
        monkeypatch: pytest.MonkeyPatch, before: list[Any], changes: dict[int, Any],
        named: set[int]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        models_dir = root / "repo" / "versions" / "v1.0.0" / "models"
        models_dir.mkdir(parents=True)
        monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(root / "cache"))
        monkeypatch.delenv("REPO_TOOLS_NO_SUMMARY_CACHE", raising=False)
        path = {i: models_dir / f"f{i:03d}.json" for i in range(CACHED_FROM + 7)}
        for i, rows in enumerate(before):
            path[i].write_text(document(rows, i))
        validate_paths(sorted(models_dir.glob("*.json")), root)  # writes cache and index
        assert list((root / "cache" / "summaries").glob("*.keys.marshal"))
        for i, rows in changes.items():
            if rows is None:
                path[i].unlink(missing_ok=True)
            else:
                replace(path[i], document(rows, i))
        chosen = [path[i] for i in sorted(named) if path[i].exists()]
        if not chosen:
            return
        with_index = findings(chosen, root)
        monkeypatch.setenv("REPO_TOOLS_NO_SUMMARY_CACHE", "1")
        assert with_index == findings(chosen, root)


def test_the_hook_reads_only_the_siblings_that_share_a_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(tmp_path / "cache"))
    models_dir = tmp_path / "versions" / "v1.0.0" / "models"
    models_dir.mkdir(parents=True)
    for i in range(CACHED_FROM * 2):
        (models_dir / f"f{i:03d}.json").write_text(document([], i))
    clash = [(("acme", "m1", "1.0.0"), "a/b.gguf", SHA_A)]
    replace(models_dir / "f010.json", document(clash, 10))
    validate_paths(sorted(models_dir.glob("*.json")), tmp_path)
    replace(models_dir / "f100.json", document([(("acme", "m1", "1.0.0"), "x.gguf", SHA_B)],
                                               100))
    read: list[str] = []
    real = summaries.parse_summary
    monkeypatch.setattr(summaries, "parse_summary",
                        lambda p: read.append(os.path.basename(p)) or real(p))
    found = [f for f in validate_paths([models_dir / "f100.json"], tmp_path).findings
             if f.rule != "V009"]  # (the providers do not match the file names)
    assert [f.rule for f in found] == ["V008"]
    assert "f010.json" in found[0].message
    assert read == ["f010.json"]  # of 127 siblings, the one holding the same identity


def test_keys_whose_crc32_collide_do_not_hide_a_duplicate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # zlib.crc32 gives these two identities one value: with CRC-32 alone as the key, f000
    # took the slot and f001, the real holder of m11000000, was never read.
    first, second = ("acme", "m214865", "1.0.0"), ("acme", "m11000000", "1.0.0")
    assert zlib.crc32("\0".join(first).encode()) == zlib.crc32("\0".join(second).encode())
    monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(tmp_path / "cache"))
    models_dir = tmp_path / "versions" / "v1.0.0" / "models"
    models_dir.mkdir(parents=True)
    for i in range(CACHED_FROM + 6):
        (models_dir / f"f{i:03d}.json").write_text(document([], i))
    replace(models_dir / "f000.json", document([(first, "x/0.gguf", SHA_A)], 0))
    replace(models_dir / "f001.json", document([(second, "x/1.gguf", SHA_A)], 1))
    validate_paths(sorted(models_dir.glob("*.json")), tmp_path)  # writes the key index
    replace(models_dir / "f050.json", document([(second, "x/50.gguf", SHA_A)], 50))
    found = [f for f in validate_paths([models_dir / "f050.json"], tmp_path).findings
             if f.rule == "V008"]
    assert len(found) == 1 and "f001.json" in found[0].message


BOUNDS = [None, "0.1.0", "1.0.0", "2.0.0-0", "3.0.0", "not-semver"]
ranges = st.lists(st.tuples(st.sampled_from(BOUNDS), st.sampled_from(BOUNDS)), min_size=1,
                  max_size=2)


def ranged(rows: list[tuple[Any, Any]], number: int) -> str:
    models = []
    for i, (low, high) in enumerate(rows):
        compatibility = {k: v for k, v in (("min_client_version", low),
                                           ("max_client_version", high)) if v is not None}
        models.append(model(provider=f"p{number}", model=f"m{i}", compatibility=compatibility,
                            download={"url": f"https://h/{number}/{i}", "sha256": SHA_A,
                                      "cachePath": f"p{number}/{i}.gguf"}))
    return json.dumps(config(*models), indent=2)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(ranges, min_size=CACHED_FROM, max_size=CACHED_FROM + 3),
       changes=st.dictionaries(st.integers(0, CACHED_FROM + 4), st.none() | ranges,
                               max_size=12))
def test_check_index_from_the_key_index_reports_what_the_full_scan_reports(
        monkeypatch: pytest.MonkeyPatch, before: list[Any], changes: dict[int, Any]) -> None:
    from repo_tools.checks.index import check_index

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        repo = root / "repo"
        models_dir = repo / "versions" / "v1.0.0" / "models"
        models_dir.mkdir(parents=True)
        (repo / "index.json").write_text(json.dumps({"versions": {"v1.0.0": {
            "min_client_version": "1.0.0", "max_client_version": "2.0.0-0"}}}))
        monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(root / "cache"))
        monkeypatch.delenv("REPO_TOOLS_NO_SUMMARY_CACHE", raising=False)
        path = {i: models_dir / f"f{i:03d}.json" for i in range(CACHED_FROM + 5)}
        for i, rows in enumerate(before):
            path[i].write_text(ranged(rows, i))
        check_index(repo, root)  # writes the summaries and the key index
        for i, rows in changes.items():
            if rows is None:
                path[i].unlink(missing_ok=True)
            else:
                replace(path[i], ranged(rows, i))
        with_index = check_index(repo, root)
        monkeypatch.setenv("REPO_TOOLS_NO_SUMMARY_CACHE", "1")
        assert with_index == check_index(repo, root)
        assert any(f.rule == "I008" for f in with_index) == any(
            f.rule == "I008" for f in check_index(repo, root))
