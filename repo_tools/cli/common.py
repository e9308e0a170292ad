"""Options and output shared by the commands that report findings."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from repo_tools import repo as repo_layout
from repo_tools.findings import Finding, exit_code
from repo_tools.repo import with_repo_settings as with_repo_settings  # for the commands
from repo_tools.report import FORMATS, render, render_text

F = TypeVar("F", bound=Callable[..., Any])

# Case-insensitive matching rather than lower(): it also takes the Unicode forms of the
# unit letters (the Kelvin sign, dotless i) that `cache --max-bytes` has always accepted.
_BYTE_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_BYTE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class IOFailure(click.ClickException):
    """An I/O or environment problem (not a finding): exit code 2."""

    exit_code = 2


def parse_byte_size(text: str) -> int:
    """`1048576`, `512M`, `2G`, `1.5GiB` -> bytes (binary units)."""
    match = _BYTE_SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a size like 500M or 2G")
    unit = match.group(2).lower()
    # Integer arithmetic throughout: a float rounds sizes past 2**53 and overflows on
    # long numbers. A fraction is rounded down to whole bytes, so it needs a unit.
    whole, _, part = match.group(1).partition(".")
    numerator = int(whole + part) * _BYTE_UNITS[unit]
    denominator: int = 10 ** len(part)  # typeshed: int ** int may be a float
    if not unit and numerator % denominator:
        raise ValueError(f"{text!r} is not a whole number of bytes")
    return numerator // denominator


class ByteSize(click.ParamType):  # type: ignore[type-arg]
    name = "size"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_byte_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class FiniteFloat(click.FloatRange):
    """A float range that also refuses nan and inf (FloatRange lets nan through)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


_QUIET = "repo_tools.quiet"


def _remember_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_QUIET] = True


def quiet_option(func: F) -> F:
    """-q/--quiet: the findings (or the result) only; no summary line, progress or notes."""
    decorator = click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_remember_quiet,
        help="Print the findings only: no summary line, progress or notes (warnings stay).")
    wrapped: F = decorator(func)
    return wrapped


def is_quiet() -> bool:
    """Whether the running command was given -q/--quiet."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(_QUIET))


def color_wanted() -> bool:
    """The --color choice (before or after the subcommand) with NO_COLOR and FORCE_COLOR."""
    from repo_tools.cli import use_color

    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return use_color(obj.get("color", "auto") if isinstance(obj, dict) else "auto")


def output_options(func: F) -> F:
    """--format, --strict, --output and -q, as every checking command takes them."""
    options = [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
                     show_default=True, help="Output format of the findings."),
        click.option("--strict", is_flag=True,
                     help="Exit 1 on warnings too, not only on errors."),
        click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path),
                     default=None, help="Write the report to this file instead of stdout."),
        quiet_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def repo_option(func: F) -> F:
    decorator = click.option(
        "--repo", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
        show_default=True, help="Root of the configuration repository.")
    wrapped: F = decorator(func)
    return wrapped


def config_version_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A --config-version that names a versions/ directory: `v` + strict SemVer (I003)."""
    from repo_tools.checks.index import explain_config_name

    problem = explain_config_name(value)
    if problem:
        raise click.BadParameter(problem)
    return value


def emit(findings: Sequence[Finding], files: int, *, fmt: str, strict: bool,
         output: Path | None) -> int:
    """Render findings to stdout (or --output) and return the exit code."""
    color = output is None and color_wanted()
    if fmt == "text":
        text = render_text(findings, files, color=color, summary_line=not is_quiet())
    else:
        text = render(fmt, findings, files, color=color)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise IOFailure(f"cannot write {output}: {exc.strerror}") from exc
    else:
        # click strips ANSI codes when stdout is not a terminal; --color always means keep them.
        click.echo(text, nl=False, color=color or None)
    return exit_code(findings, strict=strict)


def existing_files(paths: Sequence[Path]) -> list[Path]:
    """Named paths must exist (a directory is reported as a finding by the check)."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise IOFailure(f"no such file: {', '.join(missing)}")
    return list(paths)


def files_to_check(files: Sequence[Path], repo: Path) -> list[Path]:
    """The named files, or when none are named every model file under repo."""
    if files:
        return existing_files(files)
    paths = repo_layout.model_files(repo)
    if not paths:
        raise IOFailure(f"no model files found under {repo}/versions/*/models/*.json")
    return paths


def command_with_exit(func: Callable[..., int]) -> Callable[..., None]:
    """Turn a command body's return value into the process exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        code = func(*args, **kwargs)
        raise SystemExit(code)

    return wrapper
