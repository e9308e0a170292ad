"""Renderers: one list of findings, many output formats (text, json, github, sarif)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from repo_tools import __version__
from repo_tools.findings import Finding, Severity, count_by_severity

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&$:])")


def md_cell(text: str) -> str:
    """Text shown literally in a GitHub Markdown table cell.

    Backslash-escapes the ASCII punctuation that Markdown, HTML, math or tables would
    interpret (GFM allows escaping any of it), and folds line breaks into spaces.
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()) if text else "")

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/model-config-tools/"

_COLORS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m"}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def encodable(text: str) -> str:
    """Text that can always be written as UTF-8.

    A file can hold a lone surrogate (a JSON `\\ud800` escape) or have an undecodable
    name, and either can reach a value, pointer, path or message; UTF-8 cannot encode it,
    so every renderer (and jsonformat, rewriting a file) writes it as its `\\uXXXX`
    escape: inside a JSON string, the same string.
    """
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def summary(findings: Sequence[Finding], files: int) -> dict[str, Any]:
    counts = count_by_severity(findings)
    return {
        "errors": counts[Severity.ERROR],
        "warnings": counts[Severity.WARNING],
        "files": files,
        "by_rule": dict(sorted(Counter(f.rule for f in findings).items())),
    }


def location(f: Finding) -> str:
    if f.line:
        return f"{f.path}:{f.line}:{f.column}"
    return f.path


# C0 and C1 controls: a message quoting a file's value must not move the cursor, change
# the terminal's colours or start a line of its own that looks like another finding.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """Text fit for a terminal: C0 and C1 controls become their Python escapes (`\\n`,
    `\\x1b`), so a reader sees them instead of the terminal obeying them."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def use_color(choice: str, environ: Mapping[str, str] | None = None,
              isatty: Callable[[], bool] | None = None) -> bool:
    """`--color` with the conventions: always/never win; auto colours a terminal, and the
    environment overrides that: NO_COLOR (https://no-color.org) turns colour off, else
    FORCE_COLOR (https://force-color.org) turns it on, each when set and not empty."""
    env = os.environ if environ is None else environ
    if choice == "always":
        return True
    if choice == "never" or env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return (isatty or sys.stdout.isatty)()


def render_text(findings: Sequence[Finding], files: int, *, color: bool = False,
                summary_line: bool = True) -> str:
    """One line per finding, then (unless `summary_line` is false: `-q`) the counts."""
    lines = []
    for f in findings:
        code = f.rule
        if color:
            code = f"{_COLORS[f.severity]}{_BOLD}{code}{_RESET}"
        tag = "" if f.severity is Severity.ERROR else " (warning)"
        lines.append(f"{visible(location(f))}: {code}{tag} {visible(f.message)}")
    s = summary(findings, files)
    noun = "file" if files == 1 else "files"
    if not summary_line:
        return encodable("".join(line + "\n" for line in lines))
    if findings:
        lines.append(f"Found {s['errors']} error(s) and {s['warnings']} warning(s) "
                     f"in {files} {noun}.")
    else:
        lines.append(f"All checks passed ({files} {noun}).")
    return encodable("\n".join(lines) + "\n")


def finding_dict(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "severity": str(f.severity), "path": f.path, "line": f.line,
            "column": f.column, "pointer": f.pointer, "message": f.message}


def render_json(findings: Sequence[Finding], files: int, *, color: bool = False) -> str:
    doc = {"findings": [finding_dict(f) for f in findings], "summary": summary(findings, files)}
    return encodable(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def escape_data(text: str) -> str:
    """Escape a workflow-command message (what follows `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow-command property value (file=, title=, ...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: Sequence[Finding], files: int, *, color: bool = False) -> str:
    lines = []
    for f in findings:
        props = [f"file={escape_property(f.path)}"]
        if f.line:
            props += [f"line={f.line}", f"col={f.column}"]
        props.append(f"title={escape_property(f.rule)}")
        level = "error" if f.severity is Severity.ERROR else "warning"
        lines.append(f"::{level} {','.join(props)}::{escape_data(f'{f.rule} {f.message}')}")
    return encodable("".join(line + "\n" for line in lines))


# What RFC 3986 allows unencoded in a path (pchar, plus the separator).
_PATH_SAFE = "/!$&'()*+,;=:@"


def artifact_uri(path: str) -> str:
    """A finding's path as a SARIF `artifactLocation.uri`, which must be a valid URI
    reference: relative paths stay relative (code scanning resolves them against the
    checkout), absolute ones become file: URIs, and anything a URI path cannot hold
    (spaces, '#', '?', '%', non-ASCII, undecodable bytes) is percent-encoded."""
    try:
        raw = os.fsencode(path)
    except UnicodeEncodeError:  # a lone surrogate that did not come from the file system
        raw = path.encode("utf-8", "backslashreplace")
    encoded = quote(raw, safe=_PATH_SAFE)
    if path.startswith("/"):
        return f"file://{encoded}"
    # A colon in the first segment would read as a scheme (RFC 3986, section 4.2).
    first, slash, rest = encoded.partition("/")
    return first.replace(":", "%3A") + slash + rest


def render_sarif(findings: Sequence[Finding], files: int, *, color: bool = False) -> str:
    from repo_tools.rules import ALL_RULES, rule_url

    used = sorted({f.rule for f in findings})
    index = {code: i for i, code in enumerate(used)}
    rules = []
    for code in used:
        rule = ALL_RULES.get(code)
        entry: dict[str, Any] = {"id": code}
        if rule is not None:
            entry.update({
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "help": {"text": rule.fix},
                "helpUri": rule_url(code),
                "defaultConfiguration": {"level": str(rule.severity)},
            })
        rules.append(entry)
    results = []
    for f in findings:
        physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(f.path)}}
        if f.line:
            physical["region"] = {"startLine": f.line, "startColumn": max(f.column, 1)}
        results.append({
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": str(f.severity),
            "message": {"text": f.message},
            "locations": [{"physicalLocation": physical}],
        })
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "repo-tools", "version": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            "results": results,
            # Our columns count characters (code points), not SARIF's default UTF-16 units.
            "columnKind": "unicodeCodePoints",
        }],
    }
    return encodable(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


Renderer = Callable[..., str]
RENDERERS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}


def render(fmt: str, findings: Sequence[Finding], files: int, *, color: bool = False) -> str:
    return RENDERERS[fmt](findings, files, color=color)
