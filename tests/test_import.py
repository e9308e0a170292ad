"""`repo-tools import`: the three real catalogs, and the way from an MD5-only entry to a
published one (import, then `probe --hash --write`)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from repo_tools.catalogs import gpt4all
from tests.support import real_catalogs
from tests.support.helpers import Run, cli, findings_json, write_json
from tests.support.httpserver import Body, LoopbackServer, sha256_hex

INDEX = {"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}}}
SOURCES = {"gpt4all": "gpt4all_models3.json", "lmstudio": "lmstudio_catalog.json",
           "localai": "localai_gallery_index.yaml"}


def run_import(tmp_path: Path, fmt: str, source: Path | str, *args: str) -> Run:
    repo = tmp_path / "repo"
    if not (repo / "index.json").exists():
        write_json(repo / "index.json", INDEX)
    return cli("import", fmt, source, "--config-version", "v1.0.0", "--repo", repo,
               "--format", "json", *args, cwd=tmp_path)


def imported(tmp_path: Path) -> list[dict[str, Any]]:
    models = []
    for path in sorted((tmp_path / "repo" / "versions" / "v1.0.0" / "models").glob("*.json")):
        models += json.loads(path.read_text())["models"]
    return models


def lint_counts(tmp_path: Path) -> Counter[str]:
    run = cli("lint", "--repo", tmp_path / "repo", "--format", "json", "--strict")
    return Counter(f["rule"] for f in findings_json(run))


# Exact findings of `lint --strict` on each imported catalog: only the catalogs' own
# problems. GPT4All: 28 entries with only an MD5 (no sha256). LocalAI: 8 files with an
# empty sha256, and 10 cachePaths that two different files share (one download would
# overwrite the other in LocalAI's models directory too). LM Studio: none.
EXPECTED = {
    "gpt4all": ({"S001": 28}, 32, 7, 28),
    "lmstudio": ({}, 29, 6, 0),
    "localai": ({"S001": 8, "V007": 10}, 2461, 125, 8),
}


@pytest.mark.parametrize("fmt", list(SOURCES))
def test_real_catalog_imports_with_only_its_own_problems(tmp_path: Path, fmt: str) -> None:
    lint, entries, files, without_hash = EXPECTED[fmt]
    run = run_import(tmp_path, fmt, real_catalogs.catalog_file(SOURCES[fmt], tmp_path))
    assert run.exit_code == (1 if without_hash else 0), run.stderr
    found = findings_json(run)
    assert Counter(f["rule"] for f in found) == Counter({"M005": without_hash} if without_hash
                                                       else {})
    for f in found:
        assert f"run `repo-tools probe --hash --write {f['path']}`" in f["message"]
    assert f"imported {entries} entries into {files} file(s)" in run.stderr
    assert len(imported(tmp_path)) == entries
    assert lint_counts(tmp_path) == Counter(lint)
    for f in findings_json(cli("lint", "--repo", tmp_path / "repo", "--format", "json")):
        if f["rule"] == "S001":
            assert f["pointer"].endswith("/download") and "'sha256'" in f["message"]


def test_gpt4all_values_are_all_kept(tmp_path: Path) -> None:
    source = json.loads(real_catalogs.catalog_bytes(SOURCES["gpt4all"]))
    run_import(tmp_path, "gpt4all", real_catalogs.catalog_file(SOURCES["gpt4all"], tmp_path))
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in imported(tmp_path):
        by_name.setdefault(entry["model"], []).append(entry)
    for name in by_name:
        by_name[name].sort(key=lambda e: e["version"])
    seen: Counter[str] = Counter()
    for item in source:
        entry = by_name[item["name"]][seen[item["name"]]]
        seen[item["name"]] += 1
        download, metadata = entry["download"], entry.get("metadata", {})
        assert download["url"] == item["url"]
        assert download["cachePath"] == item["filename"]
        assert download["size"] == int(item["filesize"])
        assert entry["compatibility"]["min_client_version"] == gpt4all.pad(item["requires"])
        if "sha256sum" in item:
            assert download["sha256"] == item["sha256sum"]
        else:
            assert "sha256" not in download and metadata["md5sum"] == item["md5sum"]
        if "removedIn" in item:
            assert metadata["removedIn"] == item["removedIn"]
            assert entry["compatibility"]["max_client_version"] == gpt4all.last_before(
                gpt4all.pad(item["removedIn"]) or "")
        mapped = {"name", "url", "filename", "filesize", "requires", "sha256sum"}
        assert {k: v for k, v in item.items() if k not in mapped} == metadata


def test_lmstudio_values_are_all_kept(tmp_path: Path) -> None:
    source = json.loads(real_catalogs.catalog_bytes(SOURCES["lmstudio"]))
    run_import(tmp_path, "lmstudio", real_catalogs.catalog_file(SOURCES["lmstudio"], tmp_path))
    by_url = {e["download"]["url"]: e for e in imported(tmp_path)}
    for item in source:
        for f in item["files"]["all"]:
            entry = by_url[f["url"]]
            assert entry["download"]["sha256"] == f["sha256checksum"]
            assert entry["download"]["size"] == f["sizeBytes"]
            assert entry["model"] == f"{item['name']} ({f['name']})"
            rest = {k: v for k, v in item.items() if k not in ("name", "files")}
            assert {k: entry["metadata"][k] for k in rest} == rest
            assert entry["metadata"]["file"] == {k: v for k, v in f.items() if k not in (
                "name", "url", "sizeBytes", "sha256checksum")}


def test_gpt4all_client_ranges() -> None:
    assert gpt4all.pad("3.0") == "3.0.0" and gpt4all.pad("2.7.10") == "2.7.10"
    assert gpt4all.pad("v3") is None and gpt4all.pad("1.2.3.4") is None
    assert [gpt4all.last_before(v) for v in ("2.5.3", "3.1.0", "3.0.0")] == [
        "2.5.2", "3.0.999", "2.999.999"]


def test_md5_only_entry_is_imported_then_filled_by_probe_write(
        tmp_path: Path, server: LoopbackServer) -> None:
    data = b"weights" * 1000
    url = server.route("/models/tiny.gguf", Body(data))
    catalog = tmp_path / "models3.json"
    catalog.write_text(json.dumps([{
        "order": "a", "name": "Tiny", "filename": "tiny.gguf", "filesize": str(len(data)),
        "requires": "2.5", "md5sum": hashlib.md5(data).hexdigest(), "url": url,
    }]))
    run = run_import(tmp_path, "gpt4all", catalog)
    assert run.exit_code == 1
    [missing] = findings_json(run)
    path = "repo/versions/v1.0.0/models/127.0.0.1.json"
    assert missing["rule"] == "M005" and missing["path"] == path
    assert "only an MD5" in missing["message"]
    command = missing["message"].split("run `repo-tools ")[1].rstrip("`")
    probe = cli(*command.split(), "--no-cache", cwd=tmp_path)
    assert probe.exit_code == 0, probe.stdout + probe.stderr
    [entry] = imported(tmp_path)
    assert entry["download"]["sha256"] == sha256_hex(data)
    assert entry["metadata"]["md5sum"] == hashlib.md5(data).hexdigest()
    assert lint_counts(tmp_path) == Counter({"V004": 1})  # plain http, on the loopback


def test_importing_twice_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([{"name": "M", "files": {"all": [{
        "name": "m.gguf", "url": "https://huggingface.co/o/r/resolve/main/m.gguf",
        "sizeBytes": 3, "sha256checksum": "a" * 64}]}}]))
    assert run_import(tmp_path, "lmstudio", catalog).exit_code == 0
    path = tmp_path / "repo" / "versions" / "v1.0.0" / "models" / "o.json"
    before = path.read_bytes()
    run = run_import(tmp_path, "lmstudio", catalog)
    assert run.exit_code == 1 and "refused to import" in run.stderr
    assert {f["rule"] for f in findings_json(run)} == {"V008"}
    assert path.read_bytes() == before


@pytest.mark.parametrize(("fmt", "text", "message"), [
    ("gpt4all", "{not json", "not valid JSON"),
    ("gpt4all", '{"a": 1}', "is not a gpt4all catalog"),
    ("localai", "- [unclosed", "not valid YAML"),
])
def test_unreadable_catalogs_are_usage_errors(tmp_path: Path, fmt: str, text: str,
                                              message: str) -> None:
    source = tmp_path / "catalog"
    source.write_text(text)
    run = run_import(tmp_path, fmt, source)
    assert run.exit_code == 2 and message in run.stderr
    assert "Traceback" not in run.stderr


def test_items_that_cannot_be_entries_are_left_out_and_named(tmp_path: Path) -> None:
    source = tmp_path / "models3.json"
    source.write_text(json.dumps([{"name": "no url"}, "text", {
        "name": "ok", "url": "https://example.org/ok.gguf", "sha256sum": "b" * 64,
        "filename": "ok.gguf", "filesize": "1", "requires": "2.0"}]))
    run = run_import(tmp_path, "gpt4all", source)
    found = findings_json(run)
    assert [(f["rule"], f["pointer"]) for f in found] == [("M006", "/0"), ("M006", "/1")]
    assert run.exit_code == 0 and "2 left out" in run.stderr
    assert [e["model"] for e in imported(tmp_path)] == ["ok"]


def test_a_provider_that_cannot_name_a_file_is_left_out(tmp_path: Path) -> None:
    source = tmp_path / "models3.json"
    source.write_text(json.dumps([{"name": "x", "url": "https://h.example/../r/resolve/m/x.gguf",
                                   "sha256sum": "b" * 64}]))
    run = run_import(tmp_path, "gpt4all", source)
    [left_out] = findings_json(run)
    assert left_out["rule"] == "M006" and "cannot name a model file" in left_out["message"]
    assert imported(tmp_path) == []
    run = run_import(tmp_path, "gpt4all", source, "--provider", "../up")
    assert [f["rule"] for f in findings_json(run)] == ["M006"]
    assert not (tmp_path / "repo" / "versions" / "v1.0.0" / "up.json").exists()
