"""`repo-tools check-index` and `repo-tools resolve`.

`resolve` reads its data through a `ConfigSnapshot`, so where the data comes from (a
checkout, or a verified release bundle) is kept apart from deciding
(`repo_tools.compat.resolve`) and from rendering.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from repo_tools import compat
from repo_tools import repo as repo_layout
from repo_tools.checks.index import load_index, run_check_index
from repo_tools.cli.common import (
    IOFailure,
    command_with_exit,
    emit,
    output_options,
    repo_option,
    with_repo_settings,
)
from repo_tools.compat import IndexEntry, Resolution, Segment
from repo_tools.findings import Finding, Severity, sort_findings
from repo_tools.jsonfile import load_json_file
from repo_tools.report import encodable, render_text, visible
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


# -- data sources for resolve ---------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class ConfigSnapshot:
    """What `resolve` needs from a config repository, wherever it was read from."""

    entries: list[IndexEntry] | None
    """The valid index entries; None when the index could not be read at all."""
    models_of: Callable[[str], list[dict[str, Any]]]
    """Every model entry of one config version."""
    problems: list[Finding]
    """Problems met while reading (shown on stderr; models_of may add to them)."""


def checkout_snapshot(repo: Path, base: Path) -> ConfigSnapshot:
    """A snapshot that reads a checkout on disk: index.json and versions/*/models/*.json."""
    index, problems = load_index(repo, base)

    def models_of(config_version: str) -> list[dict[str, Any]]:
        models_dir = repo / repo_layout.VERSIONS_DIR / config_version / repo_layout.MODELS_DIR
        found: list[dict[str, Any]] = []
        for path in sorted(models_dir.glob("*.json")):
            doc, file_problems = load_json_file(path, repo_layout.display_path(path, base))
            problems.extend(f for f in file_problems if f.severity is Severity.ERROR)
            data = doc.data if doc is not None else None
            models = data.get("models") if isinstance(data, dict) else None
            if isinstance(models, list):
                found.extend(m for m in models if isinstance(m, dict))
        return found

    return ConfigSnapshot(index.entries if index else None, models_of, problems)


def bundle_snapshot(location: str, allowed_signers: Path) -> ConfigSnapshot:
    """A snapshot of a published release, verified first (signature, expiry, every hash)
    and read as the client library reads it: invalid models are left out, with a note.
    A rejected release is a problem (exit 1); an unreachable one an IOFailure (exit 2)."""
    from repo_tools.client.catalog import InvalidRemote
    from repo_tools.client.loader import load_release_config
    from repo_tools.client.sources import RemoteFailure
    from repo_tools.findings import finding
    from repo_tools.release.sshsig import AllowedSignersError
    from repo_tools.rules import client as client_rules

    try:
        remote, _ = load_release_config(location, allowed_signers)
    except (OSError, UnicodeDecodeError, AllowedSignersError) as exc:
        raise IOFailure(f"cannot use {allowed_signers}: {exc}") from None
    except RemoteFailure as exc:
        if exc.rule is client_rules.REMOTE_UNREACHABLE:
            raise IOFailure(exc.message) from None
        return ConfigSnapshot(None, lambda version: [], [finding(exc.rule, location,
                                                                 exc.message)])
    except InvalidRemote as exc:
        return ConfigSnapshot(None, lambda version: [],
                              [finding(client_rules.INVALID_REMOTE, location, str(exc))])
    problems: list[Finding] = []

    def models_of(config_version: str) -> list[dict[str, Any]]:
        problems.extend(remote.skipped.get(config_version, []))
        return remote.models_of(config_version)

    return ConfigSnapshot(compat.entries_from_index(remote.index), models_of, problems)


# -- rendering ------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    """Text for a table cell. resolve reads files that may not have been validated, so
    controls are escaped (they must not drive the terminal) and so are lone surrogates,
    cell by cell, so that the column widths are those of the text printed."""
    return encodable(visible(str(value)))


def _columns(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n" for row in rows)


def render_resolution(result: Resolution, fmt: str) -> str:
    if fmt == "json":
        doc = {"client_version": result.client_version, "platform": result.platform,
               "config_version": result.config_version, "models": result.models}
        return encodable(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    who = f"client {result.client_version}"
    if result.platform is not None:
        who += f" on {_cell(result.platform)}"
    if result.config_version is None:
        return encodable(f"{who}: no config version admits this client\n")
    count = len(result.models)
    head = f"{who} -> {result.config_version} ({count} model{'' if count == 1 else 's'})\n"
    if not result.models:
        return encodable(head)
    rows = [["#", "ranking", "provider", "model", "version", "platforms"]]
    for position, model in enumerate(result.models, 1):
        compat_info = model.get("compatibility")
        platforms = compat_info.get("supported_platforms") if isinstance(compat_info,
                                                                         dict) else None
        rows.append([str(position), str(compat.ranking(model)), _cell(model.get("provider", "")),
                     _cell(model.get("model", "")), _cell(model.get("version", "")),
                     ",".join(_cell(p) for p in platforms) if isinstance(platforms, list)
                     else "any"])
    return encodable(head + "\n" + _columns(rows))


def render_table(table: Sequence[Segment], fmt: str) -> str:
    if fmt == "json":
        rows = [{"clients": s.clients.describe(),
                 "low": None if s.clients.low == compat.MIN_VERSION else s.clients.low,
                 "high": s.clients.high, "config_version": s.config_version}
                for s in table]
        return encodable(json.dumps({"table": rows}, indent=2) + "\n")
    lines = [["client versions", "config version"]]
    lines += [[s.clients.describe(), s.config_version or "(none)"] for s in table]
    return encodable(_columns(lines))


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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@command_with_exit
def resolve(client_version: str | None, platform: str | None, show_table: bool, repo: Path,
            bundle: str | None, allowed_signers: Path | None, fmt: str) -> int:
    """Show which config version, and which models in which order, a client gets.

    Exit 0 when the client gets a config version, 1 when none admits it, the index
    cannot be read or the --bundle release is rejected, 2 on usage errors.
    """
    if show_table == (client_version is not None):
        raise click.UsageError("give either --client-version VERSION or --table")
    if show_table and platform is not None:
        raise click.UsageError("--platform applies to --client-version, not to --table")
    if (bundle is None) != (allowed_signers is None):
        raise click.UsageError("--bundle and --allowed-signers go together")
    if bundle is not None and allowed_signers is not None:
        snapshot = bundle_snapshot(bundle, allowed_signers)
    else:
        _require_repo(repo)
        snapshot = checkout_snapshot(repo, Path.cwd())
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
    click.echo(render_resolution(result, fmt), nl=False)
    return 0 if result.config_version is not None else 1
