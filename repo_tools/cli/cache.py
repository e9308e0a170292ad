"""`repo-tools cache ls|verify|prune`: a client's model cache, for people."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from repo_tools.cli.common import ByteSize, IOFailure, command_with_exit, emit, output_options


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


_APP = "repo_tools.cache.app"


def _remember_app(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    ctx.meta[_APP] = value


def _cache_dir(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """--cache-dir (or $REPO_TOOLS_CACHE_DIR), else the default cache directory of the
    app named by --app: where a ConfigClient with that app_name and no cache_dir keeps
    its files."""
    if value is not None:
        return value
    app = ctx.meta.get(_APP)
    if not app:
        raise click.UsageError("which cache? give --cache-dir DIR, or --app NAME (the "
                               "ConfigClient's app_name), or set REPO_TOOLS_CACHE_DIR")
    from repo_tools.client.options import default_cache_dir

    return default_cache_dir(app)


def cache_dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        envvar="REPO_TOOLS_CACHE_DIR", show_envvar=True, callback=_cache_dir,
        help="The client's cache directory (the ConfigClient's cache_dir).")(func)
    return click.option(
        "--app", metavar="NAME", default=None, is_eager=True, expose_value=False,
        callback=_remember_app,
        help="Instead of --cache-dir: the ConfigClient's app_name, whose default cache "
             "directory (the platform's user cache directory for NAME) is meant.")(func)


def _open(cache_dir: Path) -> Any:
    from repo_tools.client.cache import ModelCache

    if not cache_dir.is_dir():
        raise IOFailure(f"no such directory: {cache_dir}")
    return ModelCache(cache_dir)


@click.group()
def cache() -> None:
    """Inspect, verify and prune a client's model cache."""


@cache.command("ls")
@cache_dir_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def ls(cache_dir: Path, fmt: str) -> None:
    """List cached model files, most recently used first, then partial downloads."""
    from repo_tools.client.cache import PARTIAL_SUFFIX

    model_cache = _open(cache_dir)
    entries = sorted(model_cache.read().entries.values(), key=lambda e: e.use, reverse=True)
    try:
        partials = model_cache.partials()
    except OSError as exc:
        raise IOFailure(f"cannot list the cache in {cache_dir}: {exc}") from None
    if fmt == "json":
        rows = [{"path": e.path, "size": e.size, "sha256": e.sha256,
                 "last_used": dt.datetime.fromtimestamp(e.used_at, dt.UTC).isoformat(),
                 "in_use": len(e.live_leases())} for e in entries]
        partial_rows = [{"path": p.cache_path + PARTIAL_SUFFIX, "size": p.size,
                         "modified": _when(p.mtime).isoformat(),
                         "in_progress": p.in_progress} for p in partials]
        click.echo(json.dumps({"entries": rows, "partials": partial_rows}, indent=2))
        return
    if not entries and not partials:
        click.echo("the cache is empty")
        return
    table = [["size", "last used (UTC)", "sha256", "in use", "path"]]
    for e in entries:
        used = dt.datetime.fromtimestamp(e.used_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        leases = len(e.live_leases())
        table.append([human(e.size), used, e.sha256[:12], str(leases) if leases else "-",
                      e.path])
    for p in partials:
        table.append([human(p.size), _when(p.mtime).strftime("%Y-%m-%d %H:%M:%S"), "(partial)",
                      "writing" if p.in_progress else "-", p.cache_path + PARTIAL_SUFFIX])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    total = sum(e.size for e in entries)
    summary = f"{len(entries)} file(s), {human(total)}"
    if partials:
        summary += (f"; {len(partials)} partial download(s), "
                    f"{human(sum(p.size for p in partials))}")
    click.echo(summary)


def _when(timestamp: float) -> dt.datetime:
    # A partial file's mtime comes from the file system: clamp what datetime cannot show.
    return dt.datetime.fromtimestamp(min(max(timestamp, 0.0), 253402300799.0), dt.UTC)


@cache.command()
@cache_dir_option
@output_options
@command_with_exit
def verify(cache_dir: Path, fmt: str, strict: bool, output: Path | None) -> int:
    """Hash every cached file; remove those that do not match (exit 1 if any)."""
    model_cache = _open(cache_dir)
    count = len(model_cache.read().entries)
    try:
        found = model_cache.verify_all()
    except OSError as exc:
        raise IOFailure(f"cannot verify the cache in {cache_dir}: {exc}") from None
    return emit(found, count, fmt=fmt, strict=strict, output=output)


@cache.command()
@cache_dir_option
@click.option("--max-bytes", type=ByteSize(), default=None, metavar="SIZE",
              help="Evict least recently used files (never ones in use) until the cache "
                   "holds at most SIZE (e.g. 20G, 500M, or bytes).")
def prune(cache_dir: Path, max_bytes: int | None) -> None:
    """Remove abandoned partial downloads and, with --max-bytes, evict LRU files."""
    model_cache = _open(cache_dir)
    try:
        report = model_cache.prune(max_bytes)
    except OSError as exc:
        raise IOFailure(f"cannot prune the cache in {cache_dir}: {exc}") from None
    for path in report.partials:
        click.echo(f"removed partial download {path}")
    for path in report.evicted:
        click.echo(f"evicted {path}")
    left = model_cache.read().total_bytes() + sum(p.size for p in model_cache.partials())
    click.echo(f"evicted {len(report.evicted)} file(s) ({human(report.freed_bytes)}), removed "
               f"{len(report.partials)} partial download(s); {human(left)} cached")
