"""`repo-tools check-index` and `repo-tools resolve`.

`resolve` reads its data through a `RepoSnapshot` (repo_tools.snapshot), so where the data
comes from (a checkout, or a verified release) is kept apart from deciding
(`repo_tools.compat.resolve`) and from rendering (`repo_tools.tables`).
"""

from __future__ import annotations

from pathlib import Path

import click

from repo_tools import compat
from repo_tools.checks.index import run_check_index
from repo_tools.cli.common import (
    IOFailure,
    command_with_exit,
    emit,
    output_options,
    repo_option,
    with_repo_settings,
)
from repo_tools.findings import Finding, sort_findings
from repo_tools.report import render_text
from repo_tools.snapshot import (
    ALL_ARCHIVES,
    NO_ARCHIVES,
    SnapshotUnavailable,
    from_checkout,
    from_release,
)
from repo_tools.tables import render_resolution, render_table
from repo_tools.versions import explain_semver, is_semver


def _require_repo(repo: Path) -> None:
    if not repo.is_dir():
        raise IOFailure(f"no such directory: {repo}")


@click.command("check-index")
@repo_option
@output_options
@command_with_exit
def check_index(repo: Path, fmt: str, strict: bool, output: Path | None) -> int:
    """Check index.json: entries vs versions/ directories, and the client ranges.

    Reports newer clients getting older configs, config versions no client can select,
    client versions no entry admits, models no client can reach and stray open-ended
    ranges. Always checks the whole repository (the hook passes no file names).
    """
    _require_repo(repo)
    result = run_check_index(repo, Path.cwd())
    findings = with_repo_settings(result.findings, repo)
    return emit(findings, result.files, fmt=fmt, strict=strict, output=output)


# -- resolve --------------------------------------------------------------------------------


def _client_version(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not is_semver(value):
        raise click.BadParameter(explain_semver(value))
    return value


def _report_problems(problems: list[Finding]) -> None:
    if problems:
        click.echo(render_text(sort_findings(problems), 1), nl=False, err=True)


@click.command()
@click.option("--client-version", callback=_client_version, metavar="VERSION",
              help="The client's version (strict SemVer, e.g. 1.4.0 or 2.0.0-rc.1).")
@click.option("--platform", metavar="NAME",
              help="The client's platform; models whose supported_platforms omit it are "
                   "left out (exact match).")
@click.option("--table", "show_table", is_flag=True,
              help="Print the whole client-version -> config-version map instead.")
@repo_option
@click.option("--bundle", "bundle", metavar="URL|DIR", default=None,
              help="Read a published release (its folder URL or directory) instead of "
                   "--repo; it is verified first, as a client would.")
@click.option("--allowed-signers", "allowed_signers", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The trusted release keys (with --bundle).")
@click.option("--previous", "previous", metavar="URL|DIR|FILE", default=None,
              help="The release the client has now (with --bundle and --client-version): "
                   "the client's shrink guard (C005) is applied as a client applies it, "
                   "with the default max_drop_fraction [default: the release before, "
                   "N-1.manifest.json beside the bundle's manifest, when it is there].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@command_with_exit
def resolve(client_version: str | None, platform: str | None, show_table: bool, repo: Path,
            bundle: str | None, allowed_signers: Path | None, previous: str | None,
            fmt: str) -> int:
    """Show which config version, and which models in which order, a client gets.

    Exit 0 when the client gets a config version, 1 when none admits it, the index
    cannot be read, the --bundle release is rejected or the client's shrink guard
    refuses it (--previous: the previous release's answer is shown), 2 on usage errors.
    """
    if show_table == (client_version is not None):
        raise click.UsageError("give either --client-version VERSION or --table")
    if show_table and platform is not None:
        raise click.UsageError("--platform applies to --client-version, not to --table")
    if (bundle is None) != (allowed_signers is None):
        raise click.UsageError("--bundle and --allowed-signers go together")
    if previous is not None and (bundle is None or client_version is None):
        raise click.UsageError("--previous goes with --bundle and --client-version")
    if bundle is not None and allowed_signers is not None:
        try:
            # Only what the answer needs: the index for --table, else the one archive
            # the client selects (as a client fetches it).
            snapshot = from_release(bundle, allowed_signers, client_version=client_version,
                                    archives=NO_ARCHIVES if show_table else ALL_ARCHIVES)
        except SnapshotUnavailable as exc:
            raise IOFailure(str(exc)) from None
    else:
        _require_repo(repo)
        snapshot = from_checkout(repo, Path.cwd())
    if snapshot.entries is None:
        _report_problems(snapshot.problems)
        return 1
    if show_table:
        _report_problems(snapshot.problems)
        click.echo(render_table(compat.selection_table(snapshot.entries), fmt), nl=False)
        return 0
    assert client_version is not None
    result = compat.resolve(snapshot.entries, snapshot.models_of, client_version, platform)
    _report_problems(snapshot.problems)
    explicit = previous is not None
    if previous is None and bundle is not None and snapshot.bundle_version is not None \
            and snapshot.bundle_version > 1 and client_version is not None:
        previous = _release_before(bundle, snapshot.bundle_version)
    if previous is not None and allowed_signers is not None and result.config_version:
        kept = _kept_by_shrink_guard(result, previous, allowed_signers, explicit=explicit)
        if kept is not None:
            click.echo(render_resolution(kept, fmt), nl=False)
            return 1
    click.echo(render_resolution(result, fmt), nl=False)
    return 0 if result.config_version is not None else 1


def _release_before(bundle: str, version: int) -> str | None:
    """Where release N-1's snapshot manifest sits beside release N's (`release` keeps
    every `N.manifest.json` in its --out folder); None when it is not a local folder's
    file (a URL is tried as given)."""
    from repo_tools.release.manifest import snapshot_name

    if bundle.startswith(("http://", "https://")):
        folder = bundle.rpartition("/")[0] if bundle.endswith(".json") else bundle.rstrip("/")
        return f"{folder}/{snapshot_name(version - 1)}"
    path = Path(bundle)
    directory = path.parent if path.suffix == ".json" and not path.is_dir() else path
    candidate = directory / snapshot_name(version - 1)
    return str(candidate) if candidate.is_file() else None


def _kept_by_shrink_guard(result: compat.Resolution, previous: str,
                          allowed_signers: Path, *,
                          explicit: bool) -> compat.Resolution | None:
    """What a client that has `previous` keeps when its shrink guard refuses `result`
    (reported as C005 on stderr), or None when it takes `result`. A previous release
    found by itself (not `explicit`) that cannot be read is no evidence: None."""
    from repo_tools import outlook
    from repo_tools.client.merge import shrink
    from repo_tools.findings import finding
    from repo_tools.rules import client as client_rules

    try:
        before_snapshot = from_release(previous, allowed_signers,
                                       client_version=result.client_version)
    except SnapshotUnavailable as exc:
        if not explicit:
            return None
        raise IOFailure(str(exc)) from None
    if before_snapshot.entries is None:
        if not explicit:
            return None
        _report_problems(before_snapshot.problems)
        raise IOFailure(f"cannot read the previous release {previous}")
    before = outlook.resolve(before_snapshot, result.client_version, result.platform)
    dropped = shrink(before.models, result.models, outlook.DEFAULT_MAX_DROP_FRACTION)
    if dropped is None:
        return None
    gone, total = dropped
    _report_problems([finding(
        client_rules.SUSPECT_REMOTE, previous,
        f"client {result.client_version} would refuse this release: it drops {gone} of the "
        f"{total} models {previous} gives it ({gone / total:.0%}, more than the default "
        f"{outlook.DEFAULT_MAX_DROP_FRACTION:.0%}); it keeps the previous release's config")])
    return before
