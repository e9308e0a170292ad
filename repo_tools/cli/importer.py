"""`repo-tools import`: a public catalog (GPT4All, LM Studio, LocalAI) into v2 files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from repo_tools.cli.common import (
    IOFailure,
    command_with_exit,
    config_version_name,
    emit,
    output_options,
    repo_option,
)

# A catalog is a listing, not a model: a bound keeps a wrong URL from filling memory.
MAX_CATALOG_BYTES = 256 << 20


@click.command("import")
@click.argument("catalog_format", metavar="gpt4all|lmstudio|localai",
                type=click.Choice(["gpt4all", "lmstudio", "localai"]))
@click.argument("source", metavar="FILE_OR_URL")
@click.option("--config-version", required=True, metavar="vX.Y.Z", callback=config_version_name,
              help="The config version to import into: versions/<it>/models/<provider>.json.")
@click.option("--provider", default=None,
              help="Put every entry under this provider [default: from each URL].")
@click.option("--dry-run", is_flag=True, help="Report what would be written; write nothing.")
@repo_option
@output_options
@command_with_exit
def import_catalog(catalog_format: str, source: str, config_version: str,
                   provider: str | None, dry_run: bool, repo: Path, fmt: str, strict: bool,
                   output: Path | None) -> int:
    """Import a GPT4All models3.json, LM Studio catalog.json or LocalAI gallery index.

    Entries are appended to versions/<config-version>/models/<provider>.json, grouped by
    provider (from each download URL unless --provider is given); every value of the
    catalog is kept, in its v2 place or in the entry's metadata. Entries without a usable
    SHA-256 are written without one (M005 names the command that fills it in). Exit 1
    when anything is left to do, 2 when the catalog cannot be read.
    """
    from repo_tools.additions import write_addition
    from repo_tools.catalogs import CatalogError
    from repo_tools.importing import plan_import
    from repo_tools.net.transport import redact_url
    from repo_tools.textedit import EditError

    shown = redact_url(source) if source.startswith(("http://", "https://")) else source
    catalog = _parse(catalog_format, _read(source), shown)
    try:
        result = plan_import(repo, catalog_format, catalog, shown, config_version,
                             provider=provider)
    except CatalogError as exc:
        raise IOFailure(f"{shown} is not a {catalog_format} catalog: {exc}") from exc
    written = []
    if not result.refused and not dry_run:
        try:
            for plan in result.plans:
                write_addition(plan)
                written.append(plan.display)
        except EditError as exc:
            raise IOFailure(f"stopped: {exc}") from exc
        except OSError as exc:
            raise IOFailure(f"cannot write: {exc.strerror or exc}") from exc
    verb = "would import" if dry_run else "imported"
    if result.refused:
        verb = "refused to import"
    files = len(result.plans)
    click.echo(f"{verb} {result.imported} entries into {files} file(s) of {config_version}"
               + (f"; {result.left_out} left out" if result.left_out else ""), err=True)
    return emit(result.findings, files, fmt=fmt, strict=strict, output=output)


def _read(source: str) -> bytes:
    if source.startswith(("http://", "https://")):
        from repo_tools.net import Credentials, CredentialsError, Deadline, NetworkLimits, scrub
        from repo_tools.net.transport import NetworkError, Transport, redact_url

        try:
            credentials = Credentials()
        except CredentialsError as exc:
            raise IOFailure(str(exc)) from exc
        limits = NetworkLimits()
        try:
            with Transport(limits, credentials, user_agent="repo-tools-import") as transport:
                status, body = transport.get_bytes(source, MAX_CATALOG_BYTES,
                                                   Deadline(300.0, name="the download"))
        except NetworkError as exc:
            raise IOFailure(f"cannot fetch {redact_url(source)}: "
                            f"{scrub(exc.describe(), credentials.secrets())}") from exc
        if status != 200:
            raise IOFailure(f"cannot fetch {redact_url(source)}: the server answers {status}")
        return body
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise IOFailure(f"cannot read {source}: {exc.strerror or exc}") from exc


def _parse(fmt: str, raw: bytes, source: str) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IOFailure(f"{source} is not UTF-8 text") from exc
    if fmt != "localai":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise IOFailure(f"{source} is not valid JSON: {exc}") from exc
    try:
        import yaml
    except ImportError as exc:
        raise IOFailure("reading a LocalAI gallery needs PyYAML: "
                        "pip install 'repo-tools[import]'") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise IOFailure(f"{source} is not valid YAML: {exc}") from exc
    from repo_tools.catalogs import CatalogError, jsonable

    try:
        return jsonable(data)
    except CatalogError as exc:
        raise IOFailure(f"{source}: {exc}") from exc
