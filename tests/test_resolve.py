"""`repo-tools resolve`: what a client gets, from a real checkout on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.helpers import cli, config, make_repo, model, run_tool, write_json

DESIGN_DOC_INDEX = {"versions": {
    "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.2.0"},
    "v1.1.0": {"min_client_version": "1.1.0", "max_client_version": None},
}}


def entry(name: str, ranking: int, **compat: Any) -> dict[str, Any]:
    return model(model=name, ranking=ranking, compatibility=compat)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path, {
        "v1.0.0/huggingface": {"schema_version": "2.0", "models": [
            entry("old-small", 5, min_client_version="1.0.0"),
            entry("old-big", 9, min_client_version="1.0.0")]},
        "v1.1.0/huggingface": {"schema_version": "2.0", "models": [
            entry("tiny", 1),
            entry("mac-only", 50, supported_platforms=["macos"]),
            entry("new", 20, min_client_version="1.1.0", max_client_version=None),
            entry("future", 99, min_client_version="5.0.0")]},
        "v1.1.0/other": {"schema_version": "2.0", "models": [
            model(provider="other", model="peer", ranking=20)]},
    }, DESIGN_DOC_INDEX)


@pytest.mark.parametrize(("client", "config"), [
    ("1.0.5", "v1.0.0"), ("1.1.0", "v1.1.0"), ("9.0.0", "v1.1.0")])
def test_design_doc_selection(repo: Path, client: str, config: str) -> None:
    run = cli("resolve", "--client-version", client, "--repo", repo, "--format", "json")
    assert run.exit_code == 0
    assert json.loads(run.stdout)["config_version"] == config


def test_models_are_filtered_and_ordered(repo: Path) -> None:
    run = cli("resolve", "--client-version", "1.5.0", "--platform", "linux", "--repo", repo,
              "--format", "json")
    doc = json.loads(run.stdout)
    assert doc["platform"] == "linux"
    # future (client range) and mac-only (platform) are left out; the two at ranking 20
    # are ordered by provider.
    assert [(m["provider"], m["model"]) for m in doc["models"]] == [
        ("huggingface", "new"), ("other", "peer"), ("huggingface", "tiny")]


def test_no_platform_means_every_platform(repo: Path) -> None:
    doc = json.loads(cli("resolve", "--client-version", "5.0.0", "--repo", repo,
                         "--format", "json").stdout)
    # peer's own range ends at 2.0.0 (the helper's default)
    assert [m["model"] for m in doc["models"]] == ["future", "mac-only", "new", "tiny"]


def test_text_output(repo: Path) -> None:
    run = cli("resolve", "--client-version", "1.0.5", "--repo", repo)
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert lines[0] == "client 1.0.5 -> v1.0.0 (2 models)"
    assert lines[2].split() == ["#", "ranking", "provider", "model", "version", "platforms"]
    assert lines[3].split() == ["1", "9", "huggingface", "old-big", "1.0.0", "any"]
    assert lines[4].split() == ["2", "5", "huggingface", "old-small", "1.0.0", "any"]


def test_no_config_for_the_client(repo: Path) -> None:
    run = cli("resolve", "--client-version", "0.9.0", "--repo", repo)
    assert run.exit_code == 1
    assert run.stdout == "client 0.9.0: no config version admits this client\n"
    doc = json.loads(cli("resolve", "--client-version", "0.9.0", "--repo", repo,
                         "--format", "json").stdout)
    assert doc["config_version"] is None and doc["models"] == []


def test_table(repo: Path) -> None:
    run = cli("resolve", "--table", "--repo", repo)
    assert run.exit_code == 0
    assert run.stdout.splitlines() == [
        "client versions     config version",
        "c < 1.0.0           (none)",
        "1.0.0 <= c < 1.1.0  v1.0.0",
        "c >= 1.1.0          v1.1.0",
    ]
    rows = json.loads(cli("resolve", "--table", "--repo", repo, "--format", "json").stdout)
    assert rows["table"] == [
        {"clients": "c < 1.0.0", "low": None, "high": "1.0.0", "config_version": None},
        {"clients": "1.0.0 <= c < 1.1.0", "low": "1.0.0", "high": "1.1.0",
         "config_version": "v1.0.0"},
        {"clients": "c >= 1.1.0", "low": "1.1.0", "high": None, "config_version": "v1.1.0"},
    ]


@pytest.mark.parametrize("args", [
    [], ["--table", "--client-version", "1.0.0"], ["--table", "--platform", "linux"]])
def test_usage_errors(repo: Path, args: list[str]) -> None:
    run = cli("resolve", "--repo", repo, *args)
    assert run.exit_code == 2


def test_bad_client_version(repo: Path) -> None:
    run = cli("resolve", "--client-version", "v1.0.0", "--repo", repo)
    assert run.exit_code == 2
    assert "has a 'v' prefix" in run.stderr


def test_unreadable_index_is_reported(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text('{"versions": {"v1.0.0": {"min_client_version": "1.0.0",')
    run = cli("resolve", "--client-version", "1.0.0", "--repo", tmp_path)
    assert run.exit_code == 1
    assert run.stdout == ""
    assert "index.json:1:" in run.stderr and "J003" in run.stderr


def test_missing_index_is_reported(tmp_path: Path) -> None:
    run = cli("resolve", "--table", "--repo", tmp_path)
    assert run.exit_code == 1 and "I001" in run.stderr


def test_invalid_entries_and_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "v1.1.0/good": {"schema_version": "2.0", "models": [model(model="ok")]},
        "v1.1.0/bad": b"{broken",
    }, {"versions": {"v1.0.0": {"min_client_version": "1.0.0"},
                     "v1.1.0": {"min_client_version": "1.0.0"},
                     "v2.0.0": {"min_client_version": "1.0"}}})
    run = cli("resolve", "--client-version", "1.5.0", "--repo", tmp_path, "--format", "json")
    assert run.exit_code == 0
    doc = json.loads(run.stdout)
    assert doc["config_version"] == "v1.1.0"
    assert [m["model"] for m in doc["models"]] == ["ok"]
    assert "V001" in run.stderr and "versions/v1.1.0/models/bad.json:1:2: J003" in run.stderr


def test_control_characters_do_not_reach_the_terminal(tmp_path: Path) -> None:
    make_repo(tmp_path, {"v1.0.0/p": {"schema_version": "2.0", "models": [
        model(model="evil\x1b[2Jname")]}},
        {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}})
    run = cli("resolve", "--client-version", "1.0.0", "--repo", tmp_path)
    assert "\x1b" not in run.stdout and "evil\\x1b[2Jname" in run.stdout


def test_real_process_on_the_example_repo(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    run = run_tool("resolve", "--client-version", "1.0.5", "--repo",
                   root / "examples" / "clean-repo", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["config_version"] == "v1.0.0"
    write_json(tmp_path / "index.json", DESIGN_DOC_INDEX)
    run = run_tool("resolve", "--table", "--repo", tmp_path)
    assert run.exit_code == 0 and "c >= 1.1.0          v1.1.0" in run.stdout


@pytest.fixture
def surrogate_repo(tmp_path: Path) -> Path:
    # json.dumps writes "star\ud800" as the escape, as a maintainer's file would hold it.
    doc = config(model(model="star\ud800", provider="p\udcff",
                       compatibility={"supported_platforms": ["linux\ud800"]}))
    return make_repo(tmp_path, {"v1.0.0/p": json.dumps(doc).encode("ascii")},
                     {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}})


def test_lone_surrogates_are_shown_escaped_in_text(surrogate_repo: Path) -> None:
    run = cli("resolve", "--client-version", "1.5.0", "--repo", surrogate_repo)
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert lines[0] == "client 1.5.0 -> v1.0.0 (1 model)"
    assert lines[3].split() == ["1", "10", "p\\udcff", "star\\ud800", "1.0.0", "linux\\ud800"]
    # escaped cell by cell, so the columns still line up
    assert lines[2].index("model") == lines[3].index("star")


def test_lone_surrogates_are_json_escapes_in_json(surrogate_repo: Path) -> None:
    run = cli("resolve", "--client-version", "1.5.0", "--repo", surrogate_repo,
              "--format", "json")
    assert run.exit_code == 0
    assert '"model": "star\\ud800"' in run.stdout
    [entry] = json.loads(run.stdout)["models"]
    assert entry["model"] == "star\ud800"  # the same string as in the file
    assert entry["compatibility"]["supported_platforms"] == ["linux\ud800"]


@pytest.mark.parametrize("args", [["--client-version", "1.5.0"],
                                  ["--client-version", "1.5.0", "--format", "json"],
                                  ["--table"], ["--table", "--format", "json"]])
def test_lone_surrogates_in_a_real_process(surrogate_repo: Path, args: list[str]) -> None:
    run = run_tool("resolve", "--repo", surrogate_repo, *args)
    assert run.exit_code == 0, run.stderr
    assert "Traceback" not in run.stderr
    if "--table" in args:
        assert "v1.0.0" in run.stdout
    else:
        assert "star\\ud800" in run.stdout


def test_platform_argument_is_shown_escaped(surrogate_repo: Path) -> None:
    # An argument that is not UTF-8 reaches Python as a lone surrogate (surrogateescape).
    run = cli("resolve", "--client-version", "1.5.0", "--platform", "li\udcffnux\x1b[2J",
              "--repo", surrogate_repo)
    assert run.exit_code == 0
    assert run.stdout == "client 1.5.0 on li\\udcffnux\\x1b[2J -> v1.0.0 (0 models)\n"
