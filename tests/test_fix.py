"""`lint --fix`: mechanical, lossless fixes, idempotent, made by the same safe rewrite as
migrate; properties over generated files, the CLI, and the hook through pre-commit."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.fixes import ABSENT, apply_fixes, fixes_of, plan_fix
from repo_tools.jsonfile import parse_strict
from tests.support.helpers import (
    SHA_A,
    PreCommit,
    cli,
    config,
    findings_json,
    git,
    model,
    write_json,
)

INDEX = {"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}}}
BLOB = "https://huggingface.co/o/r/blob/main/m.gguf"
RESOLVE = "https://huggingface.co/o/r/resolve/main/m.gguf"


def broken_entry() -> dict[str, Any]:
    return model(version="v1.0.0", download={
        "url": f" {BLOB}\n", "sha256": "sha256:" + SHA_A.upper(), "cachePath": "o/m.gguf"},
        compatibility={"min_client_version": "V1.2.0", "max_client_version": None})


def make(tmp_path: Path, data: Any, **dump: Any) -> Path:
    write_json(tmp_path / "repo" / "index.json", INDEX)
    path = tmp_path / "repo" / "versions" / "v1.0.0" / "models" / "huggingface.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, **dump) + "\n", "utf-8")
    return path


def test_fixes_of_names_each_mechanical_fix() -> None:
    data = {"models": [broken_entry()]}
    found = {(f.rule.code, f.pointer, f.new) for f in fixes_of(data)}
    assert found == {
        ("S001", "/schema_version", "2.0"),
        ("V001", "/models/0/version", "1.0.0"),
        ("V001", "/models/0/compatibility/min_client_version", "1.2.0"),
        ("V003", "/models/0/download/url", BLOB),
        ("V011", "/models/0/download/url", RESOLVE),
        ("V005", "/models/0/download/sha256", SHA_A),
    }


@pytest.mark.parametrize("value", [
    "v1", "vv1.0.0", "1.0", "version 1.0.0", "v01.0.0"])
def test_versions_that_are_not_just_prefixed_are_left_alone(value: str) -> None:
    assert fixes_of(config(model(version=value))) == []


@pytest.mark.parametrize("sha", ["A" * 63, "md5:" + "a" * 64, "a" * 32, "G" * 64, ""])
def test_hashes_that_are_not_sha256_are_left_alone(sha: str) -> None:
    entry = model()
    entry["download"]["sha256"] = sha
    assert fixes_of(config(entry)) == []


def test_v1_files_are_migrates_job() -> None:
    assert fixes_of([{"name": "x", "file_hash": SHA_A.upper()}]) == []
    assert fixes_of({"models": [{"name": "x", "file_hash": SHA_A.upper()}]}) == []


def test_cli_fix_rewrites_keeps_layout_mode_and_symlink(tmp_path: Path) -> None:
    real = make(tmp_path, config(broken_entry(), model(model="ok")), indent="\t")
    real.chmod(0o600)
    link = real.with_name("linked.json")
    # The link stays inside the repo (one that leaves it is R039, unsafe to publish).
    target = tmp_path / "repo" / "shared" / "linked-model.json"
    target.parent.mkdir()
    target.write_text(json.dumps(config(model(provider="linked", download={
        "url": BLOB, "sha256": SHA_A, "cachePath": "x/y"})), indent=3) + "\n")
    link.symlink_to(target)
    before = real.read_text()
    run = cli("lint", "--repo", tmp_path / "repo", "--fix", "--format", "json", cwd=tmp_path)
    assert run.exit_code == 1  # changed: the commit stops for review
    assert findings_json(run) == []
    assert run.stderr.count("fixed repo/versions/v1.0.0/models/") == 6
    assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["models"][0]["download"]["url"] == RESOLVE
    after = real.read_text()
    assert after.count("\n") == before.count("\n") and "\n\t\t\t\"provider\"" in after
    data = json.loads(after)
    assert data["models"][0]["download"] == {"url": RESOLVE, "sha256": SHA_A,
                                             "cachePath": "o/m.gguf"}
    again = cli("lint", "--repo", tmp_path / "repo", "--fix", cwd=tmp_path)
    assert (again.exit_code, again.stderr) == (0, "")


def test_fix_diff_shows_and_writes_nothing(tmp_path: Path) -> None:
    path = make(tmp_path, {"models": [broken_entry()]}, indent=2)
    before = path.read_bytes()
    run = cli("lint", "--repo", tmp_path / "repo", "--fix", "--diff", cwd=tmp_path)
    assert run.exit_code == 1 and path.read_bytes() == before
    assert '+  "schema_version": "2.0",' in run.stdout and '-      "version": "v1.0.0",' in (
        run.stdout)
    assert "would fix" in run.stderr
    assert cli("lint", "--repo", tmp_path / "repo", "--diff").exit_code == 2


def test_a_disabled_rule_is_not_fixed(tmp_path: Path) -> None:
    path = make(tmp_path, config(model(version="v1.0.0")), indent=2)
    (tmp_path / "repo" / ".repo-tools.toml").write_text('disable = ["V001"]\n')
    run = cli("lint", "--repo", tmp_path / "repo", "--fix", cwd=tmp_path)
    assert run.exit_code == 0 and '"v1.0.0"' in path.read_text()


def test_a_file_with_a_duplicate_key_is_not_fixed(tmp_path: Path) -> None:
    path = make(tmp_path, config(model(version="v1.0.0")), indent=2)
    text = path.read_text().replace('"ranking": 10', '"ranking": 10, "ranking": 11')
    path.write_text(text)
    run = cli("lint", "--repo", tmp_path / "repo", "--fix", cwd=tmp_path)
    assert path.read_text() == text
    assert "not fixed" in run.stderr and "duplicate key" in run.stderr and run.exit_code == 1


# -- properties -----------------------------------------------------------------------------

_SEMVER = st.from_regex(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})",
                        fullmatch=True)
_VERSION = st.one_of(_SEMVER, _SEMVER.map(lambda v: "v" + v), _SEMVER.map(lambda v: "V" + v),
                     st.sampled_from(["v1", "1.0", "", "vv1.0.0"]), st.integers(0, 3))
_HEX = st.text("0123456789abcdefABCDEF", min_size=64, max_size=64)
_SHA = st.one_of(_HEX, _HEX.map(lambda h: "sha256:" + h), _HEX.map(lambda h: "SHA256:" + h),
                 st.text(max_size=8), st.none())
_URL = st.one_of(
    st.sampled_from([RESOLVE, BLOB, "https://example.org/m.bin", "http://hf.co/o/r/blob/x/y",
                     "https://huggingface.co/datasets/o/d/blob/main/a b"]),
    st.tuples(st.sampled_from(["", " ", "\t", "\n "]), st.sampled_from([BLOB, RESOLVE]),
              st.sampled_from(["", " ", "\r\n"])).map("".join))
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
_EXTRA = st.dictionaries(_TEXT, st.one_of(_TEXT, st.integers(), st.booleans(), st.none()),
                         max_size=3)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    models = []
    for _ in range(draw(st.integers(0, 3))):
        download: dict[str, Any] = {"url": draw(_URL)}
        sha = draw(_SHA)
        if sha is not None:
            download["sha256"] = sha
        download["cachePath"] = draw(_TEXT)
        entry: dict[str, Any] = {"model": draw(_TEXT), "provider": "p",
                                 "version": draw(_VERSION), "download": download}
        if draw(st.booleans()):
            entry["compatibility"] = {"min_client_version": draw(_VERSION),
                                      "max_client_version": draw(st.one_of(_VERSION,
                                                                           st.none()))}
        if draw(st.booleans()):
            entry["metadata"] = draw(_EXTRA)
        models.append(entry)
    document: dict[str, Any] = {"models": models}
    if draw(st.booleans()):
        document = {"schema_version": draw(st.sampled_from(["2.0", "2.1", "1.0"])), **document}
    return document


_STYLES = st.sampled_from([{"indent": 2}, {"indent": 4}, {"indent": "\t"}, {},
                           {"indent": 2, "ensure_ascii": False},
                           {"separators": (",", ":")}])


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_leaves(value, f"{prefix}/{key.replace('~', '~0').replace('/', '~1')}"))
        return out
    if isinstance(data, list) and data:
        out = {}
        for index, value in enumerate(data):
            out.update(_leaves(value, f"{prefix}/{index}"))
        return out
    return {prefix: data}


@given(document=documents(), style=_STYLES, crlf=st.booleans())
def test_fix_is_lossless_idempotent_and_equals_the_fix_of_the_parsed_data(
        tmp_path_factory: pytest.TempPathFactory, document: dict[str, Any],
        style: dict[str, Any], crlf: bool) -> None:
    path = tmp_path_factory.mktemp("fix") / "p.json"
    text = json.dumps(document, **style) + "\n"
    path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode())
    plan = plan_fix(path, "p.json")
    fixes = fixes_of(document)
    assert plan.skipped == ""
    if not fixes:
        assert plan.new_text is None
        return
    assert plan.new_text is not None
    fixed = parse_strict(plan.new_text)
    # Parsing after the fix equals the fix applied to the parsed data, key order included.
    expected = apply_fixes(document, fixes)
    assert fixed == expected and list(_leaves(fixed)) == list(_leaves(expected))
    # Every value the fix does not target is unchanged; the targeted ones hold the fix.
    targeted = {fix.pointer: fix.new for fix in fixes}
    before, after = _leaves(document), _leaves(fixed)
    for pointer, value in after.items():
        if pointer in targeted:
            assert value == targeted[pointer]
        else:
            assert before[pointer] == value
    assert set(after) - set(before) <= {"/schema_version"}
    assert not any(f.old is ABSENT for f in fixes) or "schema_version" not in document
    # Only the fixed tokens changed: no line was added but for a new schema_version.
    added = sum(1 for f in fixes if f.old is ABSENT)
    if style.get("indent") is not None:
        assert plan.new_text.count("\n") == plan.old_text.count("\n") + added
    else:
        assert plan.new_text.count("\n") == plan.old_text.count("\n")
    # Idempotent: nothing left to fix in the result.
    assert fixes_of(fixed) == []
    path.write_bytes(plan.new_text.encode())
    assert plan_fix(path, "p.json").new_text is None


# -- the hook -------------------------------------------------------------------------------

def test_fixing_hook_fixes_fails_then_passes(tmp_path: Path, pre_commit: PreCommit) -> None:
    repo = tmp_path / "configs"
    path = make(tmp_path, config(broken_entry()), indent=2)
    os.rename(tmp_path / "repo", repo)
    path = repo / path.relative_to(tmp_path / "repo")
    git(repo, "init", "-q")
    git(repo, "add", "-A")

    def hook() -> subprocess.CompletedProcess[str]:
        return pre_commit.run(repo, "fix-model-configs", args=("--all-files", "--verbose"))

    first = hook()
    assert first.returncode == 1, first.stdout + first.stderr
    assert "Failed" in first.stdout and "fixed versions/v1.0.0/models/huggingface.json" in (
        first.stdout)
    assert json.loads(path.read_text())["models"][0]["download"]["url"] == RESOLVE
    git(repo, "add", "-A")
    second = hook()
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout
