"""Edits of a JSON text that touch only the tokens they change.

`add`, `import` and `lint --fix` change a few values of a file a person wrote, so the
diff must be those values and nothing else: indentation, key order, escapes and line
endings elsewhere stay byte for byte. Every edit is checked by parsing the result and
comparing it with the intended data (`check_edit`) before anyone writes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from repo_tools.jsonfile import DuplicateKeyError, Positions, parse_strict, scan_positions
from repo_tools.jsonformat import JsonStyle, detect_style
from repo_tools.report import encodable

_WS = " \t\r\n"


class EditError(Exception):
    """The edit cannot be made safely, or its result is not the intended data."""


def skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def value_end(text: str, start: int) -> int:
    """The offset just after the JSON value that starts at `start`."""
    c = text[start]
    if c == '"':
        i = start + 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == '"':
                return i + 1
            i += 1
        return len(text)
    if c in "{[":
        depth, i = 0, start
        while i < len(text):
            c = text[i]
            if c == '"':
                i = value_end(text, i)
                continue
            if c in "{[":
                depth += 1
            elif c in "}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return len(text)
    i = start
    while i < len(text) and text[i] not in _WS and text[i] not in ",]}":
        i += 1
    return i


def literal(value: Any, style: JsonStyle, depth: int = 0) -> str:
    """`value` as JSON in the file's style, to be placed at nesting `depth`."""
    text = json.dumps(value, indent=style.indent,
                      separators=(style.item_separator, style.key_separator),
                      ensure_ascii=style.ensure_ascii, allow_nan=False)
    text = encodable(text)
    if style.indent is not None:
        text = text.replace("\n", style.newline + _unit(style) * depth)
    return text


def _unit(style: JsonStyle) -> str:
    indent = style.indent
    return indent if isinstance(indent, str) else " " * (indent or 0)


def _depth(pointer: str) -> int:
    return 0 if not pointer else pointer.count("/")


Edit = tuple[int, int, str]


def replace_value(text: str, positions: Positions, pointer: str, value: Any,
                  style: JsonStyle) -> Edit:
    """Replace the value at `pointer` (which must exist)."""
    if pointer not in positions.values:
        raise EditError(f"{pointer or 'the top level'} is not in the file")
    start = positions.values[pointer]
    return start, value_end(text, start), literal(value, style, _depth(pointer))


def insert_first_member(text: str, positions: Positions, pointer: str, key: str, value: Any,
                        style: JsonStyle) -> Edit:
    """Insert `"key": value` as the first member of the object at `pointer`, laid out like
    the member that follows it."""
    if pointer not in positions.values or text[positions.values[pointer]] != "{":
        raise EditError(f"{pointer or 'the top level'} is not an object")
    brace = positions.values[pointer]
    first = skip_ws(text, brace + 1)
    member = f"{json.dumps(key)}{style.key_separator}{literal(value, style, _depth(pointer) + 1)}"
    if text[first] == "}":
        return first, first, member
    gap = text[brace + 1:first]  # newline and indent before the first member, or nothing
    separator = "," + (gap if gap else (" " if style.item_separator == ", " else ""))
    return first, first, member + separator


def append_items(text: str, positions: Positions, pointer: str, items: Sequence[Any],
                 style: JsonStyle) -> Edit:
    """Append items to the array at `pointer`, each on its own line in an indented file."""
    if pointer not in positions.values or text[positions.values[pointer]] != "[":
        raise EditError(f"{pointer or 'the top level'} is not an array")
    start = positions.values[pointer]
    end = value_end(text, start)
    depth = _depth(pointer) + 1
    inner = text[start + 1:end - 1]
    if not inner.strip():
        return start, end, literal(list(items), style, depth - 1)
    last_end = end - 1
    while text[last_end - 1] in _WS:
        last_end -= 1
    if style.indent is None:
        joined = "".join(style.item_separator + literal(item, style) for item in items)
    else:
        lead = style.newline + _unit(style) * depth
        joined = "".join("," + lead + literal(item, style, depth) for item in items)
    return last_end, last_end, joined


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    result = text
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        result = result[:start] + replacement + result[end:]
    return result


def check_edit(after: str, expected: Any) -> None:
    """Refuse unless `after` parses to exactly `expected`, keys in the same order."""
    try:
        actual = parse_strict(after)
    except (DuplicateKeyError, ValueError) as exc:
        raise EditError(f"the edited file does not parse: {type(exc).__name__}") from None
    if actual != expected or list(_key_paths(actual)) != list(_key_paths(expected)):
        raise EditError("the edited file does not hold the intended data")


def _key_paths(data: Any, prefix: str = "") -> Any:
    # dict equality ignores order; a moved key must be noticed too.
    if isinstance(data, dict):
        for key, value in data.items():
            yield f"{prefix}/{key}"
            yield from _key_paths(value, f"{prefix}/{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _key_paths(value, f"{prefix}/{index}")


def edit(text: str, *, replace: Mapping[str, Any] | None = None,
         first_members: Mapping[str, tuple[str, Any]] | None = None,
         append: Mapping[str, Sequence[Any]] | None = None) -> str:
    """One pass of edits on `text` (every pointer into the original text)."""
    positions = scan_positions(text)
    style = detect_style(text)
    edits: list[Edit] = []
    for pointer, value in (replace or {}).items():
        edits.append(replace_value(text, positions, pointer, value, style))
    for pointer, (key, value) in (first_members or {}).items():
        edits.append(insert_first_member(text, positions, pointer, key, value, style))
    for pointer, items in (append or {}).items():
        edits.append(append_items(text, positions, pointer, items, style))
    return apply_edits(text, edits)
