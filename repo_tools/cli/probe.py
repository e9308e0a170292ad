"""`repo-tools probe`: check the download URLs live; with --hash, their SHA-256 too."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import click

from repo_tools.cli.common import (
    ByteSize,
    F,
    FiniteFloat,
    IOFailure,
    command_with_exit,
    emit,
    files_to_check,
    is_quiet,
    output_options,
    repo_option,
    with_repo_settings,
)
from repo_tools.probe_options import MAX_PROBE_JOBS, PROBE_OPTIONS, Kind, to_probe_options


def format_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover - the loop always returns


def format_progress(done: int, total: int, elapsed: float) -> str:
    """One status line: bytes, rate and ETA of everything being hashed."""
    rate = done / elapsed if elapsed > 0 else 0.0
    line = f"hashing {format_bytes(done)}"
    if total > done:
        line += f" / {format_bytes(total)}"
    line += f"  {format_bytes(rate)}/s"
    if rate > 0 and total > done:
        eta = int((total - done) / rate)
        line += f"  ETA {eta // 3600}:{eta % 3600 // 60:02d}:{eta % 60:02d}"
    return line


class _Progress:
    """Counts body bytes from the worker threads and shows the progress line at most once
    every `interval` seconds (`_show`); the first at once, unless `wait_first`."""

    def __init__(self, stream: IO[str], interval: float, clock: Any, wait_first: bool):
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._start = clock()
        self._last = self._start if wait_first else float("-inf")
        self._done = 0
        self._total = 0

    def expect(self, size: int) -> None:
        with self._lock:
            self._total += size

    def advance(self, size: int) -> None:
        with self._lock:
            self._done += size
            now = self._clock()
            if now - self._last < self._interval:
                return
            self._last = now
            self._show(format_progress(self._done, self._total, now - self._start))

    def _show(self, line: str) -> None:
        raise NotImplementedError

    def finished(self, url: str, outcome: Any) -> None:
        """Told when a URL is done (from a worker thread)."""

    def close(self) -> None:
        """Called once, after the last URL."""


class ProgressBar(_Progress):
    """A one-line progress display on a terminal, redrawn at most ten times a second."""

    def __init__(self, stream: IO[str], clock: Any = time.monotonic):
        super().__init__(stream, 0.1, clock, wait_first=False)
        self._shown = False

    def _show(self, line: str) -> None:
        self._stream.write(f"\r\x1b[2K{line}")
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        with self._lock:
            if self._shown:
                self._stream.write("\r\x1b[2K")
                self._stream.flush()


class ProgressLog(_Progress):
    """Progress for a log (CI): no terminal redraws, but a line for every URL whose body was
    downloaded and, during long downloads, the progress line every `every` seconds, so a
    log is never silent for minutes."""

    def __init__(self, stream: IO[str], every: float = 30.0, clock: Any = time.monotonic):
        super().__init__(stream, every, clock, wait_first=True)
        self._hashed_urls = 0

    def _show(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def finished(self, url: str, outcome: Any) -> None:
        if outcome.sha256_source != "downloaded":
            return  # no body read (cache, host-stated digest, failure): nothing slow to say
        from repo_tools.net.transport import redact_url

        with self._lock:
            self._hashed_urls += 1
            elapsed = self._clock() - self._start
            self._show(f"hashed {redact_url(url)}: {format_bytes(outcome.received or 0)} "
                       f"({self._hashed_urls} so far, {format_bytes(self._done)} in "
                       f"{elapsed:.0f} s)")


class _ProbeCommand(click.Command):
    """Lets `--hash` stand alone before file names (pre-commit puts args first): a bare
    `--hash` means `--hash=auto`, and only `--hash=full` selects the other mode."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            args = [_expand(a) for a in args[:cut]] + args[cut:]
        else:
            args = [_expand(a) for a in args]
        return super().parse_args(ctx, args)


def _expand(arg: str) -> str:
    return "--hash=auto" if arg == "--hash" else arg


_CLICK_TYPES: dict[Kind, click.ParamType[Any]] = {
    "hash": click.Choice(["auto", "full"]),
    "jobs": click.IntRange(min=1, max=MAX_PROBE_JOBS),
    "positive-number": FiniteFloat(min=0, min_open=True),
    "number": FiniteFloat(min=0),
    "count": click.IntRange(min=0),
    "byte-size": ByteSize(),
    "directory": click.Path(file_okay=False, path_type=Path),
    "file": click.Path(dir_okay=False, exists=True, path_type=Path),
}


def probe_option_flags(func: F) -> F:
    """Every option of the table (`repo_tools.probe_options`) as a click option, in its
    order; a bool is a `--no-...` flag since it is on by default."""
    for option in reversed(PROBE_OPTIONS.values()):
        if option.kind == "bool":
            decorator = click.option(option.flag, option.param, flag_value=not option.default,
                                     default=option.default, help=option.help)
        else:
            decorator = click.option(option.flag, option.param, type=_CLICK_TYPES[option.kind],
                                     default=option.default,
                                     show_default=option.default is not None,
                                     help=option.help)
        func = decorator(func)
    return func


@click.command(cls=_ProbeCommand)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@repo_option
@output_options
@click.option("--write", is_flag=True,
              help="Fill in or fix download.sha256 in the files (implies --hash); what it "
                   "fixed is listed on stderr, and only what is left counts for the exit "
                   "code.")
@probe_option_flags
@click.option("-v", "--verbose", is_flag=True,
              help="Say for each entry where its sha256 came from (on stderr).")
@command_with_exit
def probe(files: tuple[Path, ...], repo: Path, fmt: str, strict: bool, output: Path | None,
          write: bool, verbose: bool, **values: Any) -> int:
    """Check that every download URL answers, and with --hash that it matches its sha256.

    FILES default to every versions/*/models/*.json under --repo. Each distinct URL is
    probed once. Private hosts: set REPO_TOOLS_TOKENS='host=TOKEN ...' (a bearer token
    for exactly that host; host:port or http://host for others), or name a file of such
    lines in REPO_TOOLS_TOKENS_FILE, or add the host to ~/.netrc.
    """
    from repo_tools.net import Credentials, CredentialsError
    from repo_tools.probe import probe_paths
    from repo_tools.probe.rewrite import RewriteError

    paths = files_to_check(files, repo)
    # `values` holds the table's options by parameter name; `[probe]` converts the same way.
    options = to_probe_options(
        {option.key: values[option.param] for option in PROBE_OPTIONS.values()}, write=write)
    hash_mode = options.hash_mode
    try:
        credentials = Credentials()
    except CredentialsError as exc:
        raise IOFailure(str(exc)) from exc
    for name in credentials.ignored_variables():
        click.echo(f"warning: {name} is no longer read (host names map to such variables "
                   "ambiguously); set REPO_TOOLS_TOKENS='HOST=TOKEN' instead", err=True)
    talk = fmt == "text"
    quiet = is_quiet()
    bar: ProgressBar | ProgressLog | None = None
    if quiet:
        pass  # -q: no progress, no summary; warnings and findings only
    elif sys.stderr.isatty():
        bar = ProgressBar(sys.stderr) if talk else None
    elif hash_mode is not None:
        bar = ProgressLog(sys.stderr)
    try:
        result = probe_paths(paths, Path.cwd(), options, credentials=credentials, progress=bar)
    except RewriteError as exc:
        raise IOFailure(f"--write stopped, no file changed by the failing edit: {exc}") from exc
    except OSError as exc:
        raise IOFailure(f"cannot write: {exc.strerror or exc}") from exc
    finally:
        if bar is not None:
            bar.close()
    if talk:
        _tell(result, verbose, quiet=quiet)
    findings = with_repo_settings(result.findings, repo)
    # After --write, only what is left counts: what was fixed was said on stderr.
    return emit(findings, result.files_checked, fmt=fmt, strict=strict, output=output)


def _tell(result: Any, verbose: bool, *, quiet: bool = False) -> None:
    """A few lines on stderr for people (never in machine formats); -q: warnings only."""
    stats = result.stats
    if quiet:
        if stats.cache_problem:
            click.echo(f"warning: {stats.cache_problem}", err=True)
        return
    if verbose:
        for note in result.notes:
            click.echo(note, err=True)
    parts = [f"probed {stats.urls} URL(s) with {stats.requests} request(s)"]
    if stats.downloaded:
        parts.append(f"{stats.downloaded} downloaded and hashed "
                     f"({format_bytes(stats.downloaded_bytes)})")
    if stats.from_host:
        parts.append(f"{stats.from_host} sha256 taken from the host's X-Linked-Etag "
                     "(--hash=full to verify)")
    if stats.from_cache:
        parts.append(f"{stats.from_cache} from the hash cache")
    click.echo("; ".join(parts), err=True)
    if stats.cache_problem:
        click.echo(f"warning: {stats.cache_problem}", err=True)
    for fixed in result.fixed:
        click.echo(f"fixed {fixed.path}:{fixed.line}:{fixed.column}: {fixed.rule} "
                   f"{fixed.message}", err=True)
    for path in result.changed_files:
        click.echo(f"rewrote {path}", err=True)
