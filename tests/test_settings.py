"""Lint settings: where they are read from, every key, and every way they can be wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.findings import Finding, Severity
from repo_tools.rules import ALL_RULES
from repo_tools.settings import (
    KEYS,
    OFFLINE_CHECKS,
    PROBE_SETTINGS,
    Settings,
    apply_settings,
    load_settings,
    parse_settings,
    resolve_rule,
)
from tests.support.docs import section

FULL = """\
checks = ["validate", "index"]
disable = ["V009", "insecure-url"]
known-platforms = ["linux", "macos"]

[severity]
I007 = "error"

[per-file-disable]
"versions/v1.*/models/legacy.json" = ["S003"]

[probe]
hash = "full"
jobs = 4
read-timeout = 2.5
cache = false
"""


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def test_no_settings_file_means_defaults(tmp_path: Path) -> None:
    loaded = load_settings(tmp_path, base=tmp_path)
    assert loaded.findings == []
    assert loaded.settings == Settings()
    assert loaded.settings.checks == OFFLINE_CHECKS


def test_dedicated_file_sets_every_key(tmp_path: Path) -> None:
    (tmp_path / ".repo-tools.toml").write_text(FULL)
    loaded = load_settings(tmp_path, base=tmp_path)
    assert loaded.findings == []
    s = loaded.settings
    assert s.checks == ("validate", "index")
    assert s.disable == {"V009", "V004"}  # a rule's name works as well as its code
    assert s.known_platforms == {"linux", "macos"}
    assert s.severity == {"I007": Severity.ERROR}
    assert s.per_file_disable == (("versions/v1.*/models/legacy.json", frozenset({"S003"})),)
    assert s.probe == {"hash": "full", "jobs": 4, "read-timeout": 2.5, "cache": False}
    assert s.source == ".repo-tools.toml"


def test_pyproject_tool_table(tmp_path: Path) -> None:
    body = FULL.replace("[severity]", "[tool.repo-tools.severity]").replace(
        "[per-file-disable]", "[tool.repo-tools.per-file-disable]").replace(
        "[probe]", "[tool.repo-tools.probe]")
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.repo-tools]\n" + body)
    loaded = load_settings(tmp_path, base=tmp_path)
    assert loaded.findings == []
    assert loaded.settings.disable == {"V009", "V004"}
    assert loaded.settings.severity == {"I007": Severity.ERROR}
    assert loaded.settings.source == "pyproject.toml"


def test_pyproject_without_our_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    loaded = load_settings(tmp_path, base=tmp_path)
    assert loaded.findings == [] and loaded.settings == Settings()


def test_both_files_dedicated_wins_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / ".repo-tools.toml").write_text('disable = ["V009"]\n')
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.repo-tools]\ndisable = ['V004']\n")
    loaded = load_settings(tmp_path, base=tmp_path)
    assert loaded.settings.disable == {"V009"}
    [shadowed] = loaded.findings
    assert (shadowed.rule, shadowed.path, shadowed.line) == ("L005", "pyproject.toml", 4)
    assert shadowed.severity is Severity.WARNING


def test_explicit_config_file(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text('disable = ["V001"]\n')
    (tmp_path / ".repo-tools.toml").write_text('disable = ["V009"]\n')
    assert load_settings(tmp_path, base=tmp_path, config=other).settings.disable == {"V001"}


def test_paths_are_shown_relative_to_base(tmp_path: Path) -> None:
    repo = tmp_path / "configs"
    repo.mkdir()
    (repo / ".repo-tools.toml").write_text("disabel = []\n")
    [f] = load_settings(repo, base=tmp_path).findings
    assert f.path == "configs/.repo-tools.toml"


def test_unknown_key_has_a_suggestion_and_a_line(tmp_path: Path) -> None:
    (tmp_path / ".repo-tools.toml").write_text('checks = ["validate"]\n\ndisabel = ["V009"]\n')
    loaded = load_settings(tmp_path, base=tmp_path)
    [f] = loaded.findings
    assert f.rule == "L001" and f.line == 3
    assert "disabel" in f.message and "did you mean 'disable'?" in f.message
    # the rest of the file still applies
    assert loaded.settings.checks == ("validate",)


@pytest.mark.parametrize(("text", "fragment"), [
    ('disable = "V009"', "must be a list of strings, not a string"),
    ('disable = ["V999"]', "no rule 'V999'"),
    ('disable = ["filename-provider-mismatc"]', "did you mean 'filename-provider-mismatch'?"),
    ('checks = ["validate", "lint"]', "unknown check 'lint'"),
    ('known-platforms = ["linux", " "]', "must not be empty"),
    ("severity = 3", "must be a table"),
    ('severity = { V004 = "fatal" }', 'must be "error" or "warning", not \'fatal\''),
    ('severity = { X1 = "error" }', "no rule 'X1'"),
    ('per-file-disable = { "a.json" = "V004" }', "must be a list of strings"),
    ("probe = 1", "must be a table"),
    ('probe = { hash = "yes" }', 'must be false, "auto" or "full"'),
    ("probe = { jobs = 0 }", "must be from 1 to 256"),
    ("probe = { jobs = 100000 }", "must be from 1 to 256"),
    ("probe = { jobs = 1.5 }", "must be an integer"),
    ("probe = { retries = -1 }", "must not be negative"),
    ("probe = { read-timeout = 0 }", "must be above 0"),
    ('probe = { read-timeout = "10" }', "must be a number"),
    # TOML has nan and inf; requests would fail every URL with "connection failed".
    ("probe = { read-timeout = nan }", "must be a finite number"),
    ("probe = { connect-timeout = inf }", "must be a finite number"),
    ("probe = { max-backoff = -nan }", "must be a finite number"),
    ("probe = { deadline = inf }", "must be a finite number"),
    ("probe = { cache = 1 }", "must be true or false"),
    ('probe = { cache-dir = "" }', "must be a non-empty string"),
])
def test_bad_values_are_findings(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / ".repo-tools.toml").write_text("# settings\n" + text + "\n")
    loaded = load_settings(tmp_path, base=tmp_path)
    [f] = loaded.findings
    assert f.rule == "L002", f
    assert fragment in f.message
    assert f.path == ".repo-tools.toml" and f.line == 2


def test_unknown_probe_option(tmp_path: Path) -> None:
    (tmp_path / ".repo-tools.toml").write_text("[probe]\ntimeout = 3\n")
    [f] = load_settings(tmp_path, base=tmp_path).findings
    assert f.rule == "L001" and "probe.timeout" in f.message and f.line == 2


def test_pyproject_keys_are_shown_with_their_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.repo-tools]\ndisable = 1\n")
    [f] = load_settings(tmp_path, base=tmp_path).findings
    assert f.message.startswith("tool.repo-tools.disable:")


@pytest.mark.parametrize(("text", "line", "column"), [
    ('disable = ["V009"]\nchecks = [1,,]\nknown-platforms = []\n', 2, 13),
    ('disable = ["V009"]\nchecks = [\n', 3, 1),
])
def test_invalid_toml_is_reported_at_its_position(tmp_path: Path, text: str, line: int,
                                                  column: int) -> None:
    (tmp_path / ".repo-tools.toml").write_text(text)
    loaded = load_settings(tmp_path, base=tmp_path)
    [f] = loaded.findings
    assert (f.rule, f.line, f.column) == ("L003", line, column)
    assert "is not valid TOML" in f.message and "(at" not in f.message
    assert loaded.settings == Settings()  # nothing half-applied


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".repo-tools.toml").write_bytes(b'disable = ["\xff"]\n')
    [f] = load_settings(tmp_path, base=tmp_path).findings
    assert f.rule == "L003" and "UTF-8" in f.message


def test_unreadable_settings_file(tmp_path: Path) -> None:
    (tmp_path / ".repo-tools.toml").mkdir()
    # a directory where the file should be is not "a file", so the defaults apply
    assert load_settings(tmp_path, base=tmp_path).findings == []
    [f] = load_settings(tmp_path, base=tmp_path, config=tmp_path / ".repo-tools.toml").findings
    assert f.rule == "L003" and "cannot read" in f.message


def test_resolve_rule() -> None:
    assert resolve_rule("v009") == "V009"
    assert resolve_rule("insecure-url") == "V004"
    assert resolve_rule("nope") is None


def test_every_documented_key_is_known_and_in_the_readme() -> None:
    text = section("lint")
    for key in KEYS:
        assert f"`{key}`" in text, key
    for key in PROBE_SETTINGS:
        assert f"`{key}`" in text, key
    for rule in ("L001", "L002", "L003", "L004", "L005"):
        assert rule in text


# -- applying settings ----------------------------------------------------------------------


def make(rule: str, path: str = "versions/v1.0.0/models/a.json",
         severity: Severity = Severity.ERROR) -> Finding:
    return Finding(rule=rule, severity=severity, path=path, message=f"{rule} here")


def test_apply_disable_and_severity() -> None:
    settings = Settings(disable=frozenset({"V009"}), severity={"V004": Severity.ERROR})
    found = [make("V009", severity=Severity.WARNING), make("V004", severity=Severity.WARNING),
             make("V001")]
    kept = apply_settings(found, settings)
    assert [(f.rule, f.severity) for f in kept] == [("V004", Severity.ERROR),
                                                    ("V001", Severity.ERROR)]


def test_apply_per_file_globs_are_relative_to_the_config_repo() -> None:
    settings = Settings(per_file_disable=(("versions/v1.*/models/legacy.json",
                                           frozenset({"S003"})),))
    inside = make("S003", "configs/versions/v1.2.0/models/legacy.json")
    other_file = make("S003", "configs/versions/v1.2.0/models/other.json")
    other_rule = make("V001", "configs/versions/v1.2.0/models/legacy.json")
    kept = apply_settings([inside, other_file, other_rule], settings, repo_prefix="configs/")
    assert kept == [other_file, other_rule]


codes = st.sampled_from(sorted(ALL_RULES))
findings_strategy = st.lists(st.builds(
    Finding, rule=codes, severity=st.sampled_from(list(Severity)),
    path=st.sampled_from(["index.json", "versions/v1.0.0/models/a.json", "x/b.json"]),
    message=st.text(max_size=10)), max_size=20)
settings_strategy = st.builds(
    Settings,
    disable=st.frozensets(codes, max_size=5),
    severity=st.dictionaries(codes, st.sampled_from(list(Severity)), max_size=5),
    per_file_disable=st.lists(st.tuples(st.sampled_from(["*", "versions/*", "x/*", "*.json"]),
                                        st.frozensets(codes, max_size=3)), max_size=3)
    .map(tuple),
)


@given(findings_strategy, settings_strategy)
def test_apply_settings_only_removes_and_reclassifies(found: list[Finding],
                                                      settings: Settings) -> None:
    kept = apply_settings(found, settings)
    originals = {(f.rule, f.path, f.message) for f in found}
    assert len(kept) <= len(found)
    for f in kept:
        assert (f.rule, f.path, f.message) in originals
        assert f.rule not in settings.disable
        if f.rule in settings.severity:
            assert f.severity is settings.severity[f.rule]
    # nothing is dropped that no setting names
    named = settings.disable | {c for _, cs in settings.per_file_disable for c in cs}
    assert [f.rule for f in found if f.rule not in named] == \
        [f.rule for f in kept if f.rule not in named]


# Any TOML document: parse_settings reports problems as findings and never raises.
toml_scalars = st.one_of(st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
                         st.text(max_size=8), st.sampled_from(["V009", "error", "auto", "linux"]))
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from([*KEYS, *PROBE_SETTINGS, "V004", "x"]),
                                            inner, max_size=3)),
    max_leaves=8)
toml_tables = st.dictionaries(st.sampled_from([*KEYS, "other", "disabel"]), toml_values,
                              max_size=6)


@given(toml_tables)
def test_parse_settings_never_raises(table: dict[str, Any]) -> None:
    loaded = parse_settings(table, ".repo-tools.toml")
    assert all(f.rule.startswith("L") and f.path == ".repo-tools.toml" for f in loaded.findings)
    s = loaded.settings
    assert all(c in ALL_RULES for c in s.disable)
    assert set(s.checks) <= {"validate", "index", "migrate", "probe"}
    if not loaded.findings:
        assert set(table) <= set(KEYS)


def test_readme_settings_example_is_valid() -> None:
    [example] = [block for block in section("lint").split("```toml\n")[1:]]
    text = example.split("```")[0]
    loaded = parse_settings(tomllib.loads(text), ".repo-tools.toml", text)
    assert loaded.findings == []
    assert loaded.settings.disable == {"V009", "I009"}
