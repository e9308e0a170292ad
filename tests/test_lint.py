"""`repo-tools lint`: every check on a whole repo, one merged report, one exit code."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from repo_tools.checks.platforms import unknown_platforms
from repo_tools.findings import Severity
from repo_tools.lint import LintResult, lint_repo
from repo_tools.settings import Settings
from tests.support.helpers import (
    SHA_A,
    cli,
    config,
    findings_json,
    make_repo,
    model,
    rules_of,
    run_tool,
)
from tests.support.httpserver import Body, LoopbackServer, Status

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
INDEX = {"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}}}
V1_ENTRY = {"name": "tiny", "provider": "legacy", "version": "1.0.0",
            "download_url": "https://example.com/tiny.bin", "file_hash": "B" * 64}


def clean_repo(root: Path) -> Path:
    return make_repo(root, {"v1.0.0/huggingface": config(model())}, INDEX)


def broken_repo(root: Path) -> Path:
    """One mistake per check: a bad hash (validate), a version directory missing from the
    index (index), a v1 file (migrate)."""
    bad_hash = model(download={"url": "https://example.com/m.gguf", "sha256": "abc",
                               "cachePath": "huggingface/m.gguf"})
    return make_repo(root, {
        "v1.0.0/huggingface": config(bad_hash),
        "v1.0.0/legacy": V1_ENTRY,
        "v2.0.0/huggingface": config(model()),
    }, INDEX)


def test_clean_repo_passes(tmp_path: Path) -> None:
    run = cli("lint", "--repo", clean_repo(tmp_path))
    assert run.exit_code == 0, run.stdout
    assert run.stdout == "All checks passed (2 files).\n"


def test_every_check_reports_into_one_report(tmp_path: Path) -> None:
    run = cli("lint", "--format", "json", cwd=broken_repo(tmp_path))
    assert run.exit_code == 1
    found = findings_json(run)
    by_rule = {f["rule"]: f for f in found}
    assert by_rule["V005"]["path"] == "versions/v1.0.0/models/huggingface.json"
    assert by_rule["V005"]["line"] > 0
    assert by_rule["I004"]["path"] == "index.json"  # v2.0.0 is not in the index
    assert by_rule["M001"]["path"] == "versions/v1.0.0/models/legacy.json"
    # migrate says more than validate's generic "this is v1", so S005 is dropped there
    assert "S005" not in by_rule
    assert json.loads(run.stdout)["summary"]["files"] == 4


def test_checks_option_selects_checks(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path)
    assert rules_of(cli("lint", "--format", "json", "--checks", "index", cwd=repo)) == {"I004"}
    only_validate = rules_of(cli("lint", "--format", "json", "--checks", "validate", cwd=repo))
    assert "S005" in only_validate and "I004" not in only_validate
    assert "M001" not in only_validate
    assert rules_of(cli("lint", "--format", "json", "--checks", "migrate", cwd=repo)) == {"M001"}


def test_checks_from_settings(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path)
    (repo / ".repo-tools.toml").write_text('checks = ["index"]\n')
    assert rules_of(cli("lint", "--format", "json", cwd=repo)) == {"I004"}
    # the command line wins over the settings
    assert "V005" in rules_of(cli("lint", "--format", "json", "--checks", "validate",
                                  cwd=repo))


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    run = cli("lint", "--checks", "validate,lint", cwd=clean_repo(tmp_path))
    assert run.exit_code == 2 and "unknown check 'lint'" in run.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    run = cli("lint", "--repo", empty)
    assert run.exit_code == 2 and "not a config repository" in run.stderr
    run = cli("lint", "--repo", tmp_path / "missing")
    assert run.exit_code == 2 and "not a directory" in run.stderr
    run = cli("lint", "--config", tmp_path / "nope.toml", cwd=clean_repo(tmp_path))
    assert run.exit_code == 2 and "no such settings file" in run.stderr


def test_settings_disable_and_severity_end_to_end(tmp_path: Path) -> None:
    insecure = model(download={"url": "http://example.com/m.gguf", "sha256": SHA_A,
                               "cachePath": "huggingface/m.gguf"})
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(insecure)}, INDEX)
    run = cli("lint", "--format", "json", cwd=repo)
    assert run.exit_code == 0 and rules_of(run) == {"V004"}  # a warning
    (repo / ".repo-tools.toml").write_text('[severity]\nV004 = "error"\n')
    run = cli("lint", "--format", "json", cwd=repo)
    assert run.exit_code == 1 and findings_json(run)[0]["severity"] == "error"
    (repo / ".repo-tools.toml").write_text('disable = ["insecure-url"]\n')
    assert cli("lint", cwd=repo).stdout == "All checks passed (2 files).\n"


def test_per_file_disable_is_relative_to_the_config_repo(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "configs", {
        "v1.0.0/huggingface": config(model(provider="other")),  # V009, file name mismatch
    }, INDEX)
    (repo / "pyproject.toml").write_text(
        '[tool.repo-tools.per-file-disable]\n"versions/*/models/huggingface.json" = ["V009"]\n')
    run = cli("lint", "--format", "json", "--repo", "configs", cwd=tmp_path)
    assert run.exit_code == 0 and findings_json(run) == []
    # A repo beside the working directory, not under it: shown as given, settings apply.
    (tmp_path / "work").mkdir()
    run = cli("lint", "--format", "json", "--repo", "../configs", cwd=tmp_path / "work")
    assert run.exit_code == 0 and findings_json(run) == []
    (repo / "pyproject.toml").unlink()
    run = cli("lint", "--format", "json", "--repo", "../configs", cwd=tmp_path / "work")
    assert [(f["rule"], f["path"]) for f in findings_json(run)] == [
        ("V009", "../configs/versions/v1.0.0/models/huggingface.json")]


def test_settings_problems_are_findings_and_lint_goes_on(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path)
    (repo / ".repo-tools.toml").write_text('disable = ["V005"]\nchekcs = ["index"]\n')
    run = cli("lint", "--format", "json", cwd=repo)
    found = findings_json(run)
    l001 = next(f for f in found if f["rule"] == "L001")
    assert l001["path"] == ".repo-tools.toml" and l001["line"] == 2
    assert "did you mean 'checks'?" in l001["message"]
    rules = {f["rule"] for f in found}
    assert "V005" not in rules and {"I004", "M001"} <= rules  # valid keys still apply


def test_broken_settings_file_fails_but_every_check_still_runs(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path)
    (repo / ".repo-tools.toml").write_text("disable = [\n")
    assert {"L003", "V005", "I004", "M001"} <= rules_of(cli("lint", "--format", "json",
                                                          cwd=repo))


def test_known_platforms(tmp_path: Path) -> None:
    entry = model(compatibility={"min_client_version": "1.0.0",
                                 "supported_platforms": ["linux", "MacOS", "templeos"]})
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(entry)}, INDEX)
    assert cli("lint", cwd=repo).exit_code == 0  # no list, no check
    (repo / ".repo-tools.toml").write_text('known-platforms = ["linux", "macos", "windows"]\n')
    run = cli("lint", "--format", "json", cwd=repo)
    assert run.exit_code == 0  # warnings only
    found = sorted(findings_json(run), key=lambda f: f["column"])
    assert [f["rule"] for f in found] == ["L004", "L004"]
    assert found[0]["pointer"] == "/models/0/compatibility/supported_platforms/1"
    assert "did you mean 'macos'?" in found[0]["message"]
    assert "(linux, macos, windows)" in found[1]["message"]
    text = (repo / "versions/v1.0.0/models/huggingface.json").read_text()
    line = text.splitlines()[found[0]["line"] - 1]
    assert line[found[0]["column"] - 1:].startswith('"MacOS"')
    assert cli("lint", "--strict", cwd=repo).exit_code == 1


def test_unknown_platforms_ignores_shapes_it_does_not_understand() -> None:
    known = frozenset({"linux"})
    for data in ([], {"models": 3}, {"models": [1, {"compatibility": []}]},
                 {"models": [{"compatibility": {"supported_platforms": [3, None, "linux"]}}]}):
        assert unknown_platforms("a.json", data, known) == []


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_every_output_format(tmp_path: Path, fmt: str) -> None:
    run = cli("lint", "--format", fmt, cwd=broken_repo(tmp_path))
    assert run.exit_code == 1
    if fmt == "text":
        assert "V005" in run.stdout and run.stdout.rstrip().endswith("in 4 files.")
    elif fmt == "json":
        assert {"V005", "I004", "M001"} <= rules_of(run)
    elif fmt == "github":
        lines = run.stdout.splitlines()
        assert lines and all(line.startswith(("::error ", "::warning ")) for line in lines)
        assert any("title=M001" in line for line in lines)
    else:
        doc = json.loads(run.stdout)
        schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
        jsonschema.Draft4Validator(schema).validate(doc)
        assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"V005", "I004", "M001"}


def test_library_call_stays_backward_compatible(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path)
    result = lint_repo(repo, base=repo)
    assert isinstance(result, LintResult)
    assert result.checks == ("validate", "index", "migrate")
    assert {f.rule for f in result.findings} >= {"V005", "I004", "M001"}
    assert result.files == 4
    # explicit settings are used as given (the repo's file is not read)
    (repo / ".repo-tools.toml").write_text('disable = ["V005"]\n')
    given = lint_repo(repo, base=repo, settings=Settings(disable=frozenset({"M001"})))
    assert "V005" in {f.rule for f in given.findings}
    assert "M001" not in {f.rule for f in given.findings}


def test_lint_never_rewrites_files(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path)
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    cli("lint", "--repo", repo)
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before


def _probe_repo(root: Path, url_ok: str, url_missing: str) -> Path:
    first = model(download={"url": url_ok, "sha256": SHA_A, "cachePath": "a/one.bin"})
    second = model(model="other", download={"url": url_missing, "sha256": SHA_A,
                                            "cachePath": "a/two.bin"})
    return make_repo(root, {"v1.0.0/huggingface": config(first, second)}, INDEX)


def test_probe_adds_the_network_check(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/one.bin", Body(b"x" * 10))
        server.route("/two.bin", Status(404))
        repo = _probe_repo(tmp_path, server.url("/one.bin"), server.url("/two.bin"))
        (repo / ".repo-tools.toml").write_text("[probe]\nretries = 0\ncache = false\n")
        offline = cli("lint", "--format", "json", cwd=repo)
        assert server.count("/two.bin", "HEAD") + server.count("/two.bin", "GET") == 0
        online = cli("lint", "--format", "json", "--probe", cwd=repo)
    assert "P001" not in rules_of(offline)
    p001 = [f for f in findings_json(online) if f["rule"] == "P001"]
    assert len(p001) == 1 and p001[0]["pointer"].startswith("/models/1/")
    assert online.exit_code == 1


def test_a_blob_url_is_reported_once_with_probe(tmp_path: Path) -> None:
    # V011 (offline) and P007 (probe) are the same problem: lint --probe reports it once.
    with LoopbackServer() as server:
        server.route("/one.bin", Body(b"x" * 10))
        blob = "https://huggingface.co/acme/m/blob/main/m.gguf"
        repo = _probe_repo(tmp_path, server.url("/one.bin"), blob)
        (repo / ".repo-tools.toml").write_text("[probe]\nretries = 0\ncache = false\n")
        online = cli("lint", "--format", "json", "--probe", cwd=repo)
        alone = cli("probe", "--format", "json", cwd=repo)
    found = [(f["rule"], f["pointer"]) for f in findings_json(online)]
    assert ("V011", "/models/1/download/url") in found
    assert [rule for rule, pointer in found if pointer == "/models/1/download/url"] == ["V011"]
    assert "P007" in rules_of(alone)  # probe on its own keeps its own check


def test_relative_probe_paths_are_relative_to_the_config_repo(tmp_path: Path) -> None:
    # Settings travel with the repo: lint run from elsewhere (--repo) uses the same cache.
    with LoopbackServer() as server:
        server.route("/one.bin", Body(b"x", etag='"1"'))
        server.route("/two.bin", Body(b"y", etag='"2"'))
        repo = _probe_repo(tmp_path / "repo", server.url("/one.bin"), server.url("/two.bin"))
        (repo / ".repo-tools.toml").write_text(
            '[probe]\nretries = 0\nhash = "full"\ncache-dir = "hash-cache"\n')
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        run = cli("lint", "--format", "json", "--probe", "--repo", repo, cwd=elsewhere)
    assert "P002" not in rules_of(run), run.stdout
    assert (repo / "hash-cache").is_dir()
    assert list(elsewhere.iterdir()) == []


def test_a_missing_ca_bundle_is_a_usage_error(tmp_path: Path) -> None:
    # Nothing listens on port 9 of the loopback address: no request can leave the machine.
    repo = _probe_repo(tmp_path / "repo", "http://127.0.0.1:9/a", "http://127.0.0.1:9/b")
    (repo / ".repo-tools.toml").write_text('[probe]\nretries = 0\nca-bundle = "ca.pem"\n')
    run = cli("lint", "--probe", "--repo", "repo", cwd=tmp_path)
    assert run.exit_code == 2 and "Traceback" not in run.stderr
    # relative to the config repo, not to where lint runs
    assert "ca-bundle: no such file: repo/ca.pem" in run.stderr, run.stdout


def test_probe_from_settings_checks(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/one.bin", Body(b"x"))
        server.route("/two.bin", Status(404))
        repo = _probe_repo(tmp_path, server.url("/one.bin"), server.url("/two.bin"))
        (repo / ".repo-tools.toml").write_text(
            'checks = ["validate", "probe"]\n[probe]\nretries = 0\ncache = false\n')
        run = cli("lint", "--format", "json", cwd=repo)
    assert "P001" in rules_of(run)


def test_unusable_netrc_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    # Nothing listens on port 9 of the loopback address: no request can leave the machine.
    repo = _probe_repo(tmp_path / "repo", "http://127.0.0.1:9/a", "http://127.0.0.1:9/b")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine example.com login x password hunter2 bogus\n")
    netrc.chmod(0o600)
    env = {**os.environ, "NETRC": str(netrc)}
    run = run_tool("lint", "--probe", cwd=repo, env=env)
    assert run.exit_code == 2 and "Traceback" not in run.stderr
    assert "netrc" in run.stderr and "hunter2" not in run.stderr + run.stdout


def test_result_carries_settings(tmp_path: Path) -> None:
    repo = clean_repo(tmp_path)
    (repo / ".repo-tools.toml").write_text('known-platforms = ["linux"]\n')
    result = lint_repo(repo, base=repo)
    assert result.settings.known_platforms == {"linux"}
    assert all(f.severity is Severity.WARNING for f in result.findings)  # macos -> L004


def _lint_json(repo: Path) -> dict[str, Any]:
    run = cli("lint", "--format", "json", cwd=repo)
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_the_report_is_deterministic(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path)
    assert _lint_json(repo) == _lint_json(repo)


def _keys(run_findings: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(f["rule"], f["path"], f["pointer"]) for f in run_findings}


def test_lint_is_exactly_the_single_checks_merged() -> None:
    # On the shipped broken example: lint = validate + check-index + migrate --check,
    # except validate's S005 on files that migrate reports on (it says more there).
    repo = Path(__file__).resolve().parents[1] / "examples" / "broken-repo"
    lint = _keys(findings_json(cli("lint", "--format", "json", cwd=repo)))
    validate = _keys(findings_json(cli("validate", "--format", "json", cwd=repo)))
    index = _keys(findings_json(cli("check-index", "--format", "json", cwd=repo)))
    migrate = _keys(findings_json(cli("migrate", "--check", "--format", "json", cwd=repo)))
    explained = {path for _, path, _ in migrate}
    expected = {k for k in validate if not (k[0] == "S005" and k[1] in explained)}
    assert lint == expected | index | migrate
    assert validate and index and migrate  # each check really contributed


@pytest.mark.parametrize("subset", [("validate",), ("index",), ("migrate",),
                                    ("validate", "index"), ("validate", "migrate"),
                                    ("index", "migrate")])
def test_a_subset_of_checks_is_a_subset_of_the_report(subset: tuple[str, ...]) -> None:
    repo = Path(__file__).resolve().parents[1] / "examples" / "broken-repo"
    full = {(f.rule, f.path, f.pointer) for f in lint_repo(repo, base=repo).findings}
    part = lint_repo(repo, base=repo, checks=subset)
    assert part.checks == subset
    keys = {(f.rule, f.path, f.pointer) for f in part.findings}
    if "validate" in subset and "migrate" not in subset:
        keys = {k for k in keys if k[0] != "S005"}  # lint without migrate keeps S005
    assert keys <= full and keys


def test_known_platforms_belongs_to_validate(tmp_path: Path) -> None:
    entry = model(compatibility={"supported_platforms": ["plan9"]})
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(entry)}, INDEX)
    (repo / ".repo-tools.toml").write_text('known-platforms = ["linux"]\n')
    assert rules_of(cli("lint", "--format", "json", cwd=repo)) == {"L004"}
    assert rules_of(cli("lint", "--format", "json", "--checks", "index", cwd=repo)) == set()


def test_files_a_release_would_refuse_are_errors_before_the_release(tmp_path: Path) -> None:
    from tests.support.helpers import git

    repo = clean_repo(tmp_path / "repo")
    (repo / ".gitignore").write_text(".DS_Store\n")
    git(tmp_path, "init", "-q", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    (repo / "versions/v1.0.0/.DS_Store").write_bytes(b"\0\1")  # ignored: never published
    (repo / "versions/v1.0.0/scratch.txt").write_text("untracked\n")  # release: R035 first
    (repo / "versions/v1.0.0/CHANGES.md").write_text("what changed\n")
    git(repo, "add", "versions/v1.0.0/CHANGES.md")  # staged, as a pre-commit hook sees it
    run = cli("lint", "--format", "json", cwd=repo)
    assert run.exit_code == 1
    found = findings_json(run)
    assert [(f["rule"], f["severity"], f["path"]) for f in found] == [
        ("R036", "error", "versions/v1.0.0/CHANGES.md")]
    assert "move it out of versions/ or delete it" in found[0]["message"]
    # check-index (its pre-commit hook runs on any versions/ change) says the same
    index = cli("check-index", "--format", "json", cwd=repo)
    assert index.exit_code == 1 and findings_json(index) == found
    assert "unpublishable-file" in cli("rules", "R036").stdout


@pytest.mark.parametrize("shown_from", ["repo", "elsewhere"])
def test_validate_on_lints_listing_needs_no_folder_listed_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shown_from: str) -> None:
    # lint names every model file, so validate_paths(whole_folders=True) does not list each
    # folder again for siblings: the findings (cross-file ones included) must be the same.
    from repo_tools import repo as repo_layout
    from repo_tools.checks.validate import validate_paths

    twin = model(download={"url": "https://example.com/m.gguf", "sha256": SHA_A,
                           "cachePath": "huggingface/m.gguf"})
    nested = model(model="other", download={"url": "https://example.com/o.gguf",
                                            "sha256": "b" * 64,
                                            "cachePath": "huggingface/m.gguf/o.gguf"})
    repo = make_repo(tmp_path / "repo", {
        "v1.0.0/huggingface": config(twin),
        "v1.0.0/Huggingface-copy": config(twin, nested),
        "versions/v1.0.0/models/.hidden.json": config(twin),
        "v2.0.0/huggingface": config(model()),
        "v2.0.0/broken": b"{not json",
    }, INDEX)
    base = tmp_path / shown_from
    base.mkdir(exist_ok=True)
    monkeypatch.chdir(base)  # `--repo ../repo` from elsewhere: paths shown as `../repo/...`
    paths = repo_layout.model_file_names(repo if shown_from == "repo" else
                                         Path(os.path.relpath(repo, base)))
    listed = validate_paths(paths, base, whole_folders=True).findings
    assert listed == validate_paths(paths, base).findings
    assert {"V007", "V008", "J003"} <= {f.rule for f in listed}
    assert any(f.path.endswith("/.hidden.json") for f in listed)
