"""`migrate`: v1 files become valid v2 files, losing nothing, or are left untouched."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repo_tools import atomic
from repo_tools.checks.validate import check_document, validate_paths
from repo_tools.findings import Severity
from repo_tools.jsonfile import JsonDocument, load_json_file, pointer_join
from repo_tools.migrate import EXTRA_KEY, convert_v1, migrate_paths, normalise_sha256
from tests.support import real_catalogs
from tests.support.helpers import SHA_A, cli, findings_json, run_tool, write_json

MODELS = "versions/v1.0.0/models"


def v1_entry(**overrides: Any) -> dict[str, Any]:
    """A v1 entry as the design doc shows it; keyword overrides replace keys."""
    entry: dict[str, Any] = {
        "name": "llama-3.2-1b-instruct:q4_k_m",
        "version": "1.0.0",
        "provider": "huggingface",
        "download_url": "https://huggingface.co/org/repo/resolve/main/model.gguf",
        "file_hash": SHA_A,
        "cache_path": "huggingface/model.gguf",
        "compatibility": {"min_client_version": "1.0.0", "max_client_version": "2.0.0",
                          "supported_platforms": ["linux", "macos"]},
        "metadata": {"family": "llama"},
    }
    entry.update(overrides)
    return entry


def v1_file(tmp_path: Path, data: Any, name: str = "huggingface", **kw: Any) -> Path:
    return write_json(tmp_path / MODELS / f"{name}.json", data, **kw)


def errors_of(path: Path) -> list[str]:
    """validate's errors for one file, as `rule message` strings."""
    result = validate_paths([path], path.parent)
    return [f"{f.rule} {f.message}" for f in result.findings if f.severity is Severity.ERROR]


def run(*args: str | Path, cwd: Path) -> tuple[int, list[dict[str, Any]]]:
    result = cli("migrate", "--format", "json", *args, cwd=cwd)
    return result.exit_code, findings_json(result)


# -- the mapping ---------------------------------------------------------------------------


def test_design_doc_v1_object_becomes_the_v2_shape(tmp_path: Path) -> None:
    path = v1_file(tmp_path, v1_entry())
    code, found = run(path, cwd=tmp_path)
    assert code == 1
    assert [(f["rule"], f["line"], f["column"]) for f in found] == [("M001", 1, 1)]
    assert "review the change" in found[0]["message"]
    assert json.loads(path.read_text()) == {
        "schema_version": "2.0",
        "models": [{
            "model": "llama-3.2-1b-instruct:q4_k_m",
            "version": "1.0.0",
            "ranking": 0,
            "provider": "huggingface",
            "download": {
                "url": "https://huggingface.co/org/repo/resolve/main/model.gguf",
                "sha256": SHA_A,
                "cachePath": "huggingface/model.gguf",
            },
            "compatibility": {"min_client_version": "1.0.0", "max_client_version": "2.0.0",
                              "supported_platforms": ["linux", "macos"]},
            "metadata": {"family": "llama"},
        }],
    }
    assert errors_of(path) == []


@pytest.mark.parametrize("shape", ["list", "wrapper"])
def test_list_and_wrapper_shapes_become_the_v2_shape(tmp_path: Path, shape: str) -> None:
    entries = [v1_entry(), v1_entry(name="other", cache_path="huggingface/other.gguf")]
    path = v1_file(tmp_path, entries if shape == "list" else {"models": entries})
    assert run(path, cwd=tmp_path)[0] == 1
    data = json.loads(path.read_text())
    assert list(data) == ["schema_version", "models"]
    assert [m["model"] for m in data["models"]] == ["llama-3.2-1b-instruct:q4_k_m", "other"]
    assert errors_of(path) == []


def test_key_order_is_kept_and_ranking_follows_version() -> None:
    entry = {"provider": "p", "cache_path": "p/m.bin", "version": "1.0.0", "name": "m",
             "file_hash": SHA_A, "download_url": "https://e.org/m.bin"}
    document = convert_v1(entry).document
    assert document is not None
    model = document["models"][0]
    assert list(model) == ["provider", "download", "version", "ranking", "model"]
    assert list(model["download"]) == ["cachePath", "sha256", "url"]


def test_an_existing_ranking_is_kept() -> None:
    document = convert_v1(v1_entry(ranking=7)).document
    assert document is not None
    assert document["models"][0]["ranking"] == 7


@pytest.mark.parametrize(("given_hash", "note"), [
    (SHA_A.upper(), "lower-cased file_hash"),
    ("sha256:" + SHA_A, "removed the 'sha256:' prefix of file_hash"),
    ("SHA256:" + SHA_A.upper(), "removed the 'sha256:' prefix of file_hash"),
])
def test_hash_normalisations_are_applied_and_reported(tmp_path: Path, given_hash: str,
                                                      note: str) -> None:
    path = v1_file(tmp_path, v1_entry(file_hash=given_hash))
    code, found = run(path, cwd=tmp_path)
    assert code == 1
    assert note in found[0]["message"]
    assert json.loads(path.read_text())["models"][0]["download"]["sha256"] == SHA_A


def test_unknown_keys_are_carried_to_metadata_v1_extra(tmp_path: Path) -> None:
    entry = v1_entry(license="mit", tags=["chat", "small"])
    path = v1_file(tmp_path, entry)
    code, found = run(path, cwd=tmp_path)
    assert code == 1
    assert "moved 'license', 'tags' to metadata.v1_extra" in found[0]["message"]
    metadata = json.loads(path.read_text())["models"][0]["metadata"]
    assert metadata == {"family": "llama", EXTRA_KEY: {"license": "mit",
                                                       "tags": ["chat", "small"]}}
    assert errors_of(path) == []


def test_unknown_keys_create_metadata_when_there_is_none() -> None:
    entry = v1_entry(license="mit")
    del entry["metadata"]
    document = convert_v1(entry).document
    assert document is not None
    assert document["models"][0]["metadata"] == {EXTRA_KEY: {"license": "mit"}}
    assert list(document["models"][0])[-1] == "metadata"


# -- refusals: the file is left untouched and a finding says why ---------------------------


def assert_refused(tmp_path: Path, data: Any, rule: str, *, pointer: str,
                   words: str) -> dict[str, Any]:
    path = v1_file(tmp_path, data)
    before = path.read_bytes()
    code, found = run(path, cwd=tmp_path)
    assert code == 1
    assert path.read_bytes() == before
    hits = [f for f in found if f["rule"] == rule and f["pointer"] == pointer]
    assert hits, found
    assert words in hits[0]["message"]
    assert hits[0]["line"] > 0 and hits[0]["column"] > 0
    assert "M001" not in {f["rule"] for f in found}
    return hits[0]


@pytest.mark.parametrize(("bad_hash", "words"), [
    ("0123456789abcdef0123456789abcdef", "looks like an MD5"),
    ("sha256:0123456789abcdef0123456789abcdef", "looks like an MD5"),
    ("not a hash", "not hexadecimal"),
    ("sha1:" + "a" * 40, "not hexadecimal"),
])
def test_a_hash_that_is_not_sha256_is_refused(tmp_path: Path, bad_hash: str,
                                              words: str) -> None:
    hit = assert_refused(tmp_path, v1_entry(file_hash=bad_hash), "M003",
                         pointer="/file_hash", words=words)
    # Reported where file_hash is in the v1 file (line 6 of write_json's layout).
    assert (hit["line"], hit["column"]) == (6, 16)


@pytest.mark.parametrize("field", ["version", "provider", "file_hash", "download_url", "name"])
def test_a_field_v2_requires_is_never_invented(tmp_path: Path, field: str) -> None:
    entry = v1_entry()
    del entry[field]
    hit = assert_refused(tmp_path, [entry], "M002", pointer="/0", words=repr(field))
    if field == "provider":
        assert "'huggingface.json'" in hit["message"]


@pytest.mark.parametrize(("entry", "pointer", "words"), [
    (v1_entry(version="1.0"), "/version", "numeric parts"),
    (v1_entry(cache_path="../escape.bin"), "/cache_path", "'..'"),
    (v1_entry(download_url="ftp://e.org/m"), "/download_url", "scheme 'ftp'"),
    (v1_entry(name=5), "/name", "expected a string"),
    (v1_entry(compatibility={"min_client_version": "1.0.0", "os": "linux"}),
     "/compatibility/os", "unknown key 'os'"),
])
def test_a_value_v2_cannot_hold_is_refused_at_its_v1_place(tmp_path: Path, entry: Any,
                                                           pointer: str, words: str) -> None:
    assert_refused(tmp_path, entry, "M003", pointer=pointer, words=words)


def test_existing_v1_extra_is_never_overwritten(tmp_path: Path) -> None:
    entry = v1_entry(license="mit", metadata={EXTRA_KEY: {"old": 1}})
    assert_refused(tmp_path, entry, "M004", pointer=f"/metadata/{EXTRA_KEY}",
                   words="already exists")


def test_unknown_keys_with_non_object_metadata_are_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path, v1_entry(license="mit", metadata="llama"), "M004",
                   pointer="/metadata", words="not an object")


def test_wrapper_keys_other_than_models_are_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path, {"models": [v1_entry()], "owner": "me"}, "M004",
                   pointer="/owner", words="no place in v2")


def test_conflicting_v1_and_v2_keys_are_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path, v1_entry(model="another"), "M004", pointer="/name",
                   words="differ")
    entry = v1_entry(download={"url": "https://e.org/x"})
    assert_refused(tmp_path, entry, "M004", pointer="/download_url", words="differ")


def test_matching_v1_and_v2_keys_merge(tmp_path: Path) -> None:
    entry = v1_entry(model="llama-3.2-1b-instruct:q4_k_m", download={"size": 12})
    document = convert_v1(entry).document
    assert document is not None
    assert document["models"][0]["download"]["size"] == 12


def test_one_bad_entry_leaves_the_whole_file_untouched(tmp_path: Path) -> None:
    data = [v1_entry(), v1_entry(name="b", version="01.0.0")]
    assert_refused(tmp_path, data, "M003", pointer="/1/version", words="leading zero")


# -- files: what is left alone, how files are written -------------------------------------


def test_v2_files_are_left_byte_for_byte_alone(tmp_path: Path) -> None:
    v2 = ('{"schema_version":"2.0",  "models":[\n{"model":"m","provider":"huggingface",'
          '"version":"1.0.0","download":{"url":"https://e.org/m","sha256":"' + SHA_A + '"}}]}')
    path = tmp_path / MODELS / "huggingface.json"
    path.parent.mkdir(parents=True)
    path.write_text(v2)
    mtime = path.stat().st_mtime_ns
    code, found = run("--repo", tmp_path, cwd=tmp_path)
    assert (code, found) == (0, [])
    assert path.read_text() == v2
    assert path.stat().st_mtime_ns == mtime


def test_second_run_changes_nothing_and_exits_zero(tmp_path: Path) -> None:
    path = v1_file(tmp_path, v1_entry())
    assert run("--repo", tmp_path, cwd=tmp_path)[0] == 1
    once = path.read_bytes()
    assert run("--repo", tmp_path, cwd=tmp_path) == (0, [])
    assert path.read_bytes() == once


def test_indent_style_trailing_newline_and_mode_are_kept(tmp_path: Path) -> None:
    tabbed = v1_file(tmp_path, v1_entry(), name="tabbed", indent="\t")
    tabbed.write_text(tabbed.read_text().rstrip("\n"))  # no trailing newline
    compact = v1_file(tmp_path, [v1_entry(name="c", cache_path="c/c.bin")], name="compact",
                      indent=None)
    os.chmod(tabbed, 0o640)
    run(tabbed, compact, cwd=tmp_path)
    text = tabbed.read_text()
    assert text.startswith('{\n\t"schema_version": "2.0",\n\t"models": [\n\t\t{\n\t\t\t"model"')
    assert text.endswith("}")
    assert os.stat(tabbed).st_mode & 0o777 == 0o640
    assert compact.read_text().count("\n") == 1 and compact.read_text().endswith("}\n")


def test_non_ascii_is_written_as_the_original_wrote_it(tmp_path: Path) -> None:
    raw = v1_file(tmp_path, v1_entry(name="modèle"), name="raw")
    escaped = tmp_path / MODELS / "escaped.json"
    escaped.write_text(json.dumps(v1_entry(name="modèle"), indent=2, ensure_ascii=True))
    run(raw, escaped, cwd=tmp_path)
    assert '"model": "modèle"' in raw.read_text("utf-8")
    assert '"model": "mod\\u00e8le"' in escaped.read_text("utf-8")


def test_a_byte_order_mark_is_removed_and_said(tmp_path: Path) -> None:
    path = tmp_path / MODELS / "huggingface.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(v1_entry()).encode())
    code, found = run(path, cwd=tmp_path)
    assert code == 1
    assert [f["rule"] for f in found] == ["M001"]
    assert "byte-order mark" in found[0]["message"]
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert errors_of(path) == []


def test_unreadable_json_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / MODELS / "huggingface.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"name": "x",\n "version": }')
    code, found = run(path, cwd=tmp_path)
    assert code == 1
    assert [(f["rule"], f["line"]) for f in found] == [("J003", 2)]
    assert path.read_text() == '{"name": "x",\n "version": }'


def test_a_repeated_key_is_never_resolved_by_dropping_a_value(tmp_path: Path) -> None:
    # The parser keeps the later "name"; converting would silently lose the earlier one.
    path = tmp_path / MODELS / "huggingface.json"
    path.parent.mkdir(parents=True)
    text = json.dumps(v1_entry(), indent=2).replace('"name"', '"name": "first",\n  "name"', 1)
    path.write_text(text)
    code, found = run(path, cwd=tmp_path)
    assert code == 1
    assert [(f["rule"], f["pointer"], f["line"]) for f in found] == [("J004", "/name", 3)]
    assert path.read_text() == text


def test_a_lone_surrogate_escape_is_written_back_as_an_escape(tmp_path: Path) -> None:
    # Raw non-ASCII text makes the rewrite use raw characters; a lone surrogate has no
    # UTF-8 form, so it must stay the escape it was (and the file the same data).
    path = tmp_path / MODELS / "huggingface.json"
    path.parent.mkdir(parents=True)
    entry = v1_entry(metadata={"family": "llamá", "note": "\ud800"})
    path.write_text(json.dumps(entry, indent=2).replace("\\u00e1", "á"), "utf-8")
    code, found = run(path, cwd=tmp_path)
    assert (code, [f["rule"] for f in found]) == (1, ["M001"])
    text = path.read_text("utf-8")
    assert "llamá" in text and '"\\ud800"' in text
    assert json.loads(text)["models"][0]["metadata"] == entry["metadata"]


def test_no_model_files_is_a_usage_error(tmp_path: Path) -> None:
    result = cli("migrate", "--repo", tmp_path, cwd=tmp_path)
    assert result.exit_code == 2
    assert "no model files" in result.stderr


# -- --check -------------------------------------------------------------------------------


def test_check_prints_a_diff_changes_nothing_and_fails(tmp_path: Path) -> None:
    path = v1_file(tmp_path, v1_entry(file_hash=SHA_A.upper()))
    before = path.read_bytes()
    result = cli("migrate", "--check", path, cwd=tmp_path)
    assert result.exit_code == 1
    assert path.read_bytes() == before
    out = result.stdout
    assert out.startswith(f"--- a/{MODELS}/huggingface.json\n+++ b/{MODELS}/huggingface.json\n")
    assert f'-  "file_hash": "{SHA_A.upper()}",' in out
    assert f'+        "sha256": "{SHA_A}",' in out
    assert "M001 is in the v1 format; `repo-tools migrate` would convert it" in out
    # Applying the printed diff gives exactly what migrate writes.
    patched = tmp_path / "patched"
    patched.mkdir()
    (patched / "huggingface.json").write_bytes(before)
    diff = out[: out.index(f"{MODELS}/huggingface.json:1:1:")]
    subprocess.run(["patch", "-s", "huggingface.json"], input=diff, text=True, check=True,
                   cwd=patched)
    cli("migrate", path, cwd=tmp_path)
    assert (patched / "huggingface.json").read_bytes() == path.read_bytes()


def test_check_passes_on_v2_files(tmp_path: Path) -> None:
    v1_file(tmp_path, v1_entry())
    cli("migrate", "--repo", tmp_path, cwd=tmp_path)
    result = cli("migrate", "--check", "--repo", tmp_path, cwd=tmp_path)
    assert (result.exit_code, result.stdout) == (0, "All checks passed (1 file).\n")


def test_check_with_json_keeps_stdout_machine_readable(tmp_path: Path) -> None:
    path = v1_file(tmp_path, v1_entry())
    result = cli("migrate", "--check", "--format", "json", path, cwd=tmp_path)
    assert result.exit_code == 1
    assert [f["rule"] for f in findings_json(result)] == ["M001"]
    assert result.stderr.startswith("--- a/")


def test_github_format_annotates_the_file(tmp_path: Path) -> None:
    path = v1_file(tmp_path, v1_entry(file_hash="abc"))
    result = cli("migrate", "--format", "github", path, cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stdout.startswith(
        f"::error file={MODELS}/huggingface.json,line=6,col=16,title=M003::M003 cannot convert")


def test_no_newline_at_end_is_marked_in_the_diff(tmp_path: Path) -> None:
    path = v1_file(tmp_path, v1_entry(), indent=None)
    path.write_text(path.read_text().rstrip("\n"))
    out = cli("migrate", "--check", path, cwd=tmp_path).stdout
    assert out.count("\\ No newline at end of file\n") == 2


# -- crashing mid-rewrite ------------------------------------------------------------------


def test_a_failure_between_write_and_rename_leaves_the_original(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = v1_file(tmp_path, v1_entry())
    before = path.read_bytes()

    def crash(tmp: Path, target: Path) -> None:
        assert json.loads(tmp.read_text())["schema_version"] == "2.0"  # fully written
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_before_replace", crash)
    with pytest.raises(KeyboardInterrupt):
        migrate_paths([path], tmp_path, write=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["huggingface.json"]


def test_a_process_killed_between_write_and_rename_leaves_the_original(
        tmp_path: Path) -> None:
    path = v1_file(tmp_path, v1_entry())
    before = path.read_bytes()
    script = (
        "import os, signal, sys\n"
        "from repo_tools import atomic\n"
        "atomic._before_replace = lambda tmp, path: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from repo_tools.cli import main\n"
        "main(['migrate', sys.argv[1]])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    # The new text was complete in the temporary file; only the rename never happened.
    leftovers = [p for p in path.parent.iterdir() if p != path]
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".tmp")
    assert json.loads(leftovers[0].read_text())["schema_version"] == "2.0"
    # The leftover is not a model file: neither validate nor migrate look at it.
    assert run("--repo", tmp_path, cwd=tmp_path)[0] == 1
    assert run("--repo", tmp_path, cwd=tmp_path) == (0, [])


def test_the_installed_command_migrates(tmp_path: Path) -> None:
    path = v1_file(tmp_path, v1_entry())
    result = run_tool("migrate", path, cwd=tmp_path)
    assert result.exit_code == 1
    assert "M001 converted from v1 to v2" in result.stdout
    assert errors_of(path) == []


# -- properties ----------------------------------------------------------------------------

_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.:é", min_size=1, max_size=12)
_num = st.integers(0, 30).map(str)
_semver = st.builds(lambda a, b, c, pre: f"{a}.{b}.{c}{pre}", _num, _num, _num,
                    st.sampled_from(["", "-rc.1", "-beta"]))
_hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
_file_hash = st.builds(lambda h, upper, prefix: prefix + (h.upper() if upper else h),
                       _hex64, st.booleans(), st.sampled_from(["", "sha256:", "SHA256:"]))
_segment = st.text(alphabet="abcdefghij0123456789_-.", min_size=1, max_size=8).filter(
    lambda s: s not in (".", ".."))
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8)
KNOWN = {"name", "version", "provider", "download_url", "file_hash", "cache_path",
         "compatibility", "metadata", "model", "ranking", "download", "schema_version",
         "models"}
_extra = st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in KNOWN),
                         _json_value, max_size=3)


@st.composite
def _compatibility(draw: st.DrawFn) -> dict[str, Any]:
    low, high = sorted(draw(st.lists(st.integers(0, 9), min_size=2, max_size=2)))
    compat: dict[str, Any] = {"min_client_version": f"{low}.0.0"}
    compat["max_client_version"] = draw(st.sampled_from([f"{high}.0.0", None]))
    compat["supported_platforms"] = draw(st.lists(st.sampled_from(
        ["linux", "macos", "windows"]), unique=True))
    return compat


@st.composite
def v1_entries(draw: st.DrawFn, name: str, index: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "version": draw(_semver),
        "provider": draw(_name),
        "download_url": f"https://{draw(_segment)}.org/{draw(_segment)}",
        "file_hash": draw(_file_hash),
    }
    if draw(st.booleans()):
        entry["cache_path"] = "/".join(draw(st.lists(_segment, min_size=1, max_size=3))) + (
            f".{index}")
    if draw(st.booleans()):
        entry["compatibility"] = draw(_compatibility())
    if draw(st.booleans()):
        entry["metadata"] = draw(st.dictionaries(st.text(max_size=5).filter(
            lambda k: k != EXTRA_KEY), _json_value, max_size=3))
    entry.update(draw(_extra))
    order = draw(st.permutations(list(entry)))
    return {key: entry[key] for key in order}


@st.composite
def v1_documents(draw: st.DrawFn) -> Any:
    shape = draw(st.sampled_from(["object", "list", "wrapper"]))
    names = draw(st.lists(_name, min_size=1, max_size=1 if shape == "object" else 3,
                          unique=True))
    entries = [draw(v1_entries(name, i)) for i, name in enumerate(names)]
    if shape == "object":
        return entries[0]
    return entries if shape == "list" else {"models": entries}


def v1_entries_of(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, list):
        return document
    models: list[dict[str, Any]] = document.get("models", [document])
    return models


def leaves(value: Any, pointer: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in leaves(v, pointer_join(pointer, k))]
    if isinstance(value, list) and value:
        return [leaf for i, v in enumerate(value) for leaf in leaves(v, pointer_join(pointer, i))]
    return [(pointer, value)]


def resolve(document: Any, pointer: str) -> Any:
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


# Where the documented mapping puts each top-level v1 key (anything else: metadata.v1_extra).
WHERE = {"name": "/model", "download_url": "/download/url", "file_hash": "/download/sha256",
         "cache_path": "/download/cachePath"}


def v2_pointer(key: str, rest: str) -> str:
    if key in WHERE:
        return WHERE[key] + rest
    if key in {"provider", "version", "compatibility", "metadata"}:
        return pointer_join("", key) + rest
    return pointer_join("", "metadata", EXTRA_KEY, key) + rest


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(document=v1_documents(), indent=st.sampled_from([None, 2, 4, "\t"]))
def test_generated_v1_documents_migrate_to_valid_v2_losing_nothing(
        tmp_path_factory: pytest.TempPathFactory, document: Any, indent: Any) -> None:
    root = tmp_path_factory.mktemp("prop")
    path = v1_file(root, document, indent=indent)
    first = migrate_paths([path], root, write=True)
    assert [f.rule for f in first.findings] == ["M001"]
    # A placeholder digest (V015) converts faithfully; validate reports it afterwards.
    assert [e for e in errors_of(path) if not e.startswith("V015")] == []
    migrated = path.read_bytes()
    # Migrating twice equals migrating once.
    assert migrate_paths([path], root, write=True).findings == []
    assert path.read_bytes() == migrated
    # Every v1 value is in the v2 output, at the place the documented mapping says.
    v2_models = json.loads(migrated)["models"]
    v1_models = v1_entries_of(document)
    assert len(v2_models) == len(v1_models)
    for v1_model, v2_model in zip(v1_models, v2_models, strict=True):
        for pointer, value in leaves(v1_model):
            key, slash, rest = pointer[1:].partition("/")
            key = key.replace("~1", "/").replace("~0", "~")
            found = resolve(v2_model, v2_pointer(key, slash + rest))
            expected = normalise_sha256(value) if key == "file_hash" else value
            if expected == {}:  # an empty v1 metadata may have gained v1_extra
                assert isinstance(found, dict), (pointer, found)
            else:
                assert found == expected, (pointer, found, expected)
            if key == "file_hash":
                assert found.lower().endswith(value.lower()[-64:])
        assert v2_model["ranking"] == 0


_v1_keys = st.sampled_from(["name", "version", "provider", "download_url", "file_hash",
                            "cache_path", "compatibility", "metadata", "model", "download",
                            "ranking", "extra"])
_junk_entry = st.dictionaries(_v1_keys, _json_value | _semver | _file_hash, max_size=8)


@given(st.one_of(_junk_entry.map(lambda e: {**e, "name": "n"}),
                 st.lists(_junk_entry | _json_value, max_size=3).map(
                     lambda es: [*es, {"file_hash": "x"}]),
                 st.dictionaries(st.sampled_from(["models", "x"]), _json_value, max_size=2).map(
                     lambda d: {**d, "models": [{"cache_path": "c"}]})))
def test_any_v1_shaped_input_is_converted_to_valid_v2_or_refused(document: Any) -> None:
    conversion = convert_v1(document, "p.json")
    if conversion.document is not None:
        assert conversion.problems == []
        checked = check_document(JsonDocument("p.json", "", conversion.document))
        assert [f for f in checked if f.severity is Severity.ERROR] == []
    else:
        assert conversion.problems
        assert {f.rule for f in conversion.problems} <= {"M002", "M003", "M004"}
        text = json.dumps(document)
        doc = JsonDocument("p.json", text, document)
        for f in doc.locate(conversion.problems):  # every problem points into the v1 file
            assert f.line >= 1 and f.column >= 1


def test_realistic_catalog_entries_migrate_and_validate(tmp_path: Path) -> None:
    """LM Studio's catalog hashes are real SHA-256s: as v1 entries they must migrate."""
    catalog = real_catalogs.CATALOGS / "lmstudio_catalog.json"
    entries = []
    for item in json.loads(catalog.read_text()):
        for index, file in enumerate(item.get("files", {}).get("all", [])):
            entries.append({
                "name": f"{item['name']}:{index}",
                "version": "1.0.0",
                "provider": "lmstudio",
                "download_url": file["url"],
                "file_hash": file["sha256checksum"].upper(),
                "cache_path": f"lmstudio/{file['name']}",
                "publisher": file.get("publisher", {}).get("name"),
            })
    assert len(entries) > 20
    path = v1_file(tmp_path, entries, name="lmstudio")
    code, found = run(path, cwd=tmp_path)
    assert (code, [f["rule"] for f in found]) == (1, ["M001"])
    assert errors_of(path) == []
    doc, _ = load_json_file(path)
    assert doc is not None and len(doc.data["models"]) == len(entries)


def test_a_symlinked_file_is_migrated_through_the_link(tmp_path: Path) -> None:
    target = write_json(tmp_path / "shared" / "huggingface.json", v1_entry())
    link = tmp_path / MODELS / "huggingface.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    assert run(link, cwd=tmp_path)[0] == 1
    assert link.is_symlink()
    assert json.loads(target.read_text())["schema_version"] == "2.0"


def test_the_broken_example_repo_has_a_v1_file_that_migrates(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "broken-repo"
    repo = tmp_path / "repo"
    shutil.copytree(example, repo)
    legacy = repo / MODELS / "gpt4all.json"
    assert "S005" in {f.rule for f in validate_paths([legacy], repo).findings}
    code, found = run("--repo", repo, cwd=repo)
    assert (code, [(f["path"], f["rule"]) for f in found]) == (
        1, [(f"{MODELS}/gpt4all.json", "M001")])
    assert errors_of(legacy) == []
    assert run("--repo", repo, cwd=repo) == (0, [])


def test_an_entry_without_any_download_field_is_refused_not_half_converted() -> None:
    # Found by the property above: no download_url, file_hash or cache_path used to give
    # a v2 entry without `download`, which validate then rejects (S001).
    conversion = convert_v1({"version": "0.0.0", "provider": "0", "name": "n"}, "p.json")
    assert conversion.document is None
    assert {f.rule for f in conversion.problems} == {"M002"}
    assert any("download_url" in f.message for f in conversion.problems)
