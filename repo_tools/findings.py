"""Findings: the one record every check produces and every renderer consumes."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """A documented rule: the code is stable and is what users look up and disable."""

    code: str
    name: str
    severity: Severity
    summary: str
    fix: str
    # What `lint --fix` does about it, or "" when a person must decide: only changes that
    # are mechanical and lossless are automatic.
    fixable: str = ""


class RuleError(Exception):
    """A failure with a documented reason: the `Rule` itself, a message safe to show (no
    secrets, URLs redacted) and, where known, the path it concerns. Every layer's
    refusals (release, verify, probe, the client's remote and downloads) are these, so a
    caller turns any of them into a finding the same way."""

    def __init__(self, rule: Rule, message: str, path: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.rule.code} {self.message}"

    @property
    def code(self) -> str:
        return self.rule.code

    def as_finding(self, default_path: str = "", pointer: str = "") -> Finding:
        return finding(self.rule, self.path or default_path, self.message, pointer)


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    path: str
    message: str
    pointer: str = ""
    line: int = 0
    column: int = 0

    def at(self, line: int, column: int) -> Finding:
        return dataclasses.replace(self, line=line, column=column)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)


def finding(
    rule: Rule,
    path: str,
    message: str,
    pointer: str = "",
    *,
    line: int = 0,
    column: int = 0,
    severity: Severity | None = None,
) -> Finding:
    return Finding(
        rule=rule.code,
        severity=severity or rule.severity,
        path=path,
        message=message,
        pointer=pointer,
        line=line,
        column=column,
    )


def place(path: str, line: int = 0, column: int = 0) -> str:
    """How a message names another place: `path:line:column`, the form editors and
    terminals turn into a link (just the path when the position is unknown)."""
    return f"{path}:{line}:{column}" if line else path


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Deterministic order, with exact duplicates (same rule, place and message) removed."""
    unique = {(f.path, f.rule, f.pointer, f.message): f for f in findings}
    return sorted(unique.values(), key=Finding.sort_key)


def count_by_severity(findings: Iterable[Finding]) -> dict[Severity, int]:
    counts = {severity: 0 for severity in Severity}
    for f in findings:
        counts[f.severity] += 1
    return counts


def exit_code(findings: Iterable[Finding], *, strict: bool = False) -> int:
    """0 when clean (warnings allowed unless strict), 1 when anything must be fixed."""
    counts = count_by_severity(findings)
    if counts[Severity.ERROR] or (strict and counts[Severity.WARNING]):
        return 1
    return 0
