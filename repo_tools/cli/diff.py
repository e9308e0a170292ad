"""`repo-tools diff BASE [HEAD]`: what clients will see change between two snapshots."""

from __future__ import annotations

from pathlib import Path

import click

from repo_tools.cli.common import IOFailure, command_with_exit, repo_option
from repo_tools.findings import sort_findings
from repo_tools.report import render_text
from repo_tools.snapshot import RepoSnapshot, SnapshotUnavailable


def is_release_location(source: str) -> bool:
    """A release (folder URL or folder with a manifest), not a git revision."""
    return source.startswith(("https://", "http://")) or (Path(source) / "manifest.json").is_file()


def snapshot_of(source: str | None, repo: Path, allowed_signers: Path | None) -> RepoSnapshot:
    """The work tree (None), a published release, or a git revision of `repo`."""
    from repo_tools import snapshot

    try:
        if source is None:
            if not repo.is_dir():
                raise IOFailure(f"no such directory: {repo}")
            return snapshot.from_checkout(repo, Path.cwd())
        if is_release_location(source):
            if allowed_signers is None:
                raise click.UsageError(f"{source} is a release: give --allowed-signers to "
                                       "verify it")
            return snapshot.from_release(source, allowed_signers)
        return snapshot.from_git(repo, source)
    except SnapshotUnavailable as exc:
        raise IOFailure(str(exc)) from None


@click.command()
@click.argument("base")
@click.argument("head", required=False)
@repo_option
@click.option("--allowed-signers", "allowed_signers", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The trusted release keys, when BASE or HEAD is a release.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True, help="Output format.")
@command_with_exit
def diff(base: str, head: str | None, repo: Path, allowed_signers: Path | None,
         fmt: str) -> int:
    """Show what clients will see change from BASE to HEAD.

    BASE and HEAD are git revisions of --repo, or releases (folder URLs or folders with a
    manifest.json, verified first as a client verifies them). HEAD defaults to the work
    tree. For each range of client versions whose config version or model list changes:
    the models added, removed and changed (and which fields), then index range changes.
    Exit 0 when compared (whatever the change), 1 when a side cannot be read as a repo
    (a rejected release, no index), 2 on usage and I/O errors.
    """
    from repo_tools.clientdiff import client_diff, render

    old = snapshot_of(base, repo, allowed_signers)
    new = snapshot_of(head, repo, allowed_signers)
    problems = sort_findings([*old.problems, *new.problems])
    if old.entries is None or new.entries is None:
        if problems:
            click.echo(render_text(problems, 1), nl=False, err=True)
        side = base if old.entries is None else (head or "the work tree")
        click.echo(f"repo-tools diff: cannot read an index from {side}", err=True)
        return 1
    result = client_diff(old, new)
    if problems:
        click.echo(render_text(problems, 1), nl=False, err=True)
    click.echo(render(result, fmt), nl=False)
    return 0
