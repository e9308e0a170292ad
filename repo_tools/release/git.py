"""What a release records about the git work tree it is built from."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from repo_tools import repo as repo_layout


def _git(repo: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                              check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    # Only trailing blanks go: porcelain status lines begin with a meaningful space.
    return proc.stdout.decode("utf-8", "replace").rstrip()


def head_commit(repo: Path) -> str | None:
    """HEAD's full hash, or None outside a git work tree (or before the first commit)."""
    commit = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    return commit or None


def commit_time(repo: Path) -> int | None:
    text = _git(repo, "log", "-1", "--format=%ct", "HEAD")
    return int(text) if text and text.isdigit() else None


def dirty_paths(repo: Path) -> list[str]:
    """Changed, staged, deleted or untracked (not ignored) paths under the released files."""
    text = _git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--",
                repo_layout.INDEX_FILE, repo_layout.VERSIONS_DIR)
    # -z: `XY path` entries, NUL-separated and unquoted; a rename or copy is followed by
    # one more entry, its source path.
    paths: list[str] = []
    entries = iter((text or "").split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":
            next(entries, None)
    return paths


def remote_id(repo: Path) -> str | None:
    """`host/owner/name` of the origin remote, without credentials or `.git`."""
    url = _git(repo, "remote", "get-url", "origin")
    if not url:
        return None
    scp = re.fullmatch(r"(?:[^@/]+@)?([^:/]+):(?!//)(.+)", url)  # git@host:owner/name.git
    if scp:
        host, path = scp.group(1), scp.group(2)
    else:
        parts = urlsplit(url)
        host, path = parts.hostname or "", parts.path
    path = path.strip("/").removesuffix(".git")
    return f"{host}/{path}" if host and path else (path or None)
