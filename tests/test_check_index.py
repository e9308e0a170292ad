"""`repo-tools check-index`: fixture repos per rule, output formats, and the range verdicts
against the brute-force oracle of test_compat."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from repo_tools import schemas
from repo_tools.checks.index import analyse, check_index, plainly_valid
from repo_tools.checks.validate import schema_findings
from repo_tools.compat import IndexEntry
from repo_tools.lint import lint_repo
from tests.support.helpers import (
    SHA_A,
    PreCommit,
    cli,
    config,
    findings_json,
    git,
    make_repo,
    model,
    rules_of,
    write_json,
)
from tests.test_compat import CLIENTS, NEWEST_CLIENT, by_precedence, cmp, indexes, oracle_admits
from tests.test_compat import oracle_select as select

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "index"

# Each fixture case has fail/ (this finding, at this place) and pass/ (no finding at all).
EXPECTED = {
    "J003-invalid-json": ("J003", "index.json", 3, 46),
    "J004-duplicate-key": ("J004", "index.json", 4, 5),
    "S003-unknown-key": ("S003", "index.json", 5, 7),
    "V001-bad-bound": ("V001", "index.json", 4, 29),
    "V002-min-above-max": ("V002", "index.json", 8, 29),
    "I001-missing-index": ("I001", "index.json", 0, 0),
    "I002-missing-version-dir": ("I002", "index.json", 7, 15),
    "I003-bad-name": ("I003", "index.json", 3, 14),
    "I004-unindexed-dir": ("I004", "index.json", 2, 15),
    "I005-non-monotonic": ("I005", "index.json", 5, 29),
    "I006-dead-config-version": ("I006", "index.json", 3, 15),
    "I007-client-gap": ("I007", "index.json", 5, 29),
    "I008-unreachable-model": ("I008", "versions/v1.0.0/models/example.json", 29, 24),
    "I009-open-ended-range": ("I009", "index.json", 5, 29),
    "I010-ambiguous-config-version": ("I010", "index.json", 7, 17),
    "I011-empty-index": ("I011", "index.json", 2, 15),
    "I012-major-overlap": ("I012", "index.json", 5, 29),
}
WARNINGS = {"I007", "I008", "I009", "I012"}


def test_every_rule_of_the_family_has_fixtures() -> None:
    from repo_tools.rules import index

    assert {code for code, *_ in EXPECTED.values()} >= {r.code for r in index.RULES}
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_failing_fixture(case: str) -> None:
    repo = FIXTURES / case / "fail"
    run = cli("check-index", "--format", "json", cwd=repo)
    rule, path, line, column = EXPECTED[case]
    found = [(f["rule"], f["path"], f["line"], f["column"]) for f in findings_json(run)]
    assert (rule, path, line, column) in found, found
    assert run.exit_code == (0 if rule in WARNINGS else 1)
    assert cli("check-index", "--strict", cwd=repo).exit_code == 1


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_passing_fixture(case: str) -> None:
    run = cli("check-index", "--repo", FIXTURES / case / "pass", "--strict")
    assert run.exit_code == 0, run.stdout
    assert "All checks passed" in run.stdout


def test_messages_name_the_clients_and_config_versions() -> None:
    run = cli("check-index", cwd=FIXTURES / "I005-non-monotonic" / "fail")
    assert ("client 1.5.1 gets v1.0.0 but the older client 1.1.0 already gets v1.1.0"
            in run.stdout)
    run = cli("check-index", cwd=FIXTURES / "I007-client-gap" / "fail")
    assert "no config version admits clients 1.2.0 < c < 1.4.0" in run.stdout
    run = cli("check-index", cwd=FIXTURES / "I006-dead-config-version" / "fail")
    assert "v1.0.0 admits 1.1.0 <= c <= 1.2.0 but no client ever selects it" in run.stdout
    run = cli("check-index", cwd=FIXTURES / "I012-major-overlap" / "fail")
    assert ("I012 (warning) client 1.4.0 is admitted by both v1.0.0 and v2.0.0: they get "
            "MAJOR 2 (or higher), a breaking config for a client built for MAJOR 1"
            in run.stdout)


def test_major_overlap_names_the_shared_range_once_per_pair(tmp_path: Path) -> None:
    index = {"versions": {
        "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "2.3.0"},
        "v1.1.0": {"min_client_version": "2.4.0", "max_client_version": None},
        "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": "3.0.0"},
        "v0.9.0": {"min_client_version": "0.1.0", "max_client_version": "1.0.0"},
    }}
    repo = make_repo(tmp_path, {f"{v}/example": {"schema_version": "2.0", "models": []}
                                for v in index["versions"]}, index)
    found = [f for f in findings_json(cli("check-index", "--format", "json", cwd=repo))
             if f["rule"] == "I012"]
    assert sorted((f["pointer"], f["message"].split(":")[0]) for f in found) == [
        ("/versions/v0.9.0/max_client_version", "client 1.0.0 is admitted by both v0.9.0 "
                                                "and v1.0.0"),
        ("/versions/v1.0.0/max_client_version", "clients 2.0.0 <= c <= 2.3.0 are admitted by "
                                                "both v1.0.0 and v2.0.0"),
        ("/versions/v1.1.0/max_client_version", "clients 2.4.0 <= c <= 3.0.0 are admitted by "
                                                "both v1.1.0 and v2.0.0"),
    ]


def test_gap_of_only_prereleases_explains_itself(tmp_path: Path) -> None:
    make_repo(tmp_path, {"v1.0.0/p": {"schema_version": "2.0", "models": [model()]},
                         "v1.1.0/p": {"schema_version": "2.0", "models": [model()]}},
              {"versions": {"v1.0.0": {"min_client_version": "1.0.0",
                                       "max_client_version": "1.2.0"},
                            "v1.1.0": {"min_client_version": "1.2.1"}}})
    run = cli("check-index", "--repo", tmp_path)
    assert "1.2.0 < c < 1.2.1" in run.stdout
    assert "only pre-releases of 1.2.1" in run.stdout


@pytest.mark.parametrize("fmt", ["github", "sarif", "json", "text"])
def test_output_formats(fmt: str) -> None:
    run = cli("check-index", "--format", fmt, cwd=FIXTURES / "I005-non-monotonic" / "fail")
    assert run.exit_code == 1
    if fmt == "github":
        assert run.stdout.startswith("::error file=index.json,line=5,col=29,title=I005::")
    elif fmt == "sarif":
        result = json.loads(run.stdout)["runs"][0]["results"][0]
        assert result["ruleId"] == "I005"
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    elif fmt == "json":
        assert json.loads(run.stdout)["summary"]["by_rule"] == {"I005": 1}
    else:
        assert run.stdout.startswith("index.json:5:29: I005 ")


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    run = cli("check-index", "--format", "json", "--output", out,
              cwd=FIXTURES / "I006-dead-config-version" / "fail")
    assert run.exit_code == 1 and run.stdout == ""
    assert json.loads(out.read_text())["summary"]["errors"] == 1


def test_missing_repo_is_a_usage_error(tmp_path: Path) -> None:
    run = cli("check-index", "--repo", tmp_path / "nope")
    assert run.exit_code == 2
    assert "no such directory" in run.stderr


@pytest.mark.parametrize(("text", "rule"), [
    (b"", "J005"), (b"[]", "S002"), (b'{"versions": []}', "S002"),
    (b'{"versions": {}, "extra": 1}', "S003"), (b'{"versions": {"v1.0.0": {}}}', "S001"),
    (b'{"versions": {"v1.0.0": {"min_client_version": 1}}}', "S002"),
    (b'{"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "v2"}}}',
     "V001"),
    (b'\xef\xbb\xbf{"versions": {}}', "J002"), (b'{"versions": {"v1.0.0": {"min', "J003"),
])
def test_bad_index_files_give_findings_not_tracebacks(tmp_path: Path, text: bytes,
                                                      rule: str) -> None:
    (tmp_path / "index.json").write_bytes(text)
    (tmp_path / "versions" / "v1.0.0" / "models").mkdir(parents=True)
    run = cli("check-index", "--repo", tmp_path, "--format", "json")
    assert run.exit_code == 1
    assert rule in rules_of(run)
    assert all(f["line"] >= 1 for f in findings_json(run)), findings_json(run)


def test_findings_on_a_repeated_entry_point_at_the_one_in_effect(tmp_path: Path) -> None:
    text = ('{"versions": {\n'
            '  "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "2.0.0"},\n'
            '  "v1.0.0": {"min_client_version": "3.0.0", "max_client_version": "2.0.0"}\n'
            "}}\n")
    (tmp_path / "index.json").write_text(text)
    (tmp_path / "versions" / "v1.0.0").mkdir(parents=True)
    found = findings_json(cli("check-index", "--repo", tmp_path, "--format", "json"))
    # I002: the folder holds no model file
    assert {(f["rule"], f["line"]) for f in found} == {("J004", 3), ("V002", 3), ("I002", 3)}
    v002 = next(f for f in found if f["rule"] == "V002")
    assert text.splitlines()[2][v002["column"] - 1:].startswith('"3.0.0"')


def test_index_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "index.json").mkdir()
    run = cli("check-index", "--repo", tmp_path, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"J008"}


def test_range_checks_wait_for_a_valid_index(tmp_path: Path) -> None:
    """A typo'd key would read as an open range: no range verdicts until it is fixed."""
    write_json(tmp_path / "index.json", {"versions": {
        "v1.0.0": {"min_client_version": "1.0.0", "max_client_verison": "1.2.0"},
        "v1.1.0": {"min_client_version": "1.1.0"}}})
    for name in ("v1.0.0", "v1.1.0"):
        (tmp_path / "versions" / name).mkdir(parents=True)
    run = cli("check-index", "--repo", tmp_path, "--format", "json")
    assert rules_of(run) == {"S003", "I002"}  # I002: the folders hold no model file


def test_badly_named_directory_without_entry(tmp_path: Path) -> None:
    write_json(tmp_path / "index.json", {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}})
    for name in ("v1.0.0", "latest", "V1.1.0", ".hidden"):
        (tmp_path / "versions" / name).mkdir(parents=True)
    (tmp_path / "versions" / "README.md").write_text("not a config version\n")
    found = findings_json(cli("check-index", "--format", "json", cwd=tmp_path))
    assert sorted((f["rule"], f["path"]) for f in found) == [
        ("I002", "index.json"),  # versions/v1.0.0/models/ holds no model file
        ("I003", "versions/V1.1.0"), ("I003", "versions/latest"),
        ("I004", "index.json"), ("I004", "index.json"),
        ("R036", "versions/README.md")]  # not a config version, and never published
    assert any("upper-case 'V'; name it 'v1.1.0'" in f["message"] for f in found)


def test_unreadable_model_files_are_left_to_validate(tmp_path: Path) -> None:
    make_repo(tmp_path, {"v1.0.0/a": b"{not json",
                         "v1.0.0/b": {"schema_version": "2.0", "models": [
                             "not a model",
                             model(compatibility={"min_client_version": "1.0"}),
                             model(compatibility={"min_client_version": "3.0.0",
                                                  "max_client_version": "2.0.0"}),
                             model(compatibility={"min_client_version": "0.1.0",
                                                  "max_client_version": "0.2.0"})]}},
              {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}})
    found = findings_json(cli("check-index", "--repo", tmp_path, "--format", "json"))
    assert [(f["rule"], f["pointer"]) for f in found] == [("I008", "/models/3/compatibility")]


def test_unreachable_findings_skip_what_model_client_range_refuses() -> None:
    # Entries are measured once per distinct pair of bounds; a bound that is a list (not
    # hashable) or a compatibility that is not an object must not change which get I008.
    from repo_tools.checks.index import unreachable_findings
    from repo_tools.compat import Interval
    from repo_tools.model import EntrySummary

    def entry(index: int, low: Any, high: Any, is_object: bool = True) -> EntrySummary:
        return EntrySummary("m.json", f"/models/{index}", "p", f"m{index}", "1.0.0", None,
                            None, low, high, is_object)

    selected = Interval.closed("1.0.0", None)
    assert selected is not None
    ranges = [selected]
    entries = [entry(0, "1.0.0", None), entry(1, "0.1.0", "0.2.0"), entry(2, "0.1", None),
               entry(3, None, None, False), entry(4, "0.1.0", "0.2.0"), entry(5, "2.0.0", None)]
    expected = ["/models/1/compatibility", "/models/4/compatibility"]
    for listed in ([], [entry(6, ["0.1.0"], None)]):
        found = unreachable_findings([*entries, *listed], "v1.0.0", ranges, {})
        assert [f.pointer for f in found] == expected
    assert unreachable_findings(entries[:1] + entries[2:4] + entries[5:], "v1.0.0", ranges,
                                {}) == []


def test_lint_includes_the_index_checks() -> None:
    repo = FIXTURES / "I006-dead-config-version" / "fail"
    result = lint_repo(repo, base=repo)
    assert "I006" in {f.rule for f in result.findings}


def test_design_doc_example_passes() -> None:
    # the pass fixture of I005 is the design doc's index
    repo = FIXTURES / "I005-non-monotonic" / "pass"
    assert json.loads((repo / "index.json").read_text()) == {"versions": {
        "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.2.0"},
        "v1.1.0": {"min_client_version": "1.1.0", "max_client_version": None}}}
    assert check_index(repo, repo) == []


def test_example_repos() -> None:
    assert check_index(ROOT / "examples" / "clean-repo", ROOT) == []
    broken = check_index(ROOT / "examples" / "broken-repo", ROOT)
    assert any(f.rule.startswith("I") for f in broken), broken


def test_hook_manifest_entry() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["check-index"]
    assert hook["entry"] == "repo-tools check-index"
    assert hook["files"] == r"^(index\.json|versions/.*)$"
    assert hook["pass_filenames"] is False
    pattern = re.compile(hook["files"])
    assert pattern.search("index.json") and pattern.search("versions/v1.0.0/models/a.json")
    assert not pattern.search("docs/index.json")
    assert not pattern.search("README.md")


@pytest.mark.e2e
def test_hook_through_pre_commit(tmp_path: Path, pre_commit: PreCommit) -> None:
    target = tmp_path / "target"
    shutil.copytree(FIXTURES / "I005-non-monotonic" / "fail", target)
    git(target, "init", "-q")
    git(target, "add", "-A")

    def hook() -> subprocess.CompletedProcess[str]:
        return pre_commit.run(target, "check-index")

    failed = hook()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "index.json:5:29: I005 client 1.5.1 gets v1.0.0" in failed.stdout
    shutil.copy(FIXTURES / "I005-non-monotonic" / "pass" / "index.json", target / "index.json")
    git(target, "add", "-A")
    passed = hook()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"check index\.json\.+Passed", passed.stdout)


# -- the fast path that skips jsonschema ---------------------------------------------------

_values = st.sampled_from(["1.0.0", "2.0.0-rc.1", "1.0", "v1.0.0", "1.0.0\n", None, 1, [], {}])
_entries = st.one_of(
    st.dictionaries(st.sampled_from(["min_client_version", "max_client_version",
                                     "max_client_verison"]), _values, max_size=3),
    _values)
_names = st.sampled_from(["v1.0.0", "v2.0.0-rc.1+b", "1.0.0", "V1.0.0", "v1.0", "v01.0.0", ""])
_documents = st.one_of(
    st.fixed_dictionaries({"versions": st.dictionaries(_names, _entries, max_size=4)}),
    st.dictionaries(st.sampled_from(["versions", "extra"]),
                    st.one_of(_values, st.dictionaries(_names, _entries, max_size=2)),
                    max_size=2),
    _values)


@given(_documents)
def test_plainly_valid_implies_the_schema_agrees(data: Any) -> None:
    if plainly_valid(data):
        assert schema_findings("index.json", data, schemas.INDEX) == []


def test_plainly_valid_accepts_the_design_doc_index() -> None:
    assert plainly_valid({"versions": {
        "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.2.0"},
        "v1.1.0": {"min_client_version": "1.1.0", "max_client_version": None}}})


# -- the range verdicts against the oracle ------------------------------------------------


def oracle_verdicts(entries: list[IndexEntry]) -> dict[str, Any]:
    picks = [(c, select(entries, c)) for c in CLIENTS]
    chosen = [(c, v) for c, v in picks if v is not None]
    downgrade = any(by_precedence(chosen[j][1][1:]) < by_precedence(chosen[i][1][1:])
                    for i in range(len(chosen)) for j in range(i + 1, len(chosen)))
    selected = {v for _, v in chosen}
    live = [e for e in entries if any(oracle_admits(e, c) for c in CLIENTS)]
    dead = {e.config_version for e in live if e.config_version not in selected}
    gap_points: list[str] = []
    if live:
        low = min((e.min_client_version for e in live), key=by_precedence)
        highs = [e.max_client_version for e in live]
        high = None if None in highs else max(highs, key=by_precedence)  # type: ignore[type-var]
        gap_points = [c for c, v in picks if v is None and cmp(low, c) <= 0
                      and (high is None or cmp(c, high) <= 0)]
    runs, previous = 0, None
    for position, (c, _) in enumerate(picks):
        if c in gap_points:
            runs += previous != position - 1
            previous = position
    newest = select(entries, NEWEST_CLIENT)
    open_ended = {e.config_version for e in entries
                  if e.max_client_version is None and e.config_version != newest}
    # Every client range end is in CLIENTS, so two ranges that meet share one of them.
    major_pairs = {(a.config_version, b.config_version) for a in entries for b in entries
                   if major_of(a) < major_of(b)
                   and any(oracle_admits(a, c) and oracle_admits(b, c) for c in CLIENTS)}
    return {"downgrade": downgrade, "dead": dead, "gap_points": gap_points, "gap_runs": runs,
            "open_ended": open_ended, "major_pairs": major_pairs}


def major_of(entry: IndexEntry) -> int:
    return int(entry.config_version[1:].split(".")[0])


@given(indexes())
def test_analysis_matches_the_oracle(entries: list[IndexEntry]) -> None:
    expected = oracle_verdicts(entries)
    analysis = analyse(entries)
    assert bool(analysis.downgrades) == expected["downgrade"]
    for down in analysis.downgrades:
        old_client, new_client = down.older.clients.witness(), down.newer.clients.witness()
        assert cmp(old_client, new_client) < 0
        assert select(entries, old_client) == down.older.config_version
        assert select(entries, new_client) == down.newer.config_version
        assert cmp(down.newer.config_version[1:], down.older.config_version[1:]) < 0
    assert {e.config_version for e in analysis.dead} == expected["dead"]
    assert [c for c in CLIENTS if any(g.contains(c) for g in analysis.gaps)] == (
        expected["gap_points"])
    assert len(analysis.gaps) == expected["gap_runs"]  # no gap without a client in it
    assert {e.config_version for e in analysis.open_ended} == expected["open_ended"]
    pairs = [(o.lower.config_version, o.higher.config_version) for o in analysis.major_overlaps]
    lowers = [low for low, _ in pairs]
    # One report per entry that shares clients with a higher MAJOR, naming a true pair.
    assert sorted(lowers) == sorted({low for low, _ in expected["major_pairs"]})
    assert set(pairs) <= expected["major_pairs"]
    for overlap in analysis.major_overlaps:
        # exactly the clients both admit
        assert [c for c in CLIENTS if overlap.clients.contains(c)] == [
            c for c in CLIENTS
            if oracle_admits(overlap.lower, c) and oracle_admits(overlap.higher, c)]


@given(indexes())
def test_check_index_verdicts_match_the_oracle(entries: list[IndexEntry]) -> None:
    expected = oracle_verdicts(entries)
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        write_json(repo / "index.json", {"versions": {
            e.config_version: {"min_client_version": e.min_client_version,
                               "max_client_version": e.max_client_version} for e in entries}})
        for e in entries:  # a model file each, or every entry is I002
            write_json(repo / "versions" / e.config_version / "models" / "acme.json",
                       {"schema_version": "2.0", "models": []})
        found = check_index(repo, repo)
    by_rule: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for f in found:
        by_rule.setdefault(f.rule, set()).add(f.pointer)
        counts[f.rule] = counts.get(f.rule, 0) + 1
        assert f.line >= 1
    assert ("I005" in by_rule) == expected["downgrade"]
    assert by_rule.get("I006", set()) == {f"/versions/{v}" for v in expected["dead"]}
    assert counts.get("I007", 0) == expected["gap_runs"]
    assert by_rule.get("I009", set()) == {f"/versions/{v}/max_client_version"
                                          for v in expected["open_ended"]}
    empty = {e.config_version for e in entries
             if not any(oracle_admits(e, c) for c in CLIENTS)}
    assert by_rule.get("V002", set()) == {f"/versions/{v}/min_client_version" for v in empty}
    assert ("I011" in by_rule) == (not entries)
    assert counts.get("I012", 0) == len({low for low, _ in expected["major_pairs"]})
    assert by_rule.get("I012", set()) == {f"/versions/{low}/max_client_version"
                                          for low, _ in expected["major_pairs"]}
    assert set(by_rule) <= {"I005", "I006", "I007", "I009", "V002", "I011", "I012"}


@pytest.mark.parametrize("cached", [False, True])
def test_lint_reports_unreachable_models_as_check_index_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool) -> None:
    # lint takes I008 from validate's pass over the summaries; check-index reads them
    # itself. Same findings, positions included, with and without a warm cache.
    from repo_tools.checks.summaries import CACHED_FROM

    monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(tmp_path / "cache"))
    files = {f"v1.0.0/p-{i:03d}": config(model(
        provider=f"p-{i:03d}", download={"url": f"https://h/{i}", "sha256": SHA_A,
                                         "cachePath": f"p/{i}.gguf"},
        compatibility={"min_client_version": "0.1.0", "max_client_version": "0.2.0"}
        if i % 7 == 0 else {"min_client_version": "1.0.0"}))
        for i in range(CACHED_FROM + 1)}
    repo = make_repo(tmp_path / "repo", files,
                     {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}})
    if cached:
        cli("validate", "--repo", repo, cwd=repo)
    index_run = findings_json(cli("check-index", "--format", "json", cwd=repo))
    lint_run = findings_json(cli("lint", "--format", "json", cwd=repo))
    unreachable = [f for f in index_run if f["rule"] == "I008"]
    assert len(unreachable) == len(range(0, CACHED_FROM + 1, 7))
    assert [f for f in lint_run if f["rule"] == "I008"] == unreachable
