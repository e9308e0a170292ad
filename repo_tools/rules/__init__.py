"""The rule table: every stable rule code the tool can report, by family.

Each family lives in its own module so that a check and its rules are read together;
this module only merges them. Codes never change meaning once released.
"""

from __future__ import annotations

from repo_tools.findings import Rule
from repo_tools.rules import client, core, index, lint, migrate, probe, release

FAMILIES: dict[str, tuple[Rule, ...]] = {
    "file and JSON (J)": core.JSON_RULES,
    "schema (S)": core.SCHEMA_RULES,
    "values (V)": core.VALUE_RULES,
    "index (I)": index.RULES,
    "migration (M)": migrate.RULES,
    "probe (P)": probe.RULES,
    "release and verify (R)": release.RULES,
    "lint settings (L)": lint.RULES,
    "client (C)": client.RULES,
}

# The docs site (mkdocs.yml's site_url); each rule has a page at rules/CODE/.
DOCS_URL = "https://model-config-tools.readthedocs.io/en/latest/"

ALL_RULES: dict[str, Rule] = {rule.code: rule for rules in FAMILIES.values() for rule in rules}


def rule(code: str) -> Rule:
    return ALL_RULES[code]


def rule_url(code: str) -> str:
    """The rule's page on the docs site: SARIF's helpUri, and the link `rules CODE` prints."""
    return f"{DOCS_URL}rules/{code}/"
