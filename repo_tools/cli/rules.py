"""`repo-tools rules`: the rule table, or one rule explained."""

from __future__ import annotations

import json

import click

from repo_tools.findings import Rule
from repo_tools.rules import ALL_RULES, FAMILIES, rule_url


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The rule table as Markdown, one section per family (docs/rules/index.md embeds this)."""
    lines = []
    for family, rules in FAMILIES.items():
        if not rules:
            continue
        lines += [f"**{family[0].upper()}{family[1:]}**", "",
                  "| code | name | severity | what it means | what to do | `lint --fix` |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| `{r.code}` | {r.name} | {r.severity} | {_cell(r.summary)} | "
                  f"{_cell(r.fix)} | {_cell(r.fixable)} |" for r in rules]
        lines.append("")
    return "\n".join(lines)


def rule_record(rule: Rule) -> dict[str, str]:
    """One row of the rule table as JSON: every field of the rule, and its family."""
    family = next(name for name, rules in FAMILIES.items() if rule in rules)
    return {"code": rule.code, "name": rule.name, "severity": str(rule.severity),
            "summary": rule.summary, "fix": rule.fix, "fixable": rule.fixable,
            "family": family}


def json_table() -> str:
    """The rule table as a JSON array, in table order, for editors and other tools."""
    return json.dumps([rule_record(r) for r in ALL_RULES.values()], indent=2,
                      ensure_ascii=False) + "\n"


@click.command()
@click.argument("code", required=False, metavar="[CODE|NAME]")
@click.option("--markdown", is_flag=True, help="Print the whole table as Markdown.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="json: an array of {code, name, severity, summary, fix, fixable, family} "
                   "(one object with CODE; fixable is what `lint --fix` does, or empty).")
def rules(code: str | None, markdown: bool, fmt: str) -> None:
    """List every rule code, or explain one (by code, e.g. V005, or name, e.g. bad-sha256)."""
    if markdown and fmt == "json":
        raise click.UsageError("--markdown and --format json are two different outputs; "
                               "choose one")
    if code is not None:
        from repo_tools.settings import resolve_rule

        resolved = resolve_rule(code)
        rule = ALL_RULES.get(resolved) if resolved else None
        if rule is None:
            raise click.BadParameter(f"no rule {code!r}; run `repo-tools rules` for the list",
                                     param_hint="CODE")
        if fmt == "json":
            click.echo(json.dumps(rule_record(rule), indent=2, ensure_ascii=False))
            return
        automatic = (f"`repo-tools lint --fix` {rule.fixable}." if rule.fixable
                     else "Not fixed automatically.")
        click.echo(f"{rule.code} {rule.name} ({rule.severity})\n\n{rule.summary}\n\n"
                   f"What to do: {rule.fix}\n\nFixable: {automatic}\n\n"
                   f"More: {rule_url(rule.code)}")
        return
    if fmt == "json":
        click.echo(json_table(), nl=False)
        return
    if markdown:
        click.echo(markdown_table(), nl=False)
        return
    for rule in ALL_RULES.values():
        mark = " [fixable]" if rule.fixable else ""
        click.echo(f"{rule.code}  {rule.severity:<7}  {rule.name}{mark}: {rule.summary}")
