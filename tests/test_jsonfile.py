"""The strict loader and the position scanner, against the C parser as the oracle."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.jsonfile import load_json_bytes, pointer_join, scan_positions

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


def walk(value: Any, pointer: str = "") -> list[tuple[str, Any]]:
    out = [(pointer, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(walk(v, pointer_join(pointer, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(walk(v, pointer_join(pointer, i)))
    return out


@given(json_values, st.sampled_from([None, 0, 2, 4, "\t"]), st.booleans())
def test_every_value_position_points_at_that_value(value: Any, indent: Any, ascii_: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_)
    positions = scan_positions(text)
    decoder = json.JSONDecoder()
    for pointer, expected in walk(value):
        offset = positions.values[pointer]
        parsed, _ = decoder.raw_decode(text, offset)
        assert parsed == expected or (parsed != parsed and expected != expected)
        line, column = positions.value_position(pointer)
        lines = text.split("\n")
        assert lines[line - 1][column - 1:] == text[offset:].split("\n")[0]


def test_duplicate_keys_are_reported_at_the_second_key_and_parsing_goes_on() -> None:
    raw = b'{\n  "a": 1,\n  "b": {"x": 1, "x": 2},\n  "a": 3\n}\n'
    doc, findings = load_json_bytes(raw, "f.json")
    assert doc is not None and doc.data == {"a": 3, "b": {"x": 2}}
    got = sorted((f.rule, f.pointer, f.line, f.column) for f in findings)
    assert got == [("J004", "/a", 4, 3), ("J004", "/b/x", 3, 17)]


def test_bom_is_reported_and_content_still_checked() -> None:
    doc, findings = load_json_bytes(b'\xef\xbb\xbf{"a": 1}', "f.json")
    assert [f.rule for f in findings] == ["J002"]
    assert doc is not None and doc.data == {"a": 1}


def test_invalid_utf8_position_is_the_bad_byte() -> None:
    doc, findings = load_json_bytes(b'{\n  "a": "caf\xe9"\n}', "f.json")
    assert doc is None
    assert [(f.rule, f.line, f.column) for f in findings] == [("J001", 2, 12)]


def test_pointer_tokens_are_escaped() -> None:
    assert pointer_join("", "a/b", "c~d", 0) == "/a~1b/c~0d/0"


@pytest.mark.parametrize(("tail", "rule"), [(b"NaN", "J006"), (b"1e999", "J006"),
                                            (b"[" * 100_000 + b"]" * 100_000, "J007")])
def test_a_duplicate_key_before_another_problem_still_gives_findings(tail: bytes,
                                                                     rule: str) -> None:
    # The duplicate stops the strict parse first; the second, lenient parse must not
    # raise on what comes after it.
    doc, findings = load_json_bytes(b'[{"a": 1, "a": 2}, ' + tail + b"]", "f.json")
    assert doc is None
    assert rule in {f.rule for f in findings}
    assert all(f.line >= 1 and f.column >= 1 for f in findings)


def test_positions_of_a_repeated_key_are_those_of_the_value_in_effect() -> None:
    text = '{\n  "v": {"min": "1.0.0"},\n  "v": {"min": "bad"}\n}\n'
    doc, findings = load_json_bytes(text.encode(), "f.json")
    assert doc is not None and doc.data == {"v": {"min": "bad"}}
    assert [(f.rule, f.line, f.column) for f in findings] == [("J004", 3, 3)]
    line, column = doc.positions.value_position("/v/min")
    assert text.splitlines()[line - 1][column - 1:].startswith('"bad"')
    assert doc.positions.key_position("/v") == (3, 3)


@given(json_values, st.sampled_from(["\r\n", "\n"]), st.sampled_from([2, "\t"]))
def test_positions_hold_for_crlf_and_odd_keys(value: Any, newline: str, indent: Any) -> None:
    # Keys with escaped quotes, backslashes and astral characters, and CRLF line ends:
    # a line/column pair names the same character an editor shows there.
    wrapped = {'k"\\ey\U0001f999': value, "\\": [value]}
    text = json.dumps(wrapped, indent=indent, ensure_ascii=False).replace("\n", newline)
    positions = scan_positions(text)
    lines = text.split("\n")
    for pointer, expected in walk(wrapped):
        line, column = positions.value_position(pointer)
        parsed, _ = json.JSONDecoder().raw_decode("\n".join(lines[line - 1:]), column - 1)
        assert parsed == expected or (parsed != parsed and expected != expected)
