"""Strict JSON loading and the positions of values in the source text.

Loading is fast (the C parser, with a pairs hook that only notices duplicate keys).
Positions are computed by a separate, slower scanner, and only for files that have
findings: most files are clean and never pay for it.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from repo_tools.findings import Finding, finding
from repo_tools.rules import core

UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (b"\xff\xfe", b"\xfe\xff")


class DuplicateKeyError(Exception):
    """Raised by `parse_strict` when an object repeats a key."""


@dataclasses.dataclass(slots=True)
class JsonDocument:
    """A parsed JSON file: its display path, the decoded text, and the data."""

    path: str
    text: str
    data: Any
    had_bom: bool = False
    _positions: Positions | None = None

    @property
    def positions(self) -> Positions:
        if self._positions is None:
            self._positions = scan_positions(self.text)
        return self._positions

    def locate(self, findings: list[Finding]) -> list[Finding]:
        """Fill in line and column for findings that have a pointer but no position."""
        if not findings:
            return findings
        positions = self.positions
        located = []
        for f in findings:
            if f.line == 0 and f.path == self.path:
                line, column = positions.value_position(f.pointer, key=f.rule == "S003")
                f = f.at(line, column)
            located.append(f)
        return located


def escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer_join(base: str, *tokens: str | int) -> str:
    return base + "".join("/" + escape_pointer_token(t) for t in tokens)


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise DuplicateKeyError
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _Overflow:
    """parse_float hook that notes literals too large for a double (1e999 -> inf)."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, literal: str) -> float:
        value = float(literal)
        if math.isinf(value):
            self.seen = True
        return value


def parse_strict(text: str, overflow: _Overflow | None = None) -> Any:
    """Parse JSON text, rejecting duplicate keys and NaN/Infinity.

    Raises json.JSONDecodeError, ValueError (bad numbers), RecursionError or
    DuplicateKeyError; `load_json_bytes` turns each into a finding.
    """
    return json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant,
                      parse_float=overflow)


def _position_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", "replace")) + 1
    return line, column


def load_json_bytes(raw: bytes, path: str) -> tuple[JsonDocument | None, list[Finding]]:
    """Decode and parse; on failure the document is None and findings say why."""
    findings: list[Finding] = []
    if not raw.strip():
        return None, [finding(core.EMPTY_FILE, path, "file is empty", line=1, column=1)]
    had_bom = raw.startswith(UTF8_BOM)
    if had_bom:
        findings.append(
            finding(core.BOM, path, "file starts with a UTF-8 byte-order mark", line=1, column=1)
        )
        raw = raw[len(UTF8_BOM):]
    elif raw.startswith(_OTHER_BOMS):
        return None, [
            finding(core.NOT_UTF8, path, "file is UTF-16 encoded, not UTF-8", line=1, column=1)
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position_of_byte(raw, exc.start)
        msg = f"invalid UTF-8 byte 0x{raw[exc.start]:02x}"
        return None, [finding(core.NOT_UTF8, path, msg, line=line, column=column)]
    overflow = _Overflow()
    duplicates = False
    try:
        try:
            data = parse_strict(text, overflow)
        except DuplicateKeyError:
            # Go on with last-wins data (what most parsers would do) so that the file's
            # other problems are not hidden behind this one. The second parse can still
            # fail (NaN, nesting, huge numbers after the duplicate), hence the outer try.
            duplicates, overflow = True, _Overflow()
            data = json.loads(text, parse_constant=_reject_constant, parse_float=overflow)
    except json.JSONDecodeError as exc:
        msg = f"invalid JSON: {exc.msg}"
        return None, [*findings, finding(core.PARSE_ERROR, path, msg, line=exc.lineno,
                                         column=exc.colno)]
    except RecursionError:
        msg = "JSON is nested too deeply to parse"
        return None, [*findings, finding(core.TOO_DEEP, path, msg, line=1, column=1)]
    except ValueError as exc:
        msg = f"number cannot be represented: {exc}".split("; use")[0]
        return None, [*findings, finding(core.BAD_NUMBER, path, msg, line=1, column=1)]
    doc = JsonDocument(path, text, data, had_bom)
    if duplicates:
        for key, pointer, offset in doc.positions.duplicates:
            line, column = doc.positions.line_column(offset)
            msg = f"duplicate key {key!r}: the later value silently replaces the earlier one"
            findings.append(
                finding(core.DUPLICATE_KEY, path, msg, pointer, line=line, column=column)
            )
    if overflow.seen:
        return None, doc.locate([*findings, *_non_finite(doc)])
    return doc, findings


def _non_finite(doc: JsonDocument) -> list[Finding]:
    """Where the numbers too large for a double are (no client can round-trip them)."""
    found: list[Finding] = []
    stack: list[tuple[str, Any]] = [("", doc.data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            found.append(finding(core.BAD_NUMBER, doc.path, "number is too large for a double",
                                 pointer))
        elif isinstance(value, dict):
            stack.extend((pointer_join(pointer, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((pointer_join(pointer, i), v) for i, v in enumerate(value))
    return found


def load_json_file(path: Path, display: str | None = None) -> tuple[JsonDocument | None,
                                                                      list[Finding]]:
    shown = display if display is not None else str(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then says what it is.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        return None, [finding(core.UNREADABLE, shown, "is a directory, not a file")]
    except OSError as exc:
        return None, [finding(core.UNREADABLE, shown, f"cannot read: {exc.strerror}")]
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = ("is a directory, not a file" if stat.S_ISDIR(mode)
                else "is not a regular file (a pipe, socket or device)")
        return None, [finding(core.UNREADABLE, shown, what)]
    with os.fdopen(fd, "rb") as handle:
        try:
            raw = handle.read()
        except OSError as exc:
            return None, [finding(core.UNREADABLE, shown, f"cannot read: {exc.strerror}")]
    return load_json_bytes(raw, shown)


@dataclasses.dataclass(slots=True)
class Positions:
    """Offsets of every value and key in a JSON text, by JSON pointer."""

    text: str
    values: dict[str, int]
    keys: dict[str, int]
    duplicates: list[tuple[str, str, int]]  # key, pointer, offset of the repeated key
    _line_starts: list[int] = dataclasses.field(default_factory=list)

    def line_column(self, offset: int) -> tuple[int, int]:
        if not self._line_starts:
            self._line_starts = [0] + [i + 1 for i, c in enumerate(self.text) if c == "\n"]
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def value_position(self, pointer: str, *, key: bool = False) -> tuple[int, int]:
        """Line and column of the value at pointer (or of its key), or of its nearest parent."""
        table = self.keys if key and pointer in self.keys else self.values
        while pointer not in table and pointer:
            pointer = pointer.rsplit("/", 1)[0]
            table = self.values
        return self.line_column(table.get(pointer, 0))

    def key_position(self, pointer: str) -> tuple[int, int]:
        return self.value_position(pointer, key=True)


_WS = " \t\r\n"


def scan_positions(text: str) -> Positions:
    """Record where each value starts. Iterative, so deep nesting cannot overflow.

    Assumes text that the C parser accepted, apart from duplicate keys (which are
    recorded: the second occurrence's pointer and key). A repeated key's later
    occurrence wins, as it does in the parsed data, so positions point at the values
    the checks actually saw.
    """
    values: dict[str, int] = {}
    keys: dict[str, int] = {}
    duplicates: list[tuple[str, str, int]] = []
    # Stack frames: [container pointer, kind, next index or current key, seen keys]
    stack: list[tuple[str, str, list[Any], set[str]]] = []
    i, n = 0, len(text)
    pending: str | None = ""  # pointer of the value expected next (None: a key is expected)

    def skip_ws(j: int) -> int:
        while j < n and text[j] in _WS:
            j += 1
        return j

    def string_end(j: int) -> int:
        j += 1
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == '"':
                return j + 1
            j += 1
        return n

    while True:
        i = skip_ws(i)
        if i >= n:
            break
        c = text[i]
        if pending is None:  # inside an object, expecting a key or '}'
            if c == "}":
                stack.pop()
                i += 1
                pending = _after_value(stack)
                continue
            if c == ",":
                i += 1
                continue
            end = string_end(i)
            key = json.loads(text[i:end])
            frame = stack[-1]
            ptr = pointer_join(frame[0], key)
            if key in frame[3]:
                duplicates.append((key, ptr, i))
            frame[3].add(key)
            keys[ptr] = i
            i = skip_ws(end)
            i += 1  # the ':'
            pending = ptr
            continue
        if c in ",]":
            if c == "]":
                stack.pop()
                i += 1
                pending = _after_value(stack)
            else:
                i += 1
                pending = _next_array_item(stack)
            continue
        if c == "}":
            stack.pop()
            i += 1
            pending = _after_value(stack)
            continue
        values[pending] = i
        if c == "{":
            stack.append((pending, "object", [], set()))
            pending = None
            i += 1
        elif c == "[":
            stack.append((pending, "array", [0], set()))
            pending = pointer_join(pending, 0)
            i += 1
        elif c == '"':
            i = string_end(i)
            pending = _after_value(stack)
        else:
            while i < n and text[i] not in _WS and text[i] not in ",]}":
                i += 1
            pending = _after_value(stack)
    return Positions(text, values, keys, duplicates)


def _after_value(stack: list[tuple[str, str, list[Any], set[str]]]) -> str | None:
    if not stack:
        return ""
    return None if stack[-1][1] == "object" else stack[-1][0] + "/<pending>"


def _next_array_item(stack: list[tuple[str, str, list[Any], set[str]]]) -> str:
    frame = stack[-1]
    frame[2][0] += 1
    return pointer_join(frame[0], frame[2][0])
