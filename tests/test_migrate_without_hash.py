"""`migrate --without-hash`: v1 entries with an MD5 or no file_hash become v2 entries
without sha256 (the old hash kept), and `probe --hash --write` is the next step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from repo_tools.migrate import EXTRA_KEY, convert_v1
from tests.support.helpers import SHA_A, cli, findings_json, write_json
from tests.support.httpserver import Body, LoopbackServer, sha256_hex

MD5 = "A54C08A7B90E4029A8C2AB5B5DC936AA"


def v1(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "version": "1.0.0", "provider": "acme",
            "download_url": f"https://example.org/{name}.bin", "cache_path": f"acme/{name}",
            **extra}


def test_without_the_flag_md5_and_missing_hashes_still_refuse() -> None:
    result = convert_v1([v1("a", file_hash=MD5), v1("b")])
    assert result.document is None
    assert sorted(p.rule for p in result.problems) == ["M002", "M003"]


def test_md5_and_missing_hashes_convert_without_sha256_and_lose_nothing() -> None:
    result = convert_v1([v1("a", file_hash=MD5), v1("b"), v1("c", file_hash=SHA_A.upper())],
                        without_hash=True)
    assert result.document is not None and result.problems == []
    a, b, c = result.document["models"]
    assert "sha256" not in a["download"] and a["metadata"][EXTRA_KEY] == {"file_hash": MD5}
    assert "sha256" not in b["download"] and "metadata" not in b
    # A usable SHA-256 is converted as always (lower-cased).
    assert c["download"]["sha256"] == SHA_A
    assert result.without_sha256 == ["/models/0", "/models/1"]


def test_other_problems_still_refuse_with_the_flag() -> None:
    result = convert_v1([v1("a", version="v1")], without_hash=True)
    assert result.document is None
    assert {p.rule for p in result.problems} == {"M003"}


def test_existing_v1_extra_is_not_overwritten_by_the_set_aside_hash() -> None:
    entry = v1("a", file_hash=MD5, metadata={EXTRA_KEY: {"x": 1}})
    result = convert_v1([entry], without_hash=True)
    assert result.document is None and {p.rule for p in result.problems} == {"M004"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return tmp_path / "repo"


def test_cli_names_the_next_command_and_probe_write_fills_the_digest(
        tmp_path: Path, server: LoopbackServer, no_ambient_credentials: None) -> None:
    data = b"model bytes" * 500
    url = server.route("/a.bin", Body(data))
    path = write_json(tmp_path / "versions" / "v1.0.0" / "models" / "acme.json",
                      [{**v1("a", file_hash=MD5), "download_url": url}])
    shown = "versions/v1.0.0/models/acme.json"
    check = cli("migrate", "--without-hash", "--check", "--format", "json", cwd=tmp_path)
    assert check.exit_code == 1
    assert [f["rule"] for f in findings_json(check)] == ["M001", "M005"]
    assert "would be converted without sha256 (its file_hash is an MD5)" in (
        findings_json(check)[1]["message"])
    run = cli("migrate", "--without-hash", "--format", "json", cwd=tmp_path)
    [converted, missing] = findings_json(run)
    assert (converted["rule"], missing["rule"], missing["pointer"]) == (
        "M001", "M005", "/models/0/download")
    assert missing["line"] > 0
    assert missing["message"].endswith(f"run `repo-tools probe --hash --write {shown}`")
    assert "sha256" not in json.loads(path.read_text())["models"][0]["download"]
    command = missing["message"].split("run `repo-tools ")[1].rstrip("`").split()
    probe = cli(*command, "--no-cache", cwd=tmp_path)
    assert probe.exit_code == 0, probe.stdout + probe.stderr
    entry = json.loads(path.read_text())["models"][0]
    assert entry["download"]["sha256"] == sha256_hex(data)
    assert entry["metadata"][EXTRA_KEY]["file_hash"] == MD5
    validate = cli("validate", path, "--format", "json", cwd=tmp_path)
    assert [f["rule"] for f in findings_json(validate)] == ["V004"]
