"""The docs site's generated parts: a page per rule, and the links that lead to it."""

from __future__ import annotations

import importlib.util
import json
import re
from types import ModuleType

import pytest
import yaml

from repo_tools.rules import ALL_RULES, DOCS_URL, rule_url
from tests.support.docs import ROOT
from tests.support.helpers import cli


def rule_pages() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rule_pages",
                                                  ROOT / "docs" / "hooks" / "rule_pages.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_url_is_the_sites() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text().replace("!!python", "#"))
    assert config["site_url"] == DOCS_URL
    assert config["strict"] is True


@pytest.mark.parametrize("code", ["J004", "S003", "V002", "I007", "R005", "C005", "L001"])
def test_a_rule_page_explains_the_rule_and_how_to_turn_it_off(code: str) -> None:
    rule = ALL_RULES[code]
    page = rule_pages().rule_page(rule)
    assert page.startswith(f"# {code} {rule.name}\n")
    assert rule.summary in page and rule.fix in page
    if code[0] in "JSVI":
        assert f'disable = ["{code}"]' in page
    else:
        assert f'disable = ["{code}"]' not in page


def test_every_example_on_a_rule_page_shows_its_own_code() -> None:
    pages = rule_pages()
    with_example = 0
    for code, rule in ALL_RULES.items():
        page = pages.rule_page(rule)
        outputs = re.findall(r"```console\n\$ repo-tools [^\n]*\n(.*?)```", page, re.S)
        if not outputs:
            continue
        with_example += 1
        # The failing example (the first) reports the rule; a passing one does not.
        assert re.search(rf"\b{code}\b", outputs[0]), code
        if "### Passing" in page:
            assert not re.search(rf"\b{code}\b", outputs[-1]), code
    assert with_example >= 30


def test_sarif_and_rules_command_point_at_the_rule_page() -> None:
    run = cli("validate", ROOT / "tests" / "corpus" / "malformed" / "J004-duplicate-top-key.json",
              "--format", "sarif")
    rules = json.loads(run.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"]: r["helpUri"] for r in rules}["J004"] == rule_url("J004")
    assert rule_url("J004") == f"{DOCS_URL}rules/J004/"
    assert cli("rules", "J004").stdout.rstrip().endswith(f"More: {rule_url('J004')}")
