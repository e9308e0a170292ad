"""The `repo-tools` command line: a thin layer over the library.

Subcommands are imported only when invoked, so `repo-tools validate` (the pre-commit
hook's hot path) never pays for `requests` or `cryptography`.
"""

from __future__ import annotations

import importlib

import click

from repo_tools import __version__
from repo_tools.report import use_color as use_color  # where --color is decided

# name -> "module:attribute"; each module holds one family of commands.
COMMANDS: dict[str, str] = {
    "lint": "repo_tools.cli.lint:lint",
    "validate": "repo_tools.cli.validate:validate",
    "check-index": "repo_tools.cli.index:check_index",
    "resolve": "repo_tools.cli.index:resolve",
    "diff": "repo_tools.cli.diff:diff",
    "migrate": "repo_tools.cli.migrate:migrate",
    "add": "repo_tools.cli.add:add",
    "import": "repo_tools.cli.importer:import_catalog",
    "probe": "repo_tools.cli.probe:probe",
    "probe-merge": "repo_tools.cli.probe:probe_merge",
    "release": "repo_tools.cli.release:release",
    "verify": "repo_tools.cli.release:verify",
    "keygen": "repo_tools.cli.release:keygen",
    "init": "repo_tools.cli.lint:init",
    "cache": "repo_tools.cli.cache:cache",
    "export-defaults": "repo_tools.cli.defaults:export_defaults",
    "rules": "repo_tools.cli.rules:rules",
}


COLOR_CHOICES = ("auto", "always", "never")
COLOR_HELP = "Colour the text output (auto: a terminal, unless NO_COLOR; FORCE_COLOR forces it)."


def _remember_color(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """`--color` after the subcommand overrides the one before it."""
    if value is not None:
        root = ctx.find_root()
        root.obj = {**(root.obj or {}), "color": value}


def with_color_option(command: click.Command) -> click.Command:
    """Give a command (and a group's subcommands) its own `--color`, so it can follow the
    subcommand as well as precede it. Idempotent: commands are loaded more than once."""
    if not any(param.name == "color" for param in command.params):
        command.params.append(click.Option(
            ["--color"], type=click.Choice(COLOR_CHOICES), default=None, expose_value=False,
            is_eager=True, callback=_remember_color, help=COLOR_HELP))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_color_option(sub)
    return command


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self.get_command(ctx, name) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # that family of commands is not built yet
                return None
            raise
        command: click.Command = getattr(module, attr)
        return with_color_option(command)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="repo-tools")
@click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True,
              help=COLOR_HELP)
@click.pass_context
def main(ctx: click.Context, color: str) -> None:
    """Lint, migrate, probe, sign and consume model-configuration repositories.

    Every command also takes --color after its name. Shell completion for bash (zsh,
    fish: zsh_source, fish_source): eval "$(_REPO_TOOLS_COMPLETE=bash_source repo-tools)"
    """
    ctx.ensure_object(dict)["color"] = color
