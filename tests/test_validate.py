"""Every validate rule, failing and passing, through the real CLI over real files."""

from __future__ import annotations

import json
import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from repo_tools.checks.summaries import CACHED_FROM
from tests.support.helpers import (
    SHA_A,
    SHA_B,
    cli,
    config,
    findings_json,
    make_repo,
    model,
    rules_of,
    run_tool,
)

Mutator = Callable[[dict[str, Any]], None]


def _parent(doc: dict[str, Any], pointer: str) -> tuple[Any, str]:
    """The container holding the value at pointer, and the value's key in it."""
    *parents, last = pointer.strip("/").split("/")
    target: Any = doc
    for token in parents:
        target = target[int(token)] if isinstance(target, list) else target[token]
    return target, last


def set_at(pointer: str, value: Any) -> Mutator:
    def mutate(doc: dict[str, Any]) -> None:
        target, last = _parent(doc, pointer)
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return mutate


def delete_at(pointer: str) -> Mutator:
    def mutate(doc: dict[str, Any]) -> None:
        target, last = _parent(doc, pointer)
        del target[last]
    return mutate


M = "/models/0"
FAILING: list[tuple[str, Mutator, str, str]] = [
    ("missing schema_version", delete_at("/schema_version"), "S001", ""),
    ("missing models", delete_at("/models"), "S001", ""),
    ("missing model", delete_at(f"{M}/model"), "S001", M),
    ("missing provider", delete_at(f"{M}/provider"), "S001", M),
    ("missing version", delete_at(f"{M}/version"), "S001", M),
    ("missing download", delete_at(f"{M}/download"), "S001", M),
    ("missing url", delete_at(f"{M}/download/url"), "S001", f"{M}/download"),
    ("missing sha256", delete_at(f"{M}/download/sha256"), "S001", f"{M}/download"),
    ("models not array", set_at("/models", {}), "S002", "/models"),
    ("ranking string", set_at(f"{M}/ranking", "10"), "S002", f"{M}/ranking"),
    ("ranking float", set_at(f"{M}/ranking", 1.5), "S002", f"{M}/ranking"),
    ("model number", set_at(f"{M}/model", 7), "S002", f"{M}/model"),
    ("platforms string", set_at(f"{M}/compatibility/supported_platforms", "linux"), "S002",
     f"{M}/compatibility/supported_platforms"),
    ("max number", set_at(f"{M}/compatibility/max_client_version", 2), "S002",
     f"{M}/compatibility/max_client_version"),
    ("typo sha265", set_at(f"{M}/download/sha265", SHA_A), "S003", f"{M}/download/sha265"),
    ("unknown top key", set_at("/extra", 1), "S003", "/extra"),
    ("unknown model key", set_at(f"{M}/rank", 1), "S003", f"{M}/rank"),
    ("huge ranking", set_at(f"{M}/ranking", 2**40), "S004", f"{M}/ranking"),
    ("duplicate platforms", set_at(f"{M}/compatibility/supported_platforms", ["a", "a"]),
     "S004", f"{M}/compatibility/supported_platforms"),
    ("schema_version 3", set_at("/schema_version", "3.0"), "S006", "/schema_version"),
    ("version 1.0", set_at(f"{M}/version", "1.0"), "V001", f"{M}/version"),
    ("version leading zero", set_at(f"{M}/version", "01.2.3"), "V001", f"{M}/version"),
    ("version four parts", set_at(f"{M}/version", "1.2.3.4"), "V001", f"{M}/version"),
    ("version v prefix", set_at(f"{M}/version", "v1.2.3"), "V001", f"{M}/version"),
    ("version newline", set_at(f"{M}/version", "1.2.3\n"), "V001", f"{M}/version"),
    ("min bad semver", set_at(f"{M}/compatibility/min_client_version", "1.x"), "V001",
     f"{M}/compatibility/min_client_version"),
    ("max bad semver", set_at(f"{M}/compatibility/max_client_version", "2"), "V001",
     f"{M}/compatibility/max_client_version"),
    ("min above max", set_at(f"{M}/compatibility/min_client_version", "3.0.0"), "V002",
     f"{M}/compatibility/min_client_version"),
    ("ftp url", set_at(f"{M}/download/url", "ftp://host/x"), "V003", f"{M}/download/url"),
    ("javascript url", set_at(f"{M}/download/url", "javascript:alert(1)"), "V003",
     f"{M}/download/url"),
    ("file url", set_at(f"{M}/download/url", "file:///etc/passwd"), "V003", f"{M}/download/url"),
    ("relative url", set_at(f"{M}/download/url", "models/x.gguf"), "V003", f"{M}/download/url"),
    ("url with space", set_at(f"{M}/download/url", "https://h/a b.gguf"), "V003",
     f"{M}/download/url"),
    ("url no host", set_at(f"{M}/download/url", "https:///x"), "V003", f"{M}/download/url"),
    ("http url", set_at(f"{M}/download/url", "http://h/x.gguf"), "V004", f"{M}/download/url"),
    ("sha upper", set_at(f"{M}/download/sha256", SHA_A.upper()), "V005", f"{M}/download/sha256"),
    ("sha prefix", set_at(f"{M}/download/sha256", "sha256:" + SHA_A), "V005",
     f"{M}/download/sha256"),
    ("sha md5", set_at(f"{M}/download/sha256", "a" * 32), "V005", f"{M}/download/sha256"),
    ("sha not hex", set_at(f"{M}/download/sha256", "z" * 64), "V005", f"{M}/download/sha256"),
    ("cache dotdot", set_at(f"{M}/download/cachePath", "a/../../etc/x"), "V006",
     f"{M}/download/cachePath"),
    ("cache absolute", set_at(f"{M}/download/cachePath", "/etc/x"), "V006",
     f"{M}/download/cachePath"),
    ("cache backslash", set_at(f"{M}/download/cachePath", "a\\b"), "V006",
     f"{M}/download/cachePath"),
    ("cache drive", set_at(f"{M}/download/cachePath", "C:/x"), "V006", f"{M}/download/cachePath"),
    ("cache trailing slash", set_at(f"{M}/download/cachePath", "a/"), "V006",
     f"{M}/download/cachePath"),
    ("provider mismatch", set_at(f"{M}/provider", "someone-else"), "V009", f"{M}/provider"),
    ("name control char", set_at(f"{M}/model", "a\nb"), "V010", f"{M}/model"),
    ("name empty", set_at(f"{M}/model", ""), "V010", f"{M}/model"),
    ("name blank", set_at(f"{M}/model", "   "), "V010", f"{M}/model"),
]


def write_model_file(tmp_path: Path, doc: Any) -> Path:
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": doc})
    return repo / "versions/v1.0.0/models/huggingface.json"


@pytest.mark.parametrize(("case", "mutate", "rule", "pointer"), FAILING,
                         ids=[c[0] for c in FAILING])
def test_failing_case_is_reported_at_its_pointer(tmp_path: Path, case: str, mutate: Mutator,
                                                 rule: str, pointer: str) -> None:
    doc = config(model())
    mutate(doc)
    path = write_model_file(tmp_path, doc)
    run = cli("validate", path, "--format", "json", "--strict")
    assert run.exit_code == 1, run.stdout
    matching = [f for f in findings_json(run) if f["rule"] == rule]
    assert matching, findings_json(run)
    assert pointer in {f["pointer"] for f in matching}
    assert all(f["line"] >= 1 and f["column"] >= 1 for f in findings_json(run))


PASSING: list[tuple[str, Mutator]] = [
    ("design doc shape", lambda doc: None),
    ("no optional fields", lambda doc: (delete_at(f"{M}/compatibility")(doc),
                                        delete_at(f"{M}/ranking")(doc),
                                        delete_at(f"{M}/download/cachePath")(doc))),
    ("null max", set_at(f"{M}/compatibility/max_client_version", None)),
    ("prerelease and build", set_at(f"{M}/version", "1.0.0-rc.1+build.5")),
    ("min equals max", set_at(f"{M}/compatibility/min_client_version", "2.0.0")),
    ("free-form metadata", set_at(f"{M}/metadata", {"anything": [1, {"x": None}]})),
    ("non-ascii name", set_at(f"{M}/model", "Zephyr 7B β:q4_k_m")),
    ("size", set_at(f"{M}/download/size", 4140373696)),
    ("negative ranking", set_at(f"{M}/ranking", -5)),
    ("url with query", set_at(f"{M}/download/url", "https://h.example/x.gguf?download=true")),
    ("schema 2.1", set_at("/schema_version", "2.1")),
    ("nested cache path", set_at(f"{M}/download/cachePath", "a/b/c.d/model.gguf")),
    ("provider differs only in case", set_at(f"{M}/provider", "HuggingFace")),
]


@pytest.mark.parametrize(("case", "mutate"), PASSING, ids=[c[0] for c in PASSING])
def test_passing_case_is_clean(tmp_path: Path, case: str, mutate: Mutator) -> None:
    doc = config(model())
    mutate(doc)
    path = write_model_file(tmp_path, doc)
    run = cli("validate", path, "--format", "json", "--strict")
    assert (run.exit_code, findings_json(run)) == (0, [])


def test_v1_file_gets_one_migration_finding(tmp_path: Path) -> None:
    v1 = {"name": "m", "version": "1.0.0", "provider": "huggingface",
          "download_url": "https://h/x", "file_hash": SHA_A, "cache_path": "x"}
    path = write_model_file(tmp_path, v1)
    run = cli("validate", path, "--format", "json")
    found = findings_json(run)
    assert [f["rule"] for f in found] == ["S005"]
    assert "repo-tools migrate" in found[0]["message"]


def test_cross_file_rules_read_unnamed_siblings(tmp_path: Path) -> None:
    same_identity = model(provider="other", download={"url": "https://h/y", "sha256": SHA_B,
                                                      "cachePath": "huggingface/model.gguf"})
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(model()),
                                "v1.0.0/other": config(same_identity),
                                "v1.0.1/other": config(same_identity)})
    named = repo / "versions/v1.0.0/models/other.json"
    run = cli("validate", named, "--format", "json", cwd=repo)
    found = findings_json(run)
    assert {f["rule"] for f in found} == {"V007"}
    assert found[0]["path"] == "versions/v1.0.0/models/other.json"
    # The same file in another config version shares nothing with huggingface.json.
    assert cli("validate", repo / "versions/v1.0.1/models/other.json", cwd=repo).exit_code == 0


def test_siblings_are_shown_beside_a_file_named_from_outside_the_repo(tmp_path: Path) -> None:
    # Named as ../repo/...: the siblings are shown the same way, so file order (which
    # entry is the earlier one) is the repo's, and the later duplicate is still reported.
    make_repo(tmp_path / "repo", {"v1.0.0/a": config(model(provider="a")),
                                    "v1.0.0/b": config(model(provider="a"))})
    (tmp_path / "work").mkdir()
    run = cli("validate", "../repo/versions/v1.0.0/models/b.json", "--format", "json",
              cwd=tmp_path / "work")
    found = [f for f in findings_json(run) if f["rule"] == "V008"]
    assert [f["path"] for f in found] == ["../repo/versions/v1.0.0/models/b.json"]
    assert "../repo/versions/v1.0.0/models/a.json:" in found[0]["message"]


def _position_of(path: Path, needle: str, nth: int = 0) -> str:
    """`line:column` of the nth occurrence of needle in a file (1-based, as findings)."""
    text = path.read_text("utf-8")
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def test_conflicts_name_the_other_entry_by_line_and_column(tmp_path: Path) -> None:
    # V007 and V008 across files, and a nesting V007 within one: each message names the
    # earlier entry as path:line:column (where an editor jumps), never as a JSON pointer.
    other = model(model="other", download={"url": "https://h/y", "sha256": SHA_B,
                                           "cachePath": "huggingface/model.gguf"})
    nested = model(model="nested", download={"url": "https://h/z", "sha256": SHA_B,
                                             "cachePath": "huggingface/model.gguf/part"})
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(model()),
                                "v1.0.0/other": config(other, model(), nested)})
    first = repo / "versions/v1.0.0/models/huggingface.json"
    shown = "versions/v1.0.0/models/huggingface.json"
    found = findings_json(cli("validate", "--repo", repo, "--format", "json", cwd=repo))
    messages = {(f["rule"], f["pointer"]): f["message"] for f in found if f["rule"] != "V009"}
    cache_path = f"{shown}:{_position_of(first, chr(34) + 'huggingface/model.gguf')}"
    entry = f"{shown}:{_position_of(first, '{', 1)}"  # models[0] is the second object
    assert set(messages) == {("V007", "/models/0/download/cachePath"), ("V008", "/models/1"),
                             ("V007", "/models/2/download/cachePath")}
    assert f"same cachePath as {cache_path} but" in messages[
        ("V007", "/models/0/download/cachePath")]
    assert messages[("V008", "/models/1")].endswith(f"is already defined at {entry}")
    assert f"({cache_path}) nest" in messages[("V007", "/models/2/download/cachePath")]
    assert not any("#/" in m for m in messages.values())


def test_shared_cache_path_with_same_hash_is_allowed(tmp_path: Path) -> None:
    twin = model(model="alias-of-the-same-file")
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(model(), twin)})
    assert cli("validate", "--repo", repo).exit_code == 0


def test_cache_paths_differing_only_in_case_collide(tmp_path: Path) -> None:
    other = model(model="b", download={"url": "https://h/b", "sha256": SHA_B,
                                       "cachePath": "HuggingFace/Model.gguf"})
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(model(), other)})
    run = cli("validate", "--repo", repo, "--format", "json")
    assert [f["pointer"] for f in findings_json(run)] == ["/models/1/download/cachePath"]
    assert "differs only in case" in findings_json(run)[0]["message"]


def test_duplicate_identity_is_reported_once_on_the_later_entry(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(model(), model())})
    run = cli("validate", "--repo", repo, "--format", "json")
    assert [(f["rule"], f["pointer"]) for f in findings_json(run)] == [("V008", "/models/1")]


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    doc = config(model())
    doc["models"][0]["download"]["url"] = "http://h/x.gguf"
    path = write_model_file(tmp_path, doc)
    assert cli("validate", path).exit_code == 0
    assert cli("validate", path, "--strict").exit_code == 1


def test_bad_file_does_not_hide_other_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": b'{"schema_version": "2.0", "models": [',
                                "v1.0.0/other": config(model(provider="other",
                                                             version="v1"))})
    run = cli("validate", "--repo", repo, "--format", "json")
    assert rules_of(run) == {"J003", "V001"}


def test_text_format_is_path_line_col_code_message(tmp_path: Path) -> None:
    doc = config(model())
    doc["models"][0]["version"] = "1.0"
    path = write_model_file(tmp_path, doc)
    run = cli("validate", path, cwd=tmp_path)
    first = run.stdout.splitlines()[0]
    assert first.startswith("versions/v1.0.0/models/huggingface.json:7:18: V001 ")
    line = path.read_text().splitlines()[6]
    assert line[17:].startswith('"1.0"')


def test_usage_and_io_errors_exit_2(tmp_path: Path) -> None:
    assert cli("validate", tmp_path / "missing.json").exit_code == 2
    assert cli("validate", "--format", "yaml", tmp_path).exit_code == 2
    assert cli("validate", "--repo", tmp_path).exit_code == 2  # no model files at all


def test_output_option_writes_the_report(tmp_path: Path) -> None:
    path = write_model_file(tmp_path, config(model(version="1")))
    out = tmp_path / "report.json"
    run = cli("validate", path, "--format", "json", "--output", out)
    assert run.exit_code == 1 and run.stdout == ""
    assert json.loads(out.read_text())["summary"]["errors"] == 1


def test_repo_settings_apply_to_the_validate_and_check_index_commands(tmp_path: Path) -> None:
    doc = config(model(provider="elsewhere"))  # V009: file name does not match provider
    later = config(model(provider="elsewhere", compatibility={"min_client_version": "3.0.0"}))
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": doc, "v1.1.0/huggingface": later},
                     index={"versions": {  # clients 2.0.1 up to 3.0.0 get nothing: I007
                         "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "2.0.0"},
                         "v1.1.0": {"min_client_version": "3.0.0", "max_client_version": None}}})
    assert rules_of(cli("validate", "--format", "json", cwd=repo)) == {"V009"}
    (repo / ".repo-tools.toml").write_text('disable = ["V009"]\n[severity]\nI007 = "error"\n')
    assert cli("validate", "--format", "json", "--strict", cwd=repo).exit_code == 0
    # check-index honours severities the same way (I007 would be a warning by default).
    gaps = [f for f in findings_json(cli("check-index", "--format", "json", cwd=repo))
            if f["rule"] == "I007"]
    assert gaps and all(f["severity"] == "error" for f in gaps)


@pytest.mark.parametrize(("pointer", "rule"), [(f"{M}/model", "V010"),
                                               (f"{M}/download/cachePath", "V006")])
def test_lone_surrogate_is_reported_and_every_format_can_be_written(
        tmp_path: Path, pointer: str, rule: str) -> None:
    # A `\ud800` escape is valid JSON text but no UTF-8 file name or client string can
    # hold it; the report itself must still be writable as UTF-8 in every format.
    doc = config(model())
    set_at(pointer, "x\ud800")(doc)
    doc["\ud800extra"] = 1  # also reaches an S003 pointer and message
    path = tmp_path / "versions/v1.0.0/models/huggingface.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc, indent=2), "ascii")  # ensure_ascii: the escape
    for fmt in ("text", "json", "github", "sarif"):
        run = run_tool("validate", path, "--format", fmt, cwd=tmp_path,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"})
        assert (run.exit_code, run.stderr) == (1, ""), (fmt, run.stderr)
        assert rule in run.stdout and "S003" in run.stdout
    found = findings_json(run_tool("validate", path, "--format", "json", cwd=tmp_path))
    assert {(f["rule"], f["pointer"]) for f in found} >= {(rule, pointer),
                                                          ("S003", "/\ud800extra")}


def test_a_cache_path_inside_another_models_file_path_collides(tmp_path: Path) -> None:
    outer = model(model="outer", download={"url": "https://h/a", "sha256": SHA_A,
                                           "cachePath": "models/llama"})
    inner = model(model="inner", download={"url": "https://h/b", "sha256": SHA_B,
                                           "cachePath": "Models/llama/q4.gguf"})
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(outer, inner)})
    run = cli("validate", "--repo", repo, "--format", "json")
    found = findings_json(run)
    assert [(f["rule"], f["pointer"]) for f in found] == [
        ("V007", "/models/1/download/cachePath")]
    assert "both a file and a directory" in found[0]["message"]
    sibling = model(model="inner", download={"url": "https://h/b", "sha256": SHA_B,
                                             "cachePath": "models/llama-q4.gguf"})
    clean = make_repo(tmp_path / "clean", {"v1.0.0/huggingface": config(outer, sibling)})
    assert cli("validate", "--repo", clean).exit_code == 0


def test_a_sibling_edited_between_runs_is_read_again(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Siblings come from the summary cache when unchanged; an edit of one (any size,
    mtime or inode change) is seen at once, and a damaged cache is only a miss."""
    monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(tmp_path / "cache"))
    acme = model(provider="acme", model="acme-model",
                 download={"url": "https://h/o", "sha256": SHA_B, "cachePath": "acme/o.gguf"})
    # Enough files for the directory to be cached (a few are parsed each time instead).
    fillers = {f"v1.0.0/zz-{i:03d}": config(model(
        provider=f"zz-{i:03d}", download={"url": f"https://h/{i}", "sha256": SHA_B,
                                          "cachePath": f"zz/{i}.gguf"}))
        for i in range(CACHED_FROM)}
    repo = make_repo(tmp_path / "repo", {"v1.0.0/huggingface": config(model()),
                                         "v1.0.0/acme": config(acme), **fillers})
    named = repo / "versions/v1.0.0/models/huggingface.json"  # sorts after acme.json
    assert cli("validate", named, cwd=repo).exit_code == 0
    caches = sorted((tmp_path / "cache" / "summaries").glob("*.marshal"))
    # One per models directory, holding acme.json's summary, and its key index.
    assert [p.name.endswith(".keys.marshal") for p in caches] == [True, False]
    index = caches.pop(0)
    written = caches[0].stat().st_mtime_ns
    assert cli("validate", named, cwd=repo).exit_code == 0
    assert caches[0].stat().st_mtime_ns == written  # nothing changed: nothing rewritten
    # acme.json now takes huggingface.json's cachePath for other content: the conflict is
    # on the later file, the named one, and only a fresh read of acme.json shows it.
    acme["download"]["cachePath"] = "huggingface/model.gguf"
    (repo / "versions/v1.0.0/models/acme.json").write_text(json.dumps(config(acme)))
    for damaged in (None, b"{", marshal.dumps({"format": "repo-tools-summaries/3",
                                                "files": {"acme.json": 7}}),
                    marshal.dumps({"format": "repo-tools-summaries/3",
                                   "files": {"acme.json": ((1, 2), (("x",),))}})):
        if damaged is not None:
            caches[0].write_bytes(damaged)
            index.write_bytes(damaged)
        run = cli("validate", named, "--format", "json", cwd=repo)
        assert [f["rule"] for f in findings_json(run)] == ["V007"], damaged
    monkeypatch.setenv("REPO_TOOLS_NO_SUMMARY_CACHE", "1")
    caches[0].unlink()
    run = cli("validate", named, "--format", "json", cwd=repo)
    assert [f["rule"] for f in findings_json(run)] == ["V007"]
    assert not caches[0].exists()


def test_a_small_config_version_is_not_cached(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(tmp_path / "cache"))
    index = {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}}
    repo = make_repo(tmp_path / "repo", {"v1.0.0/huggingface": config(model()),
                                         "v1.0.0/acme": config(model(provider="acme"))}, index)
    assert cli("validate", repo / "versions/v1.0.0/models/acme.json", cwd=repo).exit_code == 0
    assert cli("check-index", "--repo", repo, cwd=repo).exit_code == 0
    assert not (tmp_path / "cache").exists()


def test_a_clean_verdict_holds_only_while_file_and_options_are_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """lint and validate skip a file whose cached full check was clean; an edit, or other
    options (lint's known platforms), means checking it again."""
    monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(tmp_path / "cache"))
    files = {f"v1.0.0/p-{i:03d}": config(model(
        provider=f"p-{i:03d}", download={"url": f"https://h/{i}", "sha256": SHA_B,
                                         "cachePath": f"p/{i}.gguf"},
        compatibility={"supported_platforms": ["linux"]}))
        for i in range(CACHED_FROM)}
    index = {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}}
    repo = make_repo(tmp_path / "repo", files, index)
    assert cli("validate", "--repo", repo, cwd=repo).exit_code == 0  # every verdict: clean
    target = repo / "versions/v1.0.0/models/p-007.json"
    broken = json.loads(target.read_text())
    broken["models"][0]["downlaod"] = broken["models"][0].pop("download")
    target.write_text(json.dumps(broken, indent=2))
    run = cli("validate", "--repo", repo, "--format", "json", cwd=repo)
    assert {f["rule"] for f in findings_json(run)} >= {"S001", "S003"}
    target.write_text(json.dumps(config(model(
        provider="p-007", download={"url": "https://h/7", "sha256": SHA_B,
                                    "cachePath": "p/7.gguf"},
        compatibility={"supported_platforms": ["linux"]})), indent=2))
    assert cli("lint", "--repo", repo, cwd=repo).exit_code == 0
    (repo / ".repo-tools.toml").write_text('known-platforms = ["macos"]\n')
    run = cli("lint", "--repo", repo, "--format", "json", cwd=repo)
    assert [f["rule"] for f in findings_json(run)].count("L004") == CACHED_FROM


def test_validate_and_lint_keep_each_others_clean_verdicts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """lint checks with its known platforms, validate without: both verdicts live in one
    cache entry, so taking turns re-checks nothing (the cache is not even rewritten)."""
    monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(tmp_path / "cache"))
    files = {f"v1.0.0/p-{i:03d}": config(model(
        provider=f"p-{i:03d}", download={"url": f"https://h/{i}", "sha256": SHA_B,
                                         "cachePath": f"p/{i}.gguf"}))
        for i in range(CACHED_FROM)}
    repo = make_repo(tmp_path / "repo", files,
                     {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}})
    assert cli("validate", "--repo", repo, cwd=repo).exit_code == 0
    assert cli("lint", "--repo", repo, cwd=repo).exit_code == 0
    [cache] = [p for p in (tmp_path / "cache" / "summaries").glob("*.marshal")
               if not p.name.endswith(".keys.marshal")]
    written = cache.stat().st_mtime_ns
    for command in ("validate", "lint", "validate", "lint"):
        assert cli(command, "--repo", repo, cwd=repo).exit_code == 0
        assert cache.stat().st_mtime_ns == written, command
