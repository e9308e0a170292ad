"""`repo-tools migrate`: convert v1 model files to v2 in place (the pre-commit fixer)."""

from __future__ import annotations

from pathlib import Path

import click

from repo_tools.cli.common import (
    IOFailure,
    command_with_exit,
    emit,
    files_to_check,
    output_options,
    repo_option,
)
from repo_tools.migrate import migrate_paths


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@repo_option
@click.option("--check", is_flag=True,
              help="Change nothing; print a unified diff of what would change, and exit 1 "
                   "if any file would change.")
@click.option("--without-hash", is_flag=True,
              help="Convert entries whose file_hash is missing or not a SHA-256 (an MD5) "
                   "without download.sha256, keeping the old hash in metadata, instead of "
                   "refusing the file; M005 names the command that fills the digest in.")
@click.option("--only-v1", is_flag=True,
              help="Report nothing about files that cannot be read as JSON: leave them to "
                   "validate (a hook run before validate then does not print a syntax "
                   "error twice).")
@output_options
@command_with_exit
def migrate(files: tuple[Path, ...], repo: Path, check: bool, without_hash: bool,
            only_v1: bool, fmt: str,
            strict: bool, output: Path | None) -> int:
    """Convert legacy v1 model files to the v2 format, in place.

    FILES default to every versions/*/models/*.json under --repo. v2 files are left
    byte-for-byte alone. Exit 1 when a file was (with --check: would be) changed or cannot
    be converted, so the commit stops for review; 0 when nothing needed changing.
    """
    paths = files_to_check(files, repo)
    try:
        result = migrate_paths(paths, Path.cwd(), write=not check, without_hash=without_hash)
    except OSError as exc:
        raise IOFailure(f"cannot write {exc.filename}: {exc.strerror}") from exc
    findings = result.findings
    if only_v1:
        unread = {f.display for f in result.files if not f.parsed}
        findings = [f for f in findings if f.path not in unread]
    if check:
        diff = "".join(f.diff() for f in result.changed)
        # Keep a machine-readable report alone on stdout; the diff then goes to stderr.
        to_stderr = output is None and fmt in ("json", "sarif")
        if diff:
            click.echo(diff, nl=False, err=to_stderr)
    return emit(findings, len(result.files), fmt=fmt, strict=strict, output=output)
