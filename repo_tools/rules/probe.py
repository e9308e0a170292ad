"""Rules of this family (filled in by the issue that builds the check)."""

from __future__ import annotations

from repo_tools.findings import Rule

RULES: tuple[Rule, ...] = ()
