"""The strict loader and the position scanner, against the C parser as the oracle."""

from __future__ import annotations

import json
from typing import Any

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
