"""The two ways a release operation fails with a documented reason."""

from __future__ import annotations

from repo_tools.findings import Finding, Rule, RuleError, finding


class ReleaseProblem(RuleError):
    """A failure with a stable rule code; `path` names the artifact or member concerned."""

    def __init__(self, rule: Rule, message: str, path: str = "", *,
                 details: tuple[str, ...] = ()) -> None:
        super().__init__(rule, message, path)
        self.details = details  # one further finding each (e.g. every removal, not the first)

    def __str__(self) -> str:
        return f"{self.rule.code} {self.rule.name}: {self.message}"

    def as_findings(self, default_path: str) -> list[Finding]:
        where = self.path or default_path
        return [self.as_finding(default_path),
                *(finding(self.rule, where, detail) for detail in self.details)]


class VerificationError(ReleaseProblem):
    """A client must reject the release (codes R001-R029)."""


class ReleaseRefused(ReleaseProblem):
    """`release` will not publish (codes R030 and up)."""
