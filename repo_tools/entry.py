"""The `repo-tools` console script.

The pre-commit hook runs `repo-tools validate FILE...` on every commit, and importing
click costs more than validating a file (about 40 of 100 ms on a 2-core machine). That
plain call, file names and no option, is answered here without click. Anything else, and
anything unusual about the call (a file that does not exist or cannot be read, a name
that is not valid UTF-8, an output that is not UTF-8, Windows, shell completion), goes to
the click command line, which prints the same for the plain call: tests/test_entry.py
holds the two equal on the malformed corpus.
"""

from __future__ import annotations

import codecs
import os
import sys
from pathlib import Path


def main() -> None:
    from repo_tools.checks.workers import start_workers_fresh

    start_workers_fresh()  # this script's main module is guarded: workers may re-import it
    try:
        code = plain_validate(sys.argv[1:])
    except KeyboardInterrupt:  # as click says it
        sys.stderr.write("\nAborted!\n")
        sys.exit(1)
    except BrokenPipeError:  # `repo-tools validate ... | head`: quiet, as click is
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    if code is not None:
        sys.exit(code)
    from repo_tools.cli import main as command_line

    command_line()


def plain_validate(args: list[str]) -> int | None:
    """`validate FILE...` as `repo-tools validate` runs it with every option at its
    default; None (nothing done) when the call is not that plain."""
    if len(args) < 2 or args[0] != "validate" or not _plain_terminal():
        return None
    names = args[1:]
    if any(not name or name.startswith("-") or not _encodable(name) for name in names):
        return None
    if any(key.startswith("_REPO_TOOLS_COMPLETE") for key in os.environ):
        return None
    paths = [Path(name) for name in names]
    # click refuses a missing or unreadable file, and an unreadable --repo (.), with its
    # own message and exit 2.
    if not all(path.exists() and os.access(path, os.R_OK) for path in paths):
        return None
    if not os.access(".", os.R_OK):
        return None

    from repo_tools.checks.validate import validate_paths
    from repo_tools.findings import exit_code
    from repo_tools.repo import with_repo_settings
    from repo_tools.report import render_text, use_color

    result = validate_paths(paths, Path.cwd())
    findings = with_repo_settings(result.findings, Path("."))
    sys.stdout.write(render_text(findings, result.files_checked, color=use_color("auto")))
    sys.stdout.flush()
    return exit_code(findings)


def _plain_terminal() -> bool:
    """Whether writing the report to stdout as is gives what click.echo gives: UTF-8 out
    (click re-encodes an ASCII stream) on POSIX (on Windows click also colours through
    colorama and expands wildcards in arguments)."""
    if os.name == "nt":
        return False
    encoding = getattr(sys.stdout, "encoding", None) or ""
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8 (surrogate escapes)
        return False
    return True
