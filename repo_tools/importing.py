"""`import`: a public catalog into a config version's model files, grouped by provider.

The catalog formats are `repo_tools.catalogs`; the files are written as `add` writes
them (`repo_tools.additions`). What the import cannot do is reported, never invented:
entries without a usable SHA-256 are written without one (M005, with the command that
fills it in), and catalog items that cannot be entries are left out (M006).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from repo_tools.additions import (
    FileAddition,
    existing_identities,
    group_by_file,
    plan_addition,
    provider_file_problem,
)
from repo_tools.catalogs import Converted, converters
from repo_tools.findings import Finding, finding, sort_findings
from repo_tools.migrate import fill_command
from repo_tools.model import entry_of
from repo_tools.repo import display_path
from repo_tools.rules import migrate as rules

FORMATS = ("gpt4all", "lmstudio", "localai")


@dataclasses.dataclass(slots=True)
class ImportResult:
    plans: list[FileAddition]
    findings: list[Finding]
    imported: int
    left_out: int

    @property
    def refused(self) -> bool:
        return any(plan.refused for plan in self.plans)


def plan_import(repo: Path, fmt: str, catalog: Any, source: str, config_version: str, *,
                provider: str | None = None, base: Path | None = None) -> ImportResult:
    """Convert a parsed catalog and plan the files (nothing is written: see
    `additions.write_addition`). Raises `CatalogError` when it is not in that format."""
    converted = converters()[fmt](catalog)
    for item in converted:
        if item.entry is None:
            continue
        if provider is not None:
            item.entry["provider"] = provider
        problem = provider_file_problem(str(item.entry["provider"]))
        if problem is not None:
            item.reason = (f"its provider {item.entry['provider']!r} {problem}, so it cannot "
                           "name a model file")
            item.entry = None
    shown_from = base if base is not None else Path.cwd()
    entries = [item.entry for item in converted if item.entry is not None]
    grouped = group_by_file(repo, config_version, entries)
    others = existing_identities(repo, config_version, skip=set(grouped))
    plans = [plan_addition(path, display_path(path, shown_from), group, others,
                           validate=False) for path, group in grouped.items()]
    found = [f for plan in plans for f in plan.findings]
    found += _left_out(converted, source)
    found += _without_hash(converted, plans)
    left_out = sum(1 for item in converted if item.entry is None)
    return ImportResult(plans, sort_findings(found), len(entries), left_out)


def _left_out(converted: list[Converted], source: str) -> list[Finding]:
    return [finding(rules.NOT_IMPORTED, source, f"{item.source}: {item.reason}; left out",
                    item.source) for item in converted if item.entry is None]


def _without_hash(converted: list[Converted], plans: list[FileAddition]) -> list[Finding]:
    reasons = {entry_of(item.entry).identity: item.missing_hash for item in converted
               if item.entry is not None and item.missing_hash}
    found: list[Finding] = []
    for plan in plans:
        if plan.new_text is None:
            continue
        for offset, entry in enumerate(plan.entries):
            reason = reasons.get(entry_of(entry).identity)
            if reason:
                found.append(finding(
                    rules.WITHOUT_SHA256, plan.display,
                    f"{entry['provider']}/{entry['model']} {entry['version']} has no sha256 "
                    f"({reason}); run `{fill_command(plan.display)}`",
                    f"/models/{plan.first_index + offset}"))
    return plan_locate(plans, found)


def plan_locate(plans: list[FileAddition], found: list[Finding]) -> list[Finding]:
    """Line and column in the new text of each plan's file."""
    located: list[Finding] = []
    for plan in plans:
        mine = [f for f in found if f.path == plan.display]
        if plan.new_text is not None and mine:
            from repo_tools.jsonfile import JsonDocument

            mine = JsonDocument(plan.display, plan.new_text, None).locate(mine)
        located += mine
    return located
