"""`repo-tools rules`: the rule table for people and, as JSON, for editors and tools."""

from __future__ import annotations

import dataclasses
import json

from repo_tools.findings import Severity
from repo_tools.rules import ALL_RULES, FAMILIES
from tests.support.helpers import cli


def test_json_lists_every_rule_with_every_field_of_the_table() -> None:
    run = cli("rules", "--format", "json")
    assert run.exit_code == 0, run.stderr
    table = json.loads(run.stdout)
    assert [r["code"] for r in table] == list(ALL_RULES)  # every code, in table order
    family_of = {rule.code: family for family, rules in FAMILIES.items() for rule in rules}
    for record in table:
        rule = ALL_RULES[record["code"]]
        fields = {f.name: str(getattr(rule, f.name)) for f in dataclasses.fields(rule)}
        assert record == {**fields, "family": family_of[rule.code]}
        assert record["severity"] in {s.value for s in Severity}


def test_json_for_one_rule_by_code_or_name() -> None:
    by_code = cli("rules", "v005", "--format", "json")
    by_name = cli("rules", "bad-sha256", "--format", "json")
    assert by_code.exit_code == by_name.exit_code == 0
    assert json.loads(by_code.stdout) == json.loads(by_name.stdout)
    assert json.loads(by_code.stdout)["code"] == "V005"


def test_markdown_and_json_cannot_be_asked_for_together() -> None:
    run = cli("rules", "--markdown", "--format", "json")
    assert run.exit_code == 2 and "choose one" in run.stderr
