"""The client's pure parts: reading model files (v1 converted, bad entries skipped), the
merge of remote over defaults, conflicts and the shrink measure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.client.catalog import (
    InvalidRemote,
    load_defaults,
    parse_model_file,
    parse_remote_files,
)
from repo_tools.client.merge import drop_conflicts, dropped_models, merge_models
from repo_tools.compat import select_models
from repo_tools.model import ModelEntry, entries_from
from tests.support.client_helpers import entry, fake_sha


def typed(models: list[dict[str, Any]]) -> list[ModelEntry]:
    return entries_from(models)


def raws(entries: list[ModelEntry]) -> list[Any]:
    return [e.raw for e in entries]


def model_key(model: dict[str, Any]) -> tuple[str, str]:
    return (model["provider"], model["model"])


def raw(data: Any) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode()


def test_bad_entries_are_skipped_with_their_position_and_the_rest_kept() -> None:
    good = entry("good", "https://example.org/g", fake_sha("g"))
    typo = {**entry("typo", "https://example.org/t", fake_sha("t")), "rankng": 3}
    bad_range = entry("range", "https://example.org/r", fake_sha("r"),
                      min_client_version="2.0.0", max_client_version="1.0.0")
    kept, skipped = parse_model_file(raw({"schema_version": "2.0",
                                          "models": [good, typo, bad_range]}), "acme.json")
    assert [m["model"] for m in kept] == ["good"]
    assert [(s.rule, s.pointer) for s in skipped] == [("C006", "/models/1"), ("C006", "/models/2")]
    assert "S003" in skipped[0].message and "V002" in skipped[1].message
    assert skipped[0].line > 0 and skipped[1].line > skipped[0].line


def test_a_broken_file_is_skipped_whole() -> None:
    for data in (b"{", b'{"models": 3}', b"\xff\xfe", b'{"schema_version": "9.0", "models": []}'):
        kept, skipped = parse_model_file(data, "x.json")
        assert kept == [] and [s.rule for s in skipped] == ["C006"]
        assert "the whole file" in skipped[0].message


def test_duplicate_keys_skip_only_their_entry() -> None:
    text = ('{"schema_version": "2.0", "models": ['
            + json.dumps(entry("a", "https://e.org/a", fake_sha("a")))[:-1]
            + ', "ranking": 5}, ' + json.dumps(entry("b", "https://e.org/b", fake_sha("b")))
            + "]}")
    kept, skipped = parse_model_file(text.encode(), "acme.json")
    assert [m["model"] for m in kept] == ["b"]
    assert "J004" in skipped[0].message


def test_v1_defaults_are_converted_entry_by_entry(tmp_path: Path) -> None:
    (tmp_path / "acme.json").write_bytes(raw([
        {"name": "old", "provider": "acme", "version": "1.0.0",
         "download_url": "https://e.org/o", "file_hash": "SHA256:" + "A" * 64,
         "cache_path": "acme/o.bin", "license": "MIT"},
        {"name": "no-hash", "provider": "acme", "version": "1.0.0",
         "download_url": "https://e.org/n"},
    ]))
    (tmp_path / "broken.json").write_text("[")
    models, skipped = load_defaults(tmp_path)
    assert models == [{"model": "old", "provider": "acme", "version": "1.0.0", "ranking": 0,
                       "download": {"url": "https://e.org/o", "sha256": "a" * 64,
                                    "cachePath": "acme/o.bin"},
                       "metadata": {"v1_extra": {"license": "MIT"}}}]
    assert [s.path.rsplit("/", 1)[-1] for s in skipped] == ["acme.json", "broken.json"]
    assert "no-hash" in skipped[0].message and "M002" in skipped[0].message
    assert load_defaults(tmp_path / "absent") == ([], [])


def test_a_remote_without_a_usable_index_is_invalid() -> None:
    for files in ({}, {"index.json": b"{"}, {"index.json": b"[]"},
                  {"index.json": b'{"versions": {}, "versions": {}}'}):
        with pytest.raises(InvalidRemote):
            parse_remote_files(files)


def test_remote_files_are_grouped_by_config_version() -> None:
    files = {"index.json": b'{"versions": {}}',
             "versions/v1.0.0/models/a.json": raw({"schema_version": "2.0", "models": [
                 entry("a", "https://e.org/a", fake_sha("a"), provider="a")]}),
             "versions/v1.0.0/models/b.json": b"nope",
             "versions/v2.0.0/models/a.json": raw({"schema_version": "2.0", "models": []})}
    remote = parse_remote_files(files)
    assert [m.model for m in remote.models_of("v1.0.0")] == ["a"]
    assert remote.models_of("v2.0.0") == [] and remote.models_of("v9.0.0") == []
    assert [s.path for s in remote.skipped["v1.0.0"]] == ["versions/v1.0.0/models/b.json"]


def test_conflicting_entries_keep_the_first() -> None:
    first = entry("a", "https://e.org/a", fake_sha("1"), cache_path="x/A.bin")
    same_identity = entry("a", "https://e.org/a2", fake_sha("2"), cache_path="x/other.bin")
    same_path = entry("b", "https://e.org/b", fake_sha("3"), cache_path="x/a.bin")
    shared_ok = entry("c", "https://e.org/c", fake_sha("1"), cache_path="x/a.bin")
    kept, skipped = drop_conflicts(typed([first, same_identity, same_path, shared_ok]))
    assert raws(kept) == [first, shared_ok]
    assert len(skipped) == 2 and all(s.rule == "C006" for s in skipped)


names = st.sampled_from(["a", "b", "c", "d", "e"])
providers = st.sampled_from(["p", "q"])
models = st.lists(st.builds(lambda n, p, r: {"model": n, "provider": p, "ranking": r},
                            names, providers, st.integers(0, 3)), max_size=8)


@given(defaults=models, remote=models)
def test_merge_is_remote_over_defaults_by_provider_and_model(
        defaults: list[dict[str, Any]], remote: list[dict[str, Any]]) -> None:
    merged = raws(merge_models(typed(defaults), typed(remote)))
    remote_keys = {model_key(m) for m in remote}
    assert merged[:len(remote)] == remote  # every remote entry, unchanged
    rest = merged[len(remote):]
    assert rest == [m for m in defaults if model_key(m) not in remote_keys]
    assert {model_key(m) for m in merged} == remote_keys | {model_key(m) for m in defaults}


@given(before=models, after=models)
def test_dropped_models_counts_distinct_keys(before: list[dict[str, Any]],
                                             after: list[dict[str, Any]]) -> None:
    gone, total = dropped_models(typed(before), typed(after))
    assert total == len({model_key(m) for m in before})
    assert 0 <= gone <= total
    assert dropped_models(typed(before), typed([*after, *before])) == (0, total)
    if not {model_key(m) for m in before} & {model_key(m) for m in after}:
        assert gone == total


compatible = st.builds(
    lambda n, p, r, v, low, plats: {
        "model": n, "provider": p, "ranking": r, "version": v,
        "compatibility": {"min_client_version": low,
                          **({"supported_platforms": plats} if plats else {})}},
    names, providers, st.integers(0, 2), st.sampled_from(["1.0.0", "1.1.0", "2.0.0"]),
    st.sampled_from(["0.1.0", "1.0.0", "3.0.0"]),
    st.lists(st.sampled_from(["linux", "macos"]), max_size=2, unique=True))


@given(defaults=st.lists(compatible, max_size=8), remote=st.lists(compatible, max_size=8),
       client=st.sampled_from(["0.5.0", "1.0.0", "4.0.0"]),
       platform=st.sampled_from([None, "linux", "macos"]))
def test_selecting_defaults_before_the_merge_changes_nothing(
        defaults: list[dict[str, Any]], remote: list[dict[str, Any]], client: str,
        platform: str | None) -> None:
    """The loader selects once, after merging: the same list, order included, as selecting
    the defaults first."""
    once = select_models(merge_models(typed(defaults), typed(remote)), client, platform)
    twice = select_models(merge_models(select_models(typed(defaults), client, platform),
                                       typed(remote)), client, platform)
    assert raws(once) == raws(twice)
