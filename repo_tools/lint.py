"""`lint`: every offline check on a whole config repo, one merged list of findings.

Release uses this too: a repo is publishable only when `lint_repo` reports no errors.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from repo_tools import repo as repo_layout
from repo_tools.checks.validate import validate_paths
from repo_tools.findings import Finding, sort_findings


@dataclasses.dataclass(slots=True)
class LintResult:
    findings: list[Finding]
    files: int


def lint_repo(repo: Path, *, base: Path | None = None) -> LintResult:
    """Run the offline checks over repo; paths in findings are shown relative to base."""
    shown_from = base if base is not None else Path.cwd()
    paths = repo_layout.model_files(repo)
    result = validate_paths(paths, shown_from)
    findings = list(result.findings)
    try:
        from repo_tools.checks.index import check_index
    except ModuleNotFoundError:  # the index checks are not built yet
        pass
    else:
        findings.extend(check_index(repo, shown_from))
    return LintResult(sort_findings(findings), result.files_checked + 1)
