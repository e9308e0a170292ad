"""Writing JSON back in the style of the original file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.jsonformat import JsonStyle, detect_style, dumps_like, dumps_styled

DATA = {"schema_version": "2.0", "models": [{"model": "é", "tags": ["a", "b"], "n": 1}]}


@pytest.mark.parametrize(("text", "indent"), [
    ('{\n  "a": [\n    1\n  ]\n}\n', 2),
    ('{\n    "a": {\n        "b": 1\n    }\n}', 4),
    ('{\n\t"a": [\n\t\t1\n\t]\n}\n', "\t"),
    ('{\n"a": 1\n}\n', 0),
    ('{"a": [1, 2]}', None),
    # The first indented line is two levels deep: the unit is half of it.
    ('{"a": [\n    {\n      "b": 1\n    }\n  ]\n}', 2),
])
def test_detects_the_indent_unit(text: str, indent: int | str | None) -> None:
    assert detect_style(text).indent == indent


def test_detects_compact_separators() -> None:
    tight = detect_style('{"a":1,"b":[1,2]}')
    assert (tight.item_separator, tight.key_separator) == (",", ":")
    spaced = detect_style('{"a": 1, "b": [1, 2]}')
    assert (spaced.item_separator, spaced.key_separator) == (", ", ": ")


def test_separators_inside_strings_are_ignored() -> None:
    style = detect_style('{"a, b: c":"x,y", "d": 1}')
    assert (style.item_separator, style.key_separator) == (", ", ":")


def test_keeps_trailing_newline_or_its_absence() -> None:
    assert dumps_like({"a": 1}, '{\n  "b": 2\n}\n').endswith("}\n")
    assert dumps_like({"a": 1}, '{\n  "b": 2\n}').endswith("}")
    assert dumps_like({"a": 1}, '{"b": 2}\n\n') == '{"a": 1}\n\n'


def test_keeps_crlf_line_endings() -> None:
    out = dumps_like({"a": [1]}, '{\r\n  "b": [\r\n    2\r\n  ]\r\n}\r\n')
    assert out == '{\r\n  "a": [\r\n    1\r\n  ]\r\n}\r\n'


def test_ensure_ascii_follows_the_original() -> None:
    assert dumps_like(DATA, '{"b": "caf\\u00e9"}').count("\\u00e9") == 1
    assert "é" in dumps_like(DATA, '{"b": "café"}')
    # Pure ASCII without escapes: non-ASCII is written raw (the modern default).
    assert "é" in dumps_like(DATA, '{"b": "x"}')
    # An escaped backslash followed by "u00e9" is not an escape of é.
    assert not detect_style('{"b": "\\\\u00e9"}').ensure_ascii


def test_key_order_is_insertion_order() -> None:
    data = {"z": 1, "a": 2, "m": 3}
    assert list(json.loads(dumps_like(data, "{}"))) == ["z", "a", "m"]


# -- properties ----------------------------------------------------------------------------

_keys = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
_scalars = st.none() | st.booleans() | st.integers() | st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(_keys, inner, max_size=4), max_leaves=20)
_styles = st.builds(
    JsonStyle,
    indent=st.sampled_from([None, 0, 1, 2, 4, "\t"]),
    item_separator=st.sampled_from([",", ", "]),
    key_separator=st.sampled_from([":", ": "]),
    ensure_ascii=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    leading=st.sampled_from(["", "\n"]),
    trailing=st.sampled_from(["", "\n", "\r\n", "\n\n"]),
)


def _consistent(style: JsonStyle) -> JsonStyle:
    # json.dumps with an indent and ", " leaves trailing spaces; no editor writes that.
    if style.indent is not None:
        style = JsonStyle(style.indent, ",", style.key_separator, style.ensure_ascii,
                          style.newline, style.leading, style.trailing)
    return style


@given(_json, _styles)
def test_rewriting_a_file_in_its_own_style_is_byte_identical(data: Any,
                                                             style: JsonStyle) -> None:
    text = dumps_styled(data, _consistent(style))
    assert json.loads(text) == data
    assert dumps_like(json.loads(text), text) == text


@given(_json, _json, _styles)
def test_new_data_takes_the_style_of_the_old_text(old: Any, new: Any,
                                                  style: JsonStyle) -> None:
    style = _consistent(style)
    # Shows every trait, ensure_ascii included (through the non-ASCII string).
    old_text = dumps_styled({"k": [old, {"x": [1]}], "j": 1, "e": "é"}, style)
    written = dumps_like(new, old_text)
    assert json.loads(written) == new
    assert written == dumps_styled(new, style)
    detected = detect_style(old_text)
    assert (detected.indent, detected.item_separator, detected.key_separator,
            detected.leading, detected.trailing) == (
        style.indent, style.item_separator, style.key_separator, style.leading, style.trailing)
    if style.indent is not None:  # a one-line body has no line ending of its own
        assert detected.newline == style.newline
