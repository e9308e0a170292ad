"""`--write`: set `download.sha256` values by editing only their text.

Everything else in the file (indentation, key order, line endings, escapes) stays byte
for byte as it was. The result is parsed again and compared with the intended data
before anyone writes it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from repo_tools.jsonfile import DuplicateKeyError, Positions, parse_strict, scan_positions
from repo_tools.textedit import value_end

_WS = " \t\r\n"


class RewriteError(Exception):
    """The edited text did not parse to the intended data; nothing was written."""


def set_sha256_values(text: str, updates: Mapping[str, str]) -> str:
    """Set `sha256` in each download object (by pointer) to the given hex digest."""
    positions = scan_positions(text)
    edits: list[tuple[int, int, str]] = []
    for pointer, digest in updates.items():
        edits.append(_edit_for(text, positions, pointer, digest))
    result = text
    for start, end, replacement in sorted(edits, reverse=True):
        result = result[:start] + replacement + result[end:]
    _check(text, result, updates)
    return result


def _edit_for(text: str, positions: Positions, pointer: str, digest: str) -> tuple[int, int,
                                                                                   str]:
    literal = f'"{digest}"'
    sha_pointer = f"{pointer}/sha256"
    if sha_pointer in positions.values:
        start = positions.values[sha_pointer]
        return start, value_end(text, start), literal
    if pointer not in positions.values or text[positions.values[pointer]] != "{":
        raise RewriteError(f"{pointer} is not an object")
    # Insert a member after the first member of the object, copying its layout.
    open_brace = positions.values[pointer]
    first_key = _skip_ws(text, open_brace + 1)
    if text[first_key] == "}":
        inner = f'"sha256": {literal}'
        return first_key, first_key, inner
    key_end = value_end(text, first_key)
    colon = _skip_ws(text, key_end)
    value_start = _skip_ws(text, colon + 1)
    first_end = value_end(text, value_start)
    indent = text[open_brace + 1:first_key]
    separator = text[key_end:value_start]
    joiner = "," + (indent if indent else " ")
    return first_end, first_end, f'{joiner}"sha256"{separator}{literal}'


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _check(before: str, after: str, updates: Mapping[str, str]) -> None:
    try:
        expected = copy.deepcopy(parse_strict(before))
        for pointer, digest in updates.items():
            _resolve(expected, pointer)["sha256"] = digest
    except (DuplicateKeyError, ValueError, LookupError, TypeError) as exc:
        raise RewriteError(f"the file cannot be edited safely: {type(exc).__name__}") from None
    try:
        actual = parse_strict(after)
    except Exception as exc:  # any parse failure means the edit is wrong
        raise RewriteError(f"the edited file does not parse: {type(exc).__name__}") from None
    changed = {f"{pointer}/sha256" for pointer in updates}
    if actual != expected or _order(actual, changed) != _order(expected, changed):
        raise RewriteError("the edited file does not hold the intended data")


def _resolve(data: Any, pointer: str) -> Any:
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        data = data[int(token)] if isinstance(data, list) else data[token]
    return data


def _order(data: Any, ignore: set[str]) -> list[str]:
    return [path for path in _key_paths(data) if path not in ignore]


def _key_paths(data: Any, prefix: str = "") -> Any:
    """Every key path in document order, so a moved key is noticed, not only a changed
    value (dict equality ignores order)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield f"{prefix}/{key}"
            yield from _key_paths(value, f"{prefix}/{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _key_paths(value, f"{prefix}/{index}")

