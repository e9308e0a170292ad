"""The release diff's text: what a maintainer reads before a release goes out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from repo_tools import outlook
from repo_tools.release import publish, signing
from repo_tools.release.archive import collect
from repo_tools.release.diff import diff_releases
from repo_tools.release.fetch import FetchError
from repo_tools.release.manifest import INDEX_PATH, canonical_json
from repo_tools.release.publish import ReleaseRequest, prepare_release
from repo_tools.snapshot import from_files
from tests.support.helpers import config, model, write_json

MODEL_FILE = "versions/v1.0.0/models/huggingface.json"
INDEX = json.dumps({"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}}).encode()


def release_of(entry: dict[str, Any]) -> dict[str, bytes]:
    return {"index.json": INDEX, MODEL_FILE: json.dumps(config(entry)).encode()}


def diff_text(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return diff_releases(release_of(old), release_of(new)).lines()


def without(entry: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != key}


def test_a_field_one_side_lacks_is_shown_as_absent() -> None:
    plain = without(model(compatibility={"min_client_version": "1.0.0"}), "ranking")
    ranked = model(ranking=1, compatibility={"min_client_version": "1.0.0",
                                             "supported_platforms": ["linux", "macos"]})
    [change] = [line for line in diff_text(plain, ranked) if line.startswith("changed")]
    assert change.endswith('(platforms (absent) -> ["linux", "macos"]; ranking (absent) -> 1)')
    [back] = [line for line in diff_text(ranked, plain) if line.startswith("changed")]
    assert back.endswith('(platforms ["linux", "macos"] -> (absent); ranking 1 -> (absent))')


FIELDS = st.dictionaries(
    st.sampled_from(["version", "ranking", "compatibility"]),
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["1.0.0", "2.0.0"]),
              st.just({"supported_platforms": ["linux"]}), st.just({"supported_platforms": []})),
)


@given(FIELDS, FIELDS, st.sets(st.sampled_from(["version", "ranking", "compatibility"])))
def test_the_text_never_shows_python_values(old: dict[str, Any], new: dict[str, Any],
                                            dropped: set[str]) -> None:
    before = {k: v for k, v in model(**old).items() if k not in dropped}
    for line in diff_text(before, model(**new)):
        for python in ("None", "True", "False", "['", "{'"):
            assert python not in line, line


# --- a release diffs only the config versions it changes, and gets the full diff ----------
# `prepare_release` reads from the previous release only the archives of config versions
# whose archive changed (all of them when the index changed). These tests hold it to the
# diff (and shrink verdicts) of every file of both releases.

VERSIONS = ("v1.0.0", "v1.5.0", "v2.0.0")
INDEXES = (
    {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}},
    {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "2.0.0"},
     "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": None}},
    {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.5.0"},
     "v1.5.0": {"min_client_version": "1.5.0", "max_client_version": None}},
    {"v1.5.0": {"min_client_version": "1.0.0", "max_client_version": "2.0.0"},
     "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": None}},
)
# config version -> provider -> model name -> variant (another url: a "changed" model)
State = dict[str, dict[str, dict[str, int]]]
PROVIDER = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 1),
                           min_size=1, max_size=4)
VERSION = st.dictionaries(st.sampled_from(["hf", "acme"]), PROVIDER, min_size=1, max_size=2)
STATE = st.dictionaries(st.sampled_from(VERSIONS), VERSION, min_size=1, max_size=3)
EPOCH = 1_767_225_600
NOW = dt.datetime.fromtimestamp(EPOCH + 86_400, dt.UTC)
KEY = Ed25519PrivateKey.generate()


def _doc(provider: str, models: dict[str, int]) -> dict[str, Any]:
    return config(*(model(model=name, provider=provider, compatibility={
        "min_client_version": "1.0.0"}, download={
        "url": f"https://example.org/{provider}/{name}/{variant}.gguf",
        "sha256": hashlib.sha256(f"{provider}/{name}".encode()).hexdigest(),
        "cachePath": f"{provider}/{name}.gguf"}) for name, variant in sorted(models.items())))


def _write(root: Path, state: State, index: dict[str, Any]) -> None:
    shutil.rmtree(root / "versions", ignore_errors=True)
    for config_version, providers in state.items():
        for provider, models in providers.items():
            write_json(root / f"versions/{config_version}/models/{provider}.json",
                       _doc(provider, models))
    # An index entry without model files is refused (I002): offer only what is there.
    write_json(root / "index.json", {"versions": {
        name: entry for name, entry in index.items() if name in state}})


def _request(root: Path, out: Path, previous: Path | None = None) -> ReleaseRequest:
    return ReleaseRequest(root, out, repository="demo", created=str(EPOCH),
                          previous=str(previous) if previous else None, allow_removals=True,
                          allow_shrink=True)


def _publish(root: Path, out: Path) -> None:
    prepared = prepare_release(_request(root, out), now=NOW, environ={})
    publish.write_release(prepared, signing.sign(prepared.manifest_bytes, KEY), out)


def _all_files(root: Path) -> dict[str, bytes]:
    """Every file a release of the tree at root holds, read the plain way."""
    collection = collect(root, use_git=False)
    files = {INDEX_PATH: canonical_json(json.loads(collection.index.data))}
    for config_version in collection.versions:
        files.update((f.path, f.data) for f in collection.read_version(config_version))
    return files


def _check_diff_is_the_full_diff(tmp: Path, old: State, old_index: dict[str, Any],
                                 new: State, new_index: dict[str, Any]) -> None:
    root, out = tmp / "repo", tmp / "out"
    _write(root, old, old_index)
    _publish(root, out)
    before = _all_files(root)
    _write(root, new, new_index)
    prepared = prepare_release(dataclasses.replace(_request(root, out), dry_run=True),
                               now=NOW, environ={})
    after = _all_files(root)
    assert prepared.previous is not None
    assert prepared.previous.all_files() == before  # what was published is what was there
    assert prepared.diff == diff_releases(before, after)
    assert list(prepared.shrinks) == outlook.shrinks(from_files(before), from_files(after))


def _mutated(data: st.DataObject, old: State) -> State:
    """old with some config versions kept as they are and others redrawn (or dropped)."""
    new: State = {}
    for config_version in VERSIONS:
        kept = data.draw(st.booleans())
        if kept and config_version in old:
            new[config_version] = old[config_version]
        elif data.draw(st.booleans()):
            new[config_version] = data.draw(VERSION)
    return new or old


@given(STATE, st.sampled_from(INDEXES), st.data())
def test_a_release_diff_is_the_diff_of_every_file(old: State, old_index: dict[str, Any],
                                                  data: st.DataObject) -> None:
    new = _mutated(data, old)
    new_index = data.draw(st.one_of(st.just(old_index), st.sampled_from(INDEXES)))
    with tempfile.TemporaryDirectory() as tmp:
        _check_diff_is_the_full_diff(Path(tmp), old, old_index, new, new_index)


V1 = {"hf": {"a": 0, "b": 0}}
V2 = {"hf": {"c": 0, "d": 0}}
CASES: dict[str, tuple[State, dict[str, Any], State, dict[str, Any]]] = {
    "same index, nothing changed": ({"v1.0.0": V1, "v2.0.0": V2}, INDEXES[1],
                                    {"v1.0.0": V1, "v2.0.0": V2}, INDEXES[1]),
    "same index, one version changed": ({"v1.0.0": V1, "v2.0.0": V2}, INDEXES[1],
                                        {"v1.0.0": V1, "v2.0.0": {"hf": {"c": 1}}}, INDEXES[1]),
    "same index, a version removed": ({"v1.0.0": V1, "v2.0.0": V2}, INDEXES[1],
                                      {"v1.0.0": V1}, INDEXES[1]),
    "same index, a version added": ({"v1.0.0": V1}, INDEXES[1],
                                    {"v1.0.0": V1, "v2.0.0": V2}, INDEXES[1]),
    "index changed, files not": ({"v1.0.0": V1, "v2.0.0": V2}, INDEXES[1],
                                 {"v1.0.0": V1, "v2.0.0": V2}, INDEXES[0]),
    "index and files changed": ({"v1.0.0": V1, "v1.5.0": V2}, INDEXES[2],
                                {"v1.5.0": {"acme": {"a": 1}}, "v2.0.0": V2}, INDEXES[3]),
}


@pytest.mark.parametrize("case", CASES)
def test_a_release_diff_is_the_diff_of_every_file_in_these_cases(tmp_path: Path,
                                                                 case: str) -> None:
    _check_diff_is_the_full_diff(tmp_path, *CASES[case])


def test_with_the_same_index_only_changed_versions_are_read(tmp_path: Path) -> None:
    # The previous release lacks the archive of v1.0.0, which the new release does not
    # change: a release that read it would fail (it is gone); this one does not need it.
    root, out = tmp_path / "repo", tmp_path / "out"
    _write(root, {"v1.0.0": V1, "v2.0.0": V2}, INDEXES[1])
    _publish(root, out)
    unchanged = out / json.loads((out / "manifest.json").read_bytes())["versions"]["v1.0.0"][
        "archive"]
    unchanged.unlink()
    _write(root, {"v1.0.0": V1, "v2.0.0": {"hf": {"c": 1, "d": 0}}}, INDEXES[1])
    prepared = prepare_release(_request(root, tmp_path / "next", previous=out), now=NOW,
                               environ={})
    try:
        assert prepared.diff is not None
        assert prepared.diff.files_changed == ("versions/v2.0.0/models/hf.json",)
        assert [c.describe() for c in prepared.diff.model_changes] == [
            "changed v2.0.0: hf/c (url https://example.org/hf/c/0.gguf -> "
            "https://example.org/hf/c/1.gguf)"]
    finally:
        prepared.discard()
    # With another index every version can move a client: then every archive is read.
    _write(root, {"v1.0.0": V1, "v2.0.0": {"hf": {"c": 1, "d": 0}}}, INDEXES[0])
    with pytest.raises(FetchError, match="does not exist"):
        prepare_release(_request(root, tmp_path / "next", previous=out), now=NOW, environ={})
    assert not list(tmp_path.glob(".release-*"))
