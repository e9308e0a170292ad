"""`repo-tools export-defaults`: the built-in defaults an application ships, from a
release or a checkout, in the layout the client reads (`configs/defaults/models/`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from repo_tools.cli.common import IOFailure, command_with_exit
from repo_tools.findings import Finding, finding, sort_findings
from repo_tools.report import render_text
from repo_tools.versions import explain_semver, is_semver

if TYPE_CHECKING:
    from repo_tools.client.catalog import RemoteConfig


def _client_version(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not is_semver(value):
        raise click.BadParameter(explain_semver(value))
    return value


def _is_checkout(location: str) -> bool:
    path = Path(location)
    return path.is_dir() and (path / "index.json").is_file() and not (
        path / "manifest.json").is_file()


def _verified_release(location: str, allowed_signers: Path, client_version: str
                      ) -> tuple[RemoteConfig | None, list[Finding]]:
    """The release verified as the client verifies it, with the archive of the config
    version this client selects only (the others are not downloaded); or the findings
    why it is rejected. IOFailure when it cannot be reached or the keys cannot be used."""
    from repo_tools.client.catalog import InvalidRemote
    from repo_tools.client.loader import load_release_config
    from repo_tools.client.sources import RemoteFailure
    from repo_tools.release.sshsig import AllowedSignersError
    from repo_tools.rules import client as client_rules

    try:
        remote, _ = load_release_config(location, allowed_signers,
                                        client_version=client_version)
    except (OSError, UnicodeDecodeError, AllowedSignersError) as exc:
        raise IOFailure(f"cannot use {allowed_signers}: {exc}") from None
    except RemoteFailure as exc:
        if exc.rule is client_rules.REMOTE_UNREACHABLE:
            raise IOFailure(exc.message) from None
        return None, [finding(exc.rule, location, exc.message)]
    except InvalidRemote as exc:
        return None, [finding(client_rules.INVALID_REMOTE, location, str(exc))]
    return remote, []


@click.command("export-defaults")
@click.option("--client-version", required=True, callback=_client_version, metavar="VERSION",
              help="The application's version (strict SemVer).")
@click.option("--platform", metavar="NAME", default=None,
              help="The application's platform (models for other platforms are left out).")
@click.option("--from", "source", required=True, metavar="RELEASE|REPO",
              help="A published release (folder URL or directory; verified first, needs "
                   "--allowed-signers) or a config repo checkout.")
@click.option("--allowed-signers", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The trusted release keys (for a release).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The application's defaults folder (configs/defaults/models).")
@command_with_exit
def export_defaults(client_version: str, platform: str | None, source: str,
                    allowed_signers: Path | None, out: Path) -> int:
    """Write the models a client of this version gets as its built-in defaults.

    The selection is the client's own; the file is read back as the client reads its
    defaults before it is written. Exit 0 when written, 1 when no config version admits
    the client or an entry would not load (nothing written), 2 on usage or I/O errors.
    """
    from repo_tools import compat
    from repo_tools.atomic import write_atomic
    from repo_tools.client.defaults import FILE_NAME
    from repo_tools.client.defaults import export_defaults as export
    from repo_tools.snapshot import from_checkout

    if _is_checkout(source):
        snapshot = from_checkout(Path(source), Path.cwd())
        if snapshot.entries is None:
            click.echo(render_text(sort_findings(snapshot.problems), 1), nl=False, err=True)
            return 1
        entries, models_of = snapshot.entries, snapshot.models_of
        where = source
    else:
        if allowed_signers is None:
            raise click.UsageError("a release needs --allowed-signers (a checkout has "
                                   "index.json at its top)")
        remote, problems = _verified_release(source, allowed_signers, client_version)
        if remote is None:
            click.echo(render_text(sort_findings(problems), 1), nl=False, err=True)
            return 1
        entries, models_of = compat.entries_from_index(remote.index), remote.models_of
        where = f"{source} (verified)"
    exported = export(entries, models_of, client_version, platform)
    if not exported.ok:
        click.echo(render_text(sort_findings(exported.problems), 1), nl=False, err=True)
        return 1
    others = sorted(p.name for p in out.glob("*.json") if p.name != FILE_NAME) \
        if out.is_dir() else []
    if others:
        raise IOFailure(f"{out} holds other model files ({', '.join(others)}), which the "
                        "client would merge with these; move them away first")
    target = out / FILE_NAME
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(target, exported.data)
    except OSError as exc:
        raise IOFailure(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"wrote {len(exported.models)} model(s) of config version "
               f"{exported.config_version} for client {client_version}"
               f"{f' on {platform}' if platform else ''} to {target}, from {where}")
    return 0
