"""The README documents what the tool ships: every hook and every rule code."""

from __future__ import annotations

import re

import yaml

from repo_tools.cli.rules import markdown_table
from tests.support.docs import README_PATH, ROOT, all_text, section
from tests.support.helpers import cli

README = README_PATH.read_text("utf-8")


def test_every_hook_is_documented() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        docs = all_text()
        assert f"id: {hook['id']}" in docs or f"`{hook['id']}`" in docs, hook["id"]


def test_rule_table_is_the_generated_one() -> None:
    # Regenerate with: repo-tools rules --markdown
    assert markdown_table().strip() in section("rules")


def test_quick_start_test_command_is_what_ci_runs() -> None:
    quick = section("quickstart")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest" in quick and "\npython -m pytest\n" in ci


def test_validate_and_check_index_examples_show_what_the_commands_print() -> None:
    # The README quotes real output on the shipped example; a rule or example change
    # that alters it must update the README too.
    validate_block = re.search(r"```text\n(versions/.*?)```", section("validate"), re.S)
    assert validate_block
    run = cli("validate", cwd=ROOT / "examples" / "broken-repo")
    assert run.stdout == validate_block.group(1)
    index_block = re.search(r"\$ repo-tools check-index --repo examples/broken-repo\n(.*?)```",
                            section("index"), re.S)
    assert index_block
    run = cli("check-index", "--repo", "examples/broken-repo", cwd=ROOT)
    assert run.stdout == index_block.group(1)


def test_rules_command_explains_a_rule_by_code_or_name() -> None:
    from tests.support.helpers import cli

    by_code, by_name = cli("rules", "i009"), cli("rules", "open-ended-range")
    assert by_code.exit_code == by_name.exit_code == 0
    assert by_code.stdout == by_name.stdout
    assert by_code.stdout.startswith("I009 open-ended-range (warning)")
    assert cli("rules", "no-such-rule").exit_code == 2
