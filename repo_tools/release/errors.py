"""The two ways a release operation fails with a documented reason."""

from __future__ import annotations

from repo_tools.findings import Finding, Rule, finding


class ReleaseProblem(Exception):
    """A failure with a stable rule code; `path` names the artifact or member concerned."""

    def __init__(self, rule: Rule, message: str, path: str = "", *,
                 details: tuple[str, ...] = ()) -> None:
        super().__init__(f"{rule.code} {rule.name}: {message}")
        self.rule = rule
        self.message = message
        self.path = path
        self.details = details  # one further finding each (e.g. every removal, not the first)

    @property
    def code(self) -> str:
        return self.rule.code

    def as_finding(self, default_path: str) -> Finding:
        return finding(self.rule, self.path or default_path, self.message)

    def as_findings(self, default_path: str) -> list[Finding]:
        where = self.path or default_path
        return [self.as_finding(default_path),
                *(finding(self.rule, where, detail) for detail in self.details)]


class VerificationError(ReleaseProblem):
    """A client must reject the release (codes R001-R029)."""


class ReleaseRefused(ReleaseProblem):
    """`release` will not publish (codes R030 and up)."""
