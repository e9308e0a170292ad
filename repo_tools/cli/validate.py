"""`repo-tools validate`: the pre-commit hook's entry point."""

from __future__ import annotations

from pathlib import Path

import click

from repo_tools.checks.validate import validate_paths
from repo_tools.cli.common import (
    command_with_exit,
    emit,
    files_to_check,
    output_options,
    repo_option,
    with_repo_settings,
)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@repo_option
@output_options
@click.option("--jobs", type=click.IntRange(min=0), default=0,
              help="Worker processes for large batches (0: one per core).")
@command_with_exit
def validate(files: tuple[Path, ...], repo: Path, fmt: str, strict: bool, output: Path | None,
             jobs: int) -> int:
    """Check model files against the v2 schema and the value rules.

    FILES default to every versions/*/models/*.json under --repo. Files of the same
    config version that are not named are read too, for the rules that span files.
    """
    paths = files_to_check(files, repo)
    result = validate_paths(paths, Path.cwd(), jobs=jobs)
    findings = with_repo_settings(result.findings, repo)
    return emit(findings, result.files_checked, fmt=fmt, strict=strict, output=output)
