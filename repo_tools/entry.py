"""The `repo-tools` console script.

The pre-commit hook runs `repo-tools validate FILE...` on every commit, and importing
click costs more than validating a file (about 40 of 100 ms on a 2-core machine). That
plain call, file names and no option, is answered here without click. Anything else, and
anything unusual about the call (a file that does not exist, a name that is not valid
UTF-8, shell completion), goes to the click command line, which prints the same for the
plain call: tests/test_entry.py holds the two equal on the malformed corpus.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    code = plain_validate(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from repo_tools.cli import main as command_line

    command_line()


def plain_validate(args: list[str]) -> int | None:
    """`validate FILE...` as `repo-tools validate` runs it with every option at its
    default; None (nothing done) when the call is not that plain."""
    if len(args) < 2 or args[0] != "validate":
        return None
    names = args[1:]
    if any(not name or name.startswith("-") or not _encodable(name) for name in names):
        return None
    if any(key.startswith("_REPO_TOOLS_COMPLETE") for key in os.environ):
        return None
    paths = [Path(name) for name in names]
    if not all(path.exists() for path in paths):
        return None  # the command line's error message, and exit 2

    from repo_tools.checks.validate import validate_paths
    from repo_tools.findings import exit_code
    from repo_tools.repo import with_repo_settings
    from repo_tools.report import render_text, use_color

    result = validate_paths(paths, Path.cwd())
    findings = with_repo_settings(result.findings, Path("."))
    sys.stdout.write(render_text(findings, result.files_checked, color=use_color("auto")))
    sys.stdout.flush()
    return exit_code(findings)


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8 (surrogate escapes)
        return False
    return True
