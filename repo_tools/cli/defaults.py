"""`repo-tools export-defaults`: the built-in defaults an application ships, from a
release or a checkout, in the layout the client reads (`configs/defaults/models/`)."""

from __future__ import annotations

from pathlib import Path

import click

from repo_tools.cli.common import IOFailure, command_with_exit
from repo_tools.findings import sort_findings
from repo_tools.report import render_text
from repo_tools.versions import explain_semver, is_semver


def _client_version(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not is_semver(value):
        raise click.BadParameter(explain_semver(value))
    return value


def _is_checkout(location: str) -> bool:
    path = Path(location)
    return path.is_dir() and (path / "index.json").is_file() and not (
        path / "manifest.json").is_file()


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
    from repo_tools.atomic import write_atomic
    from repo_tools.client.defaults import FILE_NAME
    from repo_tools.client.defaults import export_defaults as export
    from repo_tools.snapshot import SnapshotUnavailable, from_checkout, from_release

    if _is_checkout(source):
        snapshot = from_checkout(Path(source), Path.cwd())
        where = source
    else:
        if allowed_signers is None:
            raise click.UsageError("a release needs --allowed-signers (a checkout has "
                                   "index.json at its top)")
        try:
            snapshot = from_release(source, allowed_signers)
        except SnapshotUnavailable as exc:
            raise IOFailure(str(exc)) from None
        where = f"{source} (verified)"
    if snapshot.entries is None:
        click.echo(render_text(sort_findings(snapshot.problems), 1), nl=False, err=True)
        return 1
    exported = export(snapshot.entries, snapshot.models_of, client_version, platform)
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
