"""`repo-tools add`: one model entry from its download URL."""

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
from repo_tools.cli.probe import probe_option_flags
from repo_tools.probe_options import PROBE_OPTIONS, to_probe_options

_CONFIG_VERSION = click.option(
    "--config-version", required=True, metavar="vX.Y.Z", callback=config_version_name,
    help="The config version to add to: versions/<it>/models/<provider>.json.")


@click.command()
@click.argument("url")
@_CONFIG_VERSION
@click.option("--file", "file", default=None, metavar="NAME",
              help="The file, when URL is a Hugging Face repository (huggingface.co/ORG/REPO).")
@click.option("--provider", default=None, help="[default: from the URL]")
@click.option("--model", default=None, help="[default: the file name without extension]")
@click.option("--version", "version", default="1.0.0", show_default=True,
              help="The entry's version.")
@click.option("--ranking", type=click.IntRange(-2**31, 2**31 - 1), default=0,
              show_default=True, help="Higher is preferred.")
@click.option("--min-client", default=None, metavar="V", help="compatibility.min_client_version")
@click.option("--max-client", default=None, metavar="V", help="compatibility.max_client_version")
@click.option("--platform", "platforms", multiple=True, metavar="P",
              help="compatibility.supported_platforms (repeatable).")
@click.option("--dry-run", is_flag=True, help="Show the entry; write nothing.")
@repo_option
@output_options
@probe_option_flags
@command_with_exit
def add(url: str, config_version: str, file: str | None, provider: str | None,
        model: str | None, version: str, ranking: int, min_client: str | None,
        max_client: str | None, platforms: tuple[str, ...], dry_run: bool, repo: Path,
        fmt: str, strict: bool, output: Path | None, **values: Any) -> int:
    """Add the model at URL to a config version's model file.

    Its sha256 and size come from the host's X-Linked-Etag and X-Linked-Size when it
    states them (Hugging Face does: nothing is downloaded), else from downloading the
    file through probe's hasher. The entry is appended to
    versions/<config-version>/models/<provider>.json (created if needed), the rest of the
    file kept as it was. Exit 1 when it cannot be added (a duplicate, a URL that does not
    answer), 2 on usage errors.
    """
    from repo_tools.add import AddRequest, add_model
    from repo_tools.additions import write_addition
    from repo_tools.net import Credentials, CredentialsError
    from repo_tools.textedit import EditError

    options = to_probe_options(
        {option.key: values[option.param] for option in PROBE_OPTIONS.values()}, write=True)
    request = AddRequest(url, config_version, provider, model, version, ranking, min_client,
                         max_client, platforms, file)
    try:
        credentials = Credentials()
    except CredentialsError as exc:
        raise IOFailure(str(exc)) from exc
    try:
        result = add_model(repo, request, options, credentials)
        if result.added and result.plan is not None and not dry_run:
            write_addition(result.plan)
    except EditError as exc:
        raise IOFailure(f"nothing written: {exc}") from exc
    except OSError as exc:
        raise IOFailure(f"cannot write: {exc.strerror or exc}") from exc
    if result.added and result.plan is not None and result.entry is not None:
        verb = "would add" if dry_run else "added"
        entry = result.entry
        click.echo(f"{verb} {entry['provider']}/{entry['model']} {entry['version']} to "
                   f"{result.plan.display} (sha256 from {result.sha256_source}; "
                   f"{result.requests} request(s))", err=True)
        click.echo(json.dumps(entry, indent=2, ensure_ascii=False), err=True)
    return emit(result.findings, 1, fmt=fmt, strict=strict, output=output)
