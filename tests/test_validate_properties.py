"""Generated valid documents validate clean; any single corruption is reported at its place."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from repo_tools.checks.placeholders import placeholder_sha256
from repo_tools.checks.validate import (
    check_document,
    collect_models,
    cross_file_findings,
    places_in,
)
from repo_tools.jsonfile import load_json_bytes
from repo_tools.versions import version_key

numbers = st.integers(min_value=0, max_value=30)
prerelease = st.lists(st.from_regex(r"(0|[1-9][0-9]{0,2}|[a-z][a-z0-9-]{0,4})", fullmatch=True),
                      min_size=1, max_size=2).map(".".join)
semver = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    numbers, numbers, numbers, st.none() | prerelease,
)
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x85"),
    min_size=1, max_size=20,
).filter(lambda s: s.strip() != "")
hexdigest = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).filter(
    lambda s: placeholder_sha256(s) is None)  # V015: known placeholders are not valid


@st.composite
def models(draw: st.DrawFn, index: int, name: str) -> dict[str, Any]:
    low, high = sorted([draw(semver), draw(semver)], key=version_key)
    entry: dict[str, Any] = {
        "model": name,
        "provider": "huggingface",
        "version": draw(semver),
        "download": {
            "url": f"https://huggingface.co/org/r{index}/resolve/main/m.gguf",
            "sha256": draw(hexdigest),
        },
    }
    if draw(st.booleans()):
        entry["ranking"] = draw(st.integers(min_value=-1000, max_value=1000))
    if draw(st.booleans()):
        entry["download"]["cachePath"] = f"models/m{index}.gguf"
    if draw(st.booleans()):
        entry["compatibility"] = {"min_client_version": low,
                                  "max_client_version": draw(st.sampled_from([high, None]))}
        if draw(st.booleans()):
            entry["compatibility"]["supported_platforms"] = draw(
                st.lists(st.sampled_from(["linux", "macos", "windows", "android"]),
                         min_size=1, unique=True))
    if draw(st.booleans()):
        entry["metadata"] = {"note": draw(names)}
    return entry


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    model_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    return {"schema_version": "2.0",
            "models": [draw(models(i, name)) for i, name in enumerate(model_names)]}


# field inside a model -> (invalid values, rule)
CORRUPTIONS: dict[str, tuple[list[Any], str]] = {
    "version": (["1.0", "01.2.3", "v1.2.3", "1.2.3.4", "", 3], "V001"),
    "download/url": (["ftp://x/y", "javascript:alert(1)", "https://", "h ttps://x", 7], "V003"),
    "download/sha256": (["A" * 64, "sha256:" + "a" * 64, "abc", "g" * 64], "V005"),
    "download/cachePath": (["../x", "/abs", "a\\b", "C:/x", "a//b"], "V006"),
    "model": (["", "a\x00b", "line\nbreak", None], "V010"),
    "ranking": (["1", 1.5, True, 10**12], "S002"),
    "compatibility/min_client_version": (["1", "1.0.0.0", "v2.0.0"], "V001"),
}
TYPE_RULE = "S002"
SCHEMA_RULE = "S004"


def check(data: Any) -> list[Any]:
    raw = json.dumps(data, indent=2, ensure_ascii=False).encode()
    doc, findings = load_json_bytes(raw, "huggingface.json")
    assert doc is not None
    found = doc.locate(findings + check_document(doc))
    found += doc.locate(cross_file_findings(collect_models(doc), {"huggingface.json"},
                                             places_in({doc.path: doc})))
    return found


@given(documents())
def test_generated_valid_documents_are_clean(data: dict[str, Any]) -> None:
    assert check(data) == []


@given(documents(), st.data())
def test_single_corruption_is_reported_with_pointer_and_line(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    index = draw.draw(st.integers(min_value=0, max_value=len(data["models"]) - 1))
    field = draw.draw(st.sampled_from(sorted(CORRUPTIONS)))
    values, rule = CORRUPTIONS[field]
    value = draw.draw(st.sampled_from(values))
    corrupted = copy.deepcopy(data)
    target = corrupted["models"][index]
    *parents, last = field.split("/")
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value
    pointer = f"/models/{index}/{field}"

    found = check(corrupted)
    at_pointer = [f for f in found if f.pointer == pointer]
    expected_rules = {rule, TYPE_RULE, SCHEMA_RULE} if not isinstance(value, str) else {rule}
    assert at_pointer and {f.rule for f in at_pointer} <= expected_rules | {SCHEMA_RULE}, found
    assert rule in {f.rule for f in at_pointer} or not isinstance(value, str)
    # The reported line is the line where that member is written.
    text = json.dumps(corrupted, indent=2, ensure_ascii=False)
    member = f"{json.dumps(last)}: {json.dumps(value, ensure_ascii=False)}"
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith(member)]
    assert at_pointer[0].line in lines
    assert text.splitlines()[at_pointer[0].line - 1][at_pointer[0].column - 1:].startswith(
        json.dumps(value, ensure_ascii=False))


@given(documents(), st.data())
def test_renamed_key_is_reported_at_the_key(data: dict[str, Any], draw: st.DataObject) -> None:
    index = draw.draw(st.integers(min_value=0, max_value=len(data["models"]) - 1))
    corrupted = copy.deepcopy(data)
    download = corrupted["models"][index]["download"]
    download["sha265"] = download.pop("sha256")
    found = check(corrupted)
    typo = [f for f in found if f.rule == "S003"]
    assert [f.pointer for f in typo] == [f"/models/{index}/download/sha265"]
    line = json.dumps(corrupted, indent=2, ensure_ascii=False).splitlines()[typo[0].line - 1]
    assert line[typo[0].column - 1:].startswith('"sha265"')
    assert "sha256" in typo[0].message
    missing = [f for f in found if f.rule == "S001"]
    assert [f.pointer for f in missing] == [f"/models/{index}/download"]
