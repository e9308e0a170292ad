"""`repo-tools lint` (every offline check at once) and `repo-tools init` (a new config repo)."""

from __future__ import annotations

from pathlib import Path

import click

from repo_tools.cli.common import IOFailure, command_with_exit, emit, output_options, repo_option
from repo_tools.settings import CHECKS, split_checks


def parse_checks(value: str | None) -> tuple[str, ...] | None:
    """The --checks option: None or blank means the settings' list."""
    try:
        return split_checks(value or "")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--checks") from None


def require_config_repo(repo: Path) -> None:
    if not repo.is_dir():
        raise IOFailure(f"{repo} is not a directory")
    if not (repo / "index.json").exists() and not (repo / "versions").is_dir():
        raise IOFailure(f"{repo} is not a config repository: it has neither index.json nor "
                        "versions/ (use --repo to point at one)")


@click.command()
@repo_option
@output_options
@click.option("--checks", "checks_value", metavar="LIST", default=None,
              help=f"Checks to run, comma-separated, from: {', '.join(CHECKS)} "
                   "[default: the settings' `checks`, else validate,index,migrate].")
@click.option("--probe", is_flag=True, help="Also probe every download URL (network).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Read settings from this file instead of the repo's .repo-tools.toml or "
                   "pyproject.toml.")
@click.option("--fix", is_flag=True,
              help="First apply the fixes that are mechanical and lossless (`repo-tools "
                   "rules` says which rules have one), then report what is left. Exit 1 "
                   "when a file was changed, so a hook stops the commit for review.")
@click.option("--diff", is_flag=True,
              help="With --fix: print the fixes as a unified diff and change nothing.")
@command_with_exit
def lint(repo: Path, fmt: str, strict: bool, output: Path | None, checks_value: str | None,
         probe: bool, config: Path | None, fix: bool, diff: bool) -> int:
    """Run every offline check on a whole config repository: one report, one exit code.

    validate (model files), check-index (index.json and its ranges) and migrate --check
    (v1 files left), with the settings from .repo-tools.toml or [tool.repo-tools] in
    pyproject.toml at the repo root. Exit 0 when clean, 1 on findings, 2 on usage errors.
    """
    from repo_tools.lint import LintError, lint_repo

    require_config_repo(repo)
    if config is not None and not config.is_file():
        raise IOFailure(f"no such settings file: {config}")
    if diff and not fix:
        raise click.UsageError("--diff shows what --fix would change; use it with --fix")
    changed = _fix(repo, config, fmt, output, write=not diff) if fix else False
    try:
        result = lint_repo(repo, base=Path.cwd(), checks=parse_checks(checks_value),
                           probe=probe, config=config)
    except LintError as exc:
        raise IOFailure(str(exc)) from exc
    code = emit(result.findings, result.files, fmt=fmt, strict=strict, output=output)
    return 1 if changed else code


def _fix(repo: Path, config: Path | None, fmt: str, output: Path | None, *,
         write: bool) -> bool:
    """Make (or with --diff show) the fixes; True when a file was or would be changed.
    What was fixed goes to stderr, as probe --write tells it."""
    from repo_tools.lint import fix_repo
    from repo_tools.textedit import EditError

    try:
        result = fix_repo(repo, base=Path.cwd(), write=write, config=config)
    except EditError as exc:
        raise IOFailure(f"--fix stopped: {exc}") from exc
    except OSError as exc:
        raise IOFailure(f"cannot write {exc.filename}: {exc.strerror}") from exc
    if not write:
        text = "".join(plan.diff() for plan in result.changed)
        # Keep a machine-readable report alone on stdout; the diff then goes to stderr.
        if text:
            click.echo(text, nl=False, err=output is None and fmt in ("json", "sarif"))
    verb = "fixed" if write else "would fix"
    for fixed in result.fixed():
        click.echo(f"{verb} {fixed.path}:{fixed.line}:{fixed.column}: {fixed.rule} "
                   f"{fixed.message}", err=True)
    for plan in result.files:
        if plan.skipped and plan.fixes:
            click.echo(f"not fixed {plan.display}: {plan.skipped}", err=True)
    return bool(result.changed)


class _InitCommand(click.Command):
    """`init --help` lists the template's variables and defaults from the installed
    package, rather than pointing at a file of the source checkout."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from repo_tools import __version__
        from repo_tools.scaffold import template_defaults

        given = {"repo_name": "DIRECTORY's name (or --name)",
                 "repo_slug": "DIRECTORY's name (always)",
                 "toolkit_rev": f"'v{__version__}' (this version)"}
        rows = [(name, given.get(name, repr(value)))
                for name, value in template_defaults().items()]
        with formatter.section("Template variables (--set KEY=VALUE) and their defaults"):
            formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


@click.command(cls=_InitCommand)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None,
              help="Human name of the repository, the title of its README [default: "
                   "DIRECTORY's name].")
@click.option("--toolkit-repo", metavar="URL|PATH", default=None,
              help="Where the new repo's hooks (and, on github.com, its Action) come from: "
                   "any git URL, or a local path for offline use [default: the project's "
                   "github.com repository]. Same as --set toolkit_repo=...")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Set a template variable (listed below); repeatable.")
@click.option("--interactive", is_flag=True, help="Prompt for every template variable.")
def init(directory: Path, name: str | None, toolkit_repo: str | None,
         assignments: tuple[str, ...], interactive: bool) -> None:
    """Create a new config repository in DIRECTORY from the bundled template.

    The result passes `repo-tools lint`, and has pre-commit hooks and GitHub workflows
    pinned to this version of repo-tools. DIRECTORY must not exist or be empty. Needs
    the `template` extra (cookiecutter).
    """
    from repo_tools import __version__
    from repo_tools.scaffold import TemplateError, render_template, toolkit_location

    directory = directory.resolve()  # so that `init .` has a name too
    context = {"toolkit_rev": f"v{__version__}", "repo_name": name or directory.name}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        context[key] = value
    if toolkit_repo is not None:
        context["toolkit_repo"] = toolkit_repo
    if "toolkit_repo" in context:
        context["toolkit_repo"] = toolkit_location(context["toolkit_repo"], Path.cwd())
    try:
        created = render_template(directory, context, interactive=interactive)
    except TemplateError as exc:
        raise IOFailure(str(exc)) from exc
    click.echo(f"Created {created}")
    click.echo("Next: cd into it, `git init`, `pre-commit install`, then `repo-tools lint`.")
