"""`repo-tools rules`: the rule table, or one rule explained."""

from __future__ import annotations

import click

from repo_tools.rules import ALL_RULES, FAMILIES


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The rule table as Markdown, one section per family (the README embeds this)."""
    lines = []
    for family, rules in FAMILIES.items():
        if not rules:
            continue
        lines += [f"**{family[0].upper()}{family[1:]}**", "",
                  "| code | name | severity | what it means | what to do |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{r.code}` | {r.name} | {r.severity} | {_cell(r.summary)} | "
                  f"{_cell(r.fix)} |" for r in rules]
        lines.append("")
    return "\n".join(lines)


@click.command()
@click.argument("code", required=False, metavar="[CODE|NAME]")
@click.option("--markdown", is_flag=True, help="Print the whole table as Markdown.")
def rules(code: str | None, markdown: bool) -> None:
    """List every rule code, or explain one (by code, e.g. V005, or name, e.g. bad-sha256)."""
    if code is not None:
        from repo_tools.settings import resolve_rule

        resolved = resolve_rule(code)
        rule = ALL_RULES.get(resolved) if resolved else None
        if rule is None:
            raise click.BadParameter(f"no rule {code!r}; run `repo-tools rules` for the list",
                                     param_hint="CODE")
        click.echo(f"{rule.code} {rule.name} ({rule.severity})\n\n{rule.summary}\n\n"
                   f"What to do: {rule.fix}")
        return
    if markdown:
        click.echo(markdown_table(), nl=False)
        return
    for rule in ALL_RULES.values():
        click.echo(f"{rule.code}  {rule.severity:<7}  {rule.name}: {rule.summary}")
