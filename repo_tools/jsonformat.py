"""Writing JSON back in the style of the file it came from.

A tool that rewrites a maintainer's file (migrate, probe --write) should change the data,
not the layout: the diff a reviewer sees must be the edit and nothing else. The style is
read from the original text (indent unit, separators, escaping, line ending, surrounding
whitespace); key order is the dict's insertion order. Layouts json.dumps cannot produce
(an inline array inside an indented object, aligned values) are not reproduced: the
result uses the detected indent unit throughout.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from repo_tools.report import encodable

# A JSON string token. Strings never contain raw newlines, so removing them leaves a
# skeleton of brackets, separators and whitespace that is safe to inspect line by line.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
# A \u escape of a non-ASCII character, not itself preceded by an escaped backslash.
_NON_ASCII_ESCAPE = re.compile(
    r"(?<!\\)(?:\\\\)*\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}"
    r"|[1-9a-fA-F][0-9a-fA-F]{3})"
)
_DEFAULT_INDENT = 2


@dataclasses.dataclass(frozen=True, slots=True)
class JsonStyle:
    """How a JSON text is laid out, in the terms json.dumps understands."""

    indent: int | str | None = _DEFAULT_INDENT
    item_separator: str = ","
    key_separator: str = ": "
    ensure_ascii: bool = False
    newline: str = "\n"
    leading: str = ""
    trailing: str = "\n"


def detect_style(text: str) -> JsonStyle:
    """The style of a JSON text (assumed to be valid JSON)."""
    body = text.strip()
    leading = text[: len(text) - len(text.lstrip())]
    trailing = text[len(text.rstrip()):]
    skeleton = _STRING.sub('""', body)
    indent = _detect_indent(skeleton)
    colon = skeleton.find(":")
    key_separator = ": " if colon >= 0 and skeleton[colon + 1: colon + 2] == " " else ":"
    if indent is None:
        comma = skeleton.find(",")
        item_separator = ", " if comma >= 0 and skeleton[comma + 1: comma + 2] == " " else ","
    else:
        item_separator = ","
    return JsonStyle(
        indent=indent,
        item_separator=item_separator,
        key_separator=key_separator,
        ensure_ascii=_detect_ensure_ascii(text),
        newline="\r\n" if "\r\n" in (body if "\n" in body else text) else "\n",
        leading=leading,
        trailing=trailing,
    )


def _detect_indent(skeleton: str) -> int | str | None:
    """The indent unit: from the first indented line, divided by its nesting depth."""
    lines = skeleton.split("\n")
    if len(lines) == 1:
        return None
    depth = 0
    for number, line in enumerate(lines):
        content = line.strip(" \t\r")
        if number > 0 and content:
            level = depth - (1 if content[0] in "]}" else 0)
            whitespace = line[: len(line) - len(line.lstrip(" \t"))]
            if level >= 1 and whitespace:
                return _indent_unit(whitespace, level)
        depth += sum(content.count(c) for c in "[{") - sum(content.count(c) for c in "]}")
    return 0  # multi-line with nothing indented: json.dumps(indent=0) writes exactly that


def _indent_unit(whitespace: str, level: int) -> int | str:
    if len(whitespace) % level:
        return _DEFAULT_INDENT  # inconsistent indentation: fall back to the common default
    unit = whitespace[: len(whitespace) // level]
    if set(unit) == {" "}:
        return len(unit)
    if set(unit) == {"\t"}:
        return unit
    return _DEFAULT_INDENT


def _detect_ensure_ascii(text: str) -> bool:
    """True when non-ASCII text was written as \\u escapes and never raw."""
    if not text.isascii():
        return False
    return _NON_ASCII_ESCAPE.search(text) is not None


def dumps_styled(data: Any, style: JsonStyle) -> str:
    """Serialise data in the given style (keys in insertion order)."""
    text = json.dumps(
        data,
        indent=style.indent,
        separators=(style.item_separator, style.key_separator),
        ensure_ascii=style.ensure_ascii,
        allow_nan=False,
    )
    # A lone surrogate (read from a `\\ud800` escape) has no UTF-8 form: write it back
    # as the escape it was, so the text can be saved and parses to the same data.
    text = encodable(text)
    if style.newline != "\n":
        text = text.replace("\n", style.newline)
    return style.leading + text + style.trailing


def dumps_like(data: Any, original: str) -> str:
    """Serialise data in the style of the original text it was read from."""
    return dumps_styled(data, detect_style(original))
