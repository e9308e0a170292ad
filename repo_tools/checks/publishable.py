"""What a release may publish: one decision that `release` and `lint` (`check-index`) share.

A release bundle holds `index.json` and the model files, `versions/<version>/models/<name>.json`,
and nothing else; whatever else sits under `versions/` (notes, a `.env`, a copy of a key)
is reported by `check-index` and `lint` as R036 and refused by `release`. Private key
material in any file a release takes is R037, whatever the file's name. Both checks read
the same list of files as `release` does (`release_candidates`), so what `release` would
refuse, `lint` reports first.

`unpublishable` and `private_key_material` are pure: they look at a name, or at bytes.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import BinaryIO

from repo_tools import repo as repo_layout
from repo_tools.findings import Finding, finding
from repo_tools.rules import release as rules

PUBLISHED = "index.json and versions/<version>/models/<name>.json"


def unpublishable(path: str) -> str | None:
    """Why a release must not publish the repo-relative, '/'-separated `path` (None: it may).

    Only the index and the model files that `validate` checks are published: exactly
    `index.json` and `versions/<version>/models/<name>.json`.
    """
    if path == repo_layout.INDEX_FILE:
        return None
    parts = path.split("/")
    if parts[0] != repo_layout.VERSIONS_DIR:
        return f"is outside {PUBLISHED}"
    if len(parts) >= 4 and parts[2] == repo_layout.MODELS_DIR:
        if len(parts) > 4:
            return "is in a folder below models/"
        if not parts[3].endswith(".json"):
            return "is not a .json model file"
        return None
    return "is not a model file"


# --- private keys ------------------------------------------------------------------------

_KEY_MARKER = re.compile(
    rb"(?P<openssh>-----BEGIN[ \t]+OPENSSH[ \t]+PRIVATE[ \t]+KEY-----)"
    rb"|(?P<pem>-----BEGIN[ \t]+(?:[A-Z0-9]{1,24}[ \t]+){0,4}PRIVATE[ \t]+KEY(?:[ \t]+BLOCK)?-----)"
    # base64 of "openssh-key-v1\0", how every OpenSSH private key body starts: a key
    # pasted without its BEGIN/END lines is still found.
    rb"|(?P<body>b3BlbnNzaC1rZXktdjE)"
    rb"|(?P<putty>PuTTY-User-Key-File-[0-9]{1,3}:)")
_KEY_WORDS = (b"PRIVATE", b"b3BlbnNzaC1rZXktdjE", b"PuTTY-User-Key-File-")  # one in each marker
_KINDS = {"openssh": "an OpenSSH private key", "pem": "a PEM private key",
          "body": "the body of an OpenSSH private key", "putty": "a PuTTY private key"}
_OVERLAP = 256  # longer than any marker, so one split across two reads is still found
_CHUNK = 1 << 16  # small reads: most files are a few KiB, and a big buffer costs per file


@dataclasses.dataclass(frozen=True, slots=True)
class KeyMaterial:
    kind: str  # e.g. "an OpenSSH private key"; never the key's bytes
    line: int  # where the first marker starts, counting LF line ends (CRLF counts once)
    column: int


def private_key_material(data: bytes) -> KeyMaterial | None:
    """The first private key in data, whatever its line endings or surrounding text."""
    # Substring tests are fast scans; the regex alone would try every byte of every file.
    if not any(word in data for word in _KEY_WORDS):
        return None
    match = _KEY_MARKER.search(data)
    if match is None or match.lastgroup is None:
        return None
    start = match.start()
    line_start = data.rfind(b"\n", 0, start) + 1
    column = len(data[line_start:start].decode("utf-8", "replace")) + 1
    return KeyMaterial(_KINDS[match.lastgroup], data.count(b"\n", 0, start) + 1, column)


def scan_for_private_key(handle: BinaryIO) -> KeyMaterial | None:
    """private_key_material over a stream, in bounded memory (any file size)."""
    carry = b""
    lines_before = 0  # line ends in everything read before `carry`
    while True:
        chunk = handle.read(_CHUNK)
        data = carry + chunk if carry else chunk
        found = private_key_material(data)
        if found is not None:
            return dataclasses.replace(found, line=lines_before + found.line)
        if len(chunk) < _CHUNK:  # the end of the file
            return None
        keep = min(len(data), _OVERLAP)
        lines_before += data.count(b"\n", 0, len(data) - keep)
        carry = data[len(data) - keep:]


# --- the files a release takes -------------------------------------------------------------

def _git_listed(repo: Path) -> list[str] | None:
    """Tracked files under index.json and versions/, or None outside a git work tree."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), "ls-files", "-z", "--", repo_layout.INDEX_FILE,
             repo_layout.VERSIONS_DIR],
            capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return [p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p]


def _walked(repo: Path) -> list[str]:
    found: list[str] = []
    if (repo / repo_layout.INDEX_FILE).exists() or (repo / repo_layout.INDEX_FILE).is_symlink():
        found.append(repo_layout.INDEX_FILE)
    versions = repo / repo_layout.VERSIONS_DIR
    for dirpath, dirnames, filenames in os.walk(versions):
        rel = Path(dirpath).relative_to(repo)
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink():
                # os.walk does not descend into it; report it rather than drop it silently.
                filenames.append(name)
        for name in filenames:
            found.append((rel / name).as_posix())
    return found


def release_candidates(repo: Path, *, use_git: bool | None = None) -> list[str]:
    """The names a release of repo takes (before any check), repo-relative with '/'.

    In a git work tree with a commit: the tracked files under index.json and versions/
    (what the recorded commit holds); elsewhere every file there. `use_git=None` decides
    as `release` does, by whether HEAD names a commit.
    """
    if use_git is None:
        from repo_tools.release import git

        use_git = git.head_commit(repo) is not None
    listed = _git_listed(repo) if use_git else None
    return listed if listed is not None else _walked(repo)


def _readable_target(repo: Path, path: str) -> str | None:
    """path, or the regular file inside repo a symlink leads to; None for anything else
    (release refuses those with R033, and reads nothing from them)."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            target = Path(path).resolve()
            if not target.is_relative_to(repo.resolve()) or not target.is_file():
                return None
            return str(target)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return None
    return path if stat.S_ISREG(info.st_mode) else None


def publish_findings(repo: Path, base: Path) -> list[Finding]:
    """R036 for each file under versions/ that a release would refuse to publish, R037 for
    each file a release takes that holds a private key. Paths are shown relative to base."""
    found: list[Finding] = []
    root = os.fspath(repo)
    for name in release_candidates(repo):
        path = os.path.join(root, name)
        reason = unpublishable(name)
        if reason is not None:
            found.append(finding(rules.UNPUBLISHABLE_FILE,
                                 repo_layout.display_path(Path(path), base),
                                 unpublishable_message(reason)))
        target = _readable_target(repo, path)
        if target is None:
            continue
        try:
            with open(target, "rb") as handle:
                key = scan_for_private_key(handle)
        except OSError:
            continue  # release reports an unreadable file (R033)
        if key is not None:
            found.append(finding(rules.PRIVATE_KEY_MATERIAL,
                                 repo_layout.display_path(Path(path), base),
                                 private_key_message(key), line=key.line, column=key.column))
    return found


def unpublishable_message(reason: str) -> str:
    return (f"{reason}: a release publishes only {PUBLISHED}, and refuses to run while "
            "this file is here; move it out of versions/ or delete it (git rm)")


def private_key_message(key: KeyMaterial) -> str:
    return (f"holds {key.kind} (line {key.line}); a release refuses to publish it. Remove "
            "the key from the repository and treat it as leaked, since git history keeps "
            "it: make a new one with `repo-tools keygen` and keep it outside the repo")
