"""`repo-tools probe`: check the download URLs live; with --hash, their SHA-256 too."""

from __future__ import annotations

import datetime
import sys
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # the probe package imports the network layer: only for the types
    from repo_tools.probe import ProbeOptions, ProbeResult


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


class ShardParam(click.ParamType):  # type: ignore[type-arg]
    """`K/N`, as a `Shard`."""

    name = "K/N"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        # Imported here: the probe package imports the network layer, which `--help` and
        # the hooks must not pay for.
        from repo_tools.probe.shard import Shard, parse_shard

        if isinstance(value, Shard):
            return value
        try:
            return parse_shard(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


_CLICK_TYPES: dict[Kind, click.ParamType[Any]] = {
    "hash": click.Choice(["auto", "full"]),
    "jobs": click.IntRange(min=1, max=MAX_PROBE_JOBS),
    "positive-number": FiniteFloat(min=0, min_open=True),
    "number": FiniteFloat(min=0),
    "count": click.IntRange(min=0),
    "byte-size": ByteSize(),
    "directory": click.Path(file_okay=False, path_type=Path),
    "file": click.Path(dir_okay=False, exists=True, path_type=Path),
    "shard": ShardParam(),
    "output-file": click.Path(dir_okay=False, path_type=Path),
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
    report_path: Path | None = values["report"]
    if write and options.shard is not None:
        # A shard sees only its URLs; its edits would make the other shards' files differ
        # from its own, and the merge would refuse them.
        raise click.UsageError("--write cannot be used with --shard: run probe-merge "
                               "--write on the shards' reports instead")
    started, clock = datetime.datetime.now(datetime.UTC), time.monotonic()
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
    if report_path is not None:
        _write_report(report_path, result, options, repo, started, time.monotonic() - clock,
                      credentials.secrets())
    if talk:
        _tell(result, verbose, quiet=quiet)
    findings = with_repo_settings(result.findings, repo)
    # After --write, only what is left counts: what was fixed was said on stderr.
    return emit(findings, result.files_checked, fmt=fmt, strict=strict, output=output)


def _write_report(path: Path, result: ProbeResult, options: ProbeOptions, repo: Path,
                  started: datetime.datetime, seconds: float, secrets: set[str]) -> None:
    from repo_tools.atomic import write_atomic
    from repo_tools.probe.shard_report import build_report, dumps
    from repo_tools.probe_options import recorded_options
    from repo_tools.release.git import head_commit

    report = build_report(result, shard=options.shard, commit=head_commit(repo),
                          options=recorded_options(options), started=started,
                          seconds=seconds, secrets=secrets)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # e.g. a CI job's fresh output dir
        write_atomic(path, dumps(report).encode("utf-8"))
    except OSError as exc:
        raise IOFailure(f"cannot write the report {path}: {exc.strerror or exc}") from exc


@click.command("probe-merge")
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
@repo_option
@output_options
@click.option("--write", is_flag=True,
              help="Fill in or fix download.sha256 in the files from the reports' digests, "
                   "exactly as probe --write does.")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append a Markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Hash cache to add the shards' caches (--cache-from) to.")
@click.option("--cache-from", multiple=True, type=click.Path(path_type=Path),
              help="A shard's hash cache directory (repeat for each shard).")
@click.option("-v", "--verbose", is_flag=True,
              help="Say for each entry where its sha256 came from (on stderr).")
@command_with_exit
def probe_merge(reports: tuple[Path, ...], repo: Path, fmt: str, strict: bool,
                output: Path | None, write: bool, summary: Path | None, cache_dir: Path | None,
                cache_from: tuple[Path, ...], verbose: bool) -> int:
    """Merge the --report files of every shard of `probe --shard K/N` into one result.

    Prints the findings one unsharded `probe` run would print, with its exit codes. Run it
    where the shards ran, on the same commit: it refuses (exit 2) missing or overlapping
    shards, and reports of other commits, files or options.
    """
    from repo_tools.net import Credentials, CredentialsError
    from repo_tools.probe.cache import merge_caches
    from repo_tools.probe.merge import MergeError, merge_reports
    from repo_tools.probe.rewrite import RewriteError
    from repo_tools.probe.shard_report import ReportError, load_report
    from repo_tools.probe.summary import markdown_summary

    if cache_from and cache_dir is None:
        raise click.UsageError("--cache-from needs --cache-dir (the cache to merge into)")
    if cache_dir is not None and cache_from:
        try:
            merged = merge_caches(cache_dir, list(cache_from))
        except OSError as exc:
            raise IOFailure(f"cannot write the hash cache {cache_dir}: "
                            f"{exc.strerror or exc}") from exc
        for problem in merged.ignored:
            click.echo(f"warning: not merged into the hash cache: {problem}", err=True)
        if fmt == "text":
            click.echo(f"hash cache {cache_dir}: {merged.entries} entries, "
                       f"{merged.added} new", err=True)
    try:
        loaded = [load_report(path) for path in reports]
        secrets = Credentials().secrets()
        result = merge_reports(loaded, Path.cwd(), write=write, secrets=secrets)
    except (ReportError, MergeError, CredentialsError) as exc:
        raise IOFailure(str(exc)) from exc
    except RewriteError as exc:
        raise IOFailure(f"--write stopped, no file changed by the failing edit: {exc}") from exc
    except OSError as exc:
        raise IOFailure(f"cannot write: {exc.strerror or exc}") from exc
    if fmt == "text":
        _tell(result, verbose)
    findings = with_repo_settings(result.findings, repo)
    if summary is not None:
        text = markdown_summary(result, findings, shards=loaded[0].shard.count,
                                commit=loaded[0].commit)
        try:
            with summary.open("a", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as exc:
            raise IOFailure(f"cannot write {summary}: {exc.strerror or exc}") from exc
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
