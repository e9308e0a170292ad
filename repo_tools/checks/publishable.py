"""What a release may publish: one decision that `release` and `lint` (`check-index`) share.

A release bundle holds `index.json` and the model files, `versions/<version>/models/<name>.json`,
and nothing else; whatever else sits under `versions/` (notes, a `.env`, a copy of a key)
is reported by `check-index` and `lint` as R036 and refused by `release`. Private key
material in any file a release takes is R037, whatever the file's name. Both checks read
the same list of files as `release` does (`release_candidates`), so what `release` would
refuse, `lint` reports first.

Two more things a release refuses about the tree are reported the same way: names that
are one file on macOS and Windows (R038, with a rename to suggest) and symlinks that lead
out of the repository or to no regular file (R039).

`unpublishable`, `colliding_paths` and `private_key_material` are pure: they look at
names, or at bytes.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import unicodedata
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from repo_tools import repo as repo_layout
from repo_tools.checks.keys import private_key_message, scan_for_private_key
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


def collision_key(name: str) -> str:
    """Names equal under this key are one file on macOS and Windows."""
    if name.isascii() and name.islower():  # (islower: no capital letter, and one letter)
        return name  # the usual name is its own key: no copy of every path of a big repo
    return unicodedata.normalize("NFC", name).casefold()


@dataclasses.dataclass(frozen=True, slots=True)
class Collision:
    """`path` is the same file as `first` on case-insensitive or Unicode-normalising file
    systems; `rename` is a name in the same folder that collides with nothing."""

    path: str
    first: str
    rename: str

    def message(self) -> str:
        return (f"is the same file as {self.first!r} on macOS and Windows (the names differ "
                "only in case or Unicode normalisation), so a release refuses both: merge "
                f"its models into {PurePosixPath(self.first).name!r}, or rename it: "
                f"git mv '{self.path}' '{self.rename}'")


def _keep_first(name: str) -> tuple[bool, bool, bytes]:
    # The name to keep is the conventional one: NFC, lower case (`<provider>.json`).
    return (name != unicodedata.normalize("NFC", name), name != name.lower(),
            name.encode("utf-8", "surrogateescape"))


def colliding_paths(names: Iterable[str]) -> list[Collision]:
    """Every name that collides with another, but the one to keep (NFC, lower case, else
    first in byte order)."""
    first: dict[str, str] = {}
    shared: dict[str, set[str]] = {}
    for name in names:
        key = collision_key(name)
        kept = first.setdefault(key, name)
        if kept != name:
            shared.setdefault(key, {kept}).add(name)
    taken = set(first)
    # Only names that share a key can collide; going through them in keep-first order
    # gives each collision, and each rename, as a pass over every name would.
    ordered = sorted((n for group in shared.values() for n in group), key=_keep_first)
    seen: dict[str, str] = {}
    found: list[Collision] = []
    for name in ordered:
        key = collision_key(name)
        if key in seen:
            rename = _free_name(name, taken)
            taken.add(collision_key(rename))
            found.append(Collision(name, seen[key], rename))
        else:
            seen[key] = name
    return found


def _free_name(name: str, taken: set[str]) -> str:
    path = PurePosixPath(unicodedata.normalize("NFC", name))
    for n in range(2, len(taken) + 3):
        candidate = str(path.with_name(f"{path.stem}-{n}{path.suffix}"))
        if collision_key(candidate) not in taken:
            return candidate
    raise AssertionError("unreachable: more candidates than taken names")


UNSAFE_SYMLINK_MESSAGE = ("is a symlink to something other than a regular file inside the "
                          "repository (or to nothing): a release refuses it, and a client's "
                          "checkout would not have the file; replace the link with the file")


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


def _walked(repo: Path, links: set[str] | None = None) -> list[str]:
    # Strings and scandir's own file types, not Paths and stats: check-index walks every
    # config version on every commit. `links` collects the names that are symlinks.
    found: list[str] = []
    root = os.fspath(repo)
    if os.path.lexists(os.path.join(root, repo_layout.INDEX_FILE)):
        found.append(repo_layout.INDEX_FILE)
        if links is not None and os.path.islink(os.path.join(root, repo_layout.INDEX_FILE)):
            links.add(repo_layout.INDEX_FILE)
    _walk(os.path.join(root, repo_layout.VERSIONS_DIR), repo_layout.VERSIONS_DIR, found,
          links)
    return found


def _walk(directory: str, rel: str, found: list[str], links: set[str] | None) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _walk(entry.path, f"{rel}/{entry.name}", found, links)
        else:
            # Files, and links of any kind: a link to a folder is reported, not followed.
            found.append(f"{rel}/{entry.name}")
            if links is not None and entry.is_symlink():
                links.add(found[-1])


def release_candidates(repo: Path, *, use_git: bool | None = None) -> list[str]:
    """The names a release of repo takes (before any check), repo-relative with '/'.

    In a git work tree with a commit: the tracked files under index.json and versions/
    (what the recorded commit holds); elsewhere every file there. `use_git=None` decides
    as `release` does, by whether HEAD names a commit.
    """
    return _candidates(repo, use_git=use_git)[0]


def _candidates(repo: Path, *, use_git: bool | None = None,
                links: bool = False) -> tuple[list[str], set[str]]:
    """`release_candidates`, and (with links=True) which of them are symlinks: from the
    walk itself when there is no git listing."""
    if use_git is None:
        from repo_tools.release import git

        use_git = git.head_commit(repo) is not None
    listed = _git_listed(repo) if use_git else None
    if listed is not None:
        return listed, _symlinks(os.fspath(repo), listed) if links else set()
    found: set[str] = set()
    return _walked(repo, found if links else None), found


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


def publish_findings(repo: Path, base: Path, *, model_files: bool = True) -> list[Finding]:
    """R036 for each file under versions/ that a release would refuse to publish, R037 for
    each file a release takes that holds a private key, R038 for names that collide on
    macOS and Windows, R039 for unsafe symlinks. Paths are shown relative to base.

    model_files=False leaves the model files' contents to `validate` (which scans each
    file it checks, `key_findings`), so that `check-index`, run on every commit, reads
    no model file for this."""
    found: list[Finding] = []
    root = os.fspath(repo)
    names, links = _candidates(repo, links=True)
    for collision in colliding_paths(names):
        found.append(finding(rules.COLLIDING_PATHS,
                             repo_layout.display_path(Path(root, collision.path), base),
                             collision.message()))
    for name in names:
        link = name in links
        if not link and not model_files and repo_layout.is_model_file_path(name):
            continue  # the common case, first: nothing to look at
        path = os.path.join(root, name)
        if link and _readable_target(repo, path) is None:
            found.append(finding(rules.UNSAFE_SYMLINK,
                                 repo_layout.display_path(Path(path), base),
                                 UNSAFE_SYMLINK_MESSAGE))
        reason = unpublishable(name)
        if reason is not None:
            found.append(finding(rules.UNPUBLISHABLE_FILE,
                                 repo_layout.display_path(Path(path), base),
                                 unpublishable_message(reason)))
        elif not model_files and repo_layout.is_model_file_path(name):
            continue
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


def _symlinks(root: str, names: list[str]) -> set[str]:
    """Which of the repo-relative names (git's) are symlinks: one directory listing per
    folder (its file types come with it), not a stat per file; check-index runs on every
    commit. A name the listings do not hold as written (git's name for a file that the file
    system spells in another case or normalisation form) is asked about on its own."""
    listed: set[str] = set()
    links: set[str] = set()
    for folder in {name.rpartition("/")[0] for name in names}:
        prefix = f"{folder}/" if folder else ""
        try:
            with os.scandir(os.path.join(root, folder)) as listing:
                for entry in listing:
                    listed.add(prefix + entry.name)
                    if entry.is_symlink():
                        links.add(prefix + entry.name)
        except OSError:  # a folder that is a link, or gone
            continue
    links.update(name for name in set(names) - listed
                 if os.path.islink(os.path.join(root, name)))
    return links


def unpublishable_message(reason: str) -> str:
    return (f"{reason}: a release publishes only {PUBLISHED}, and refuses to run while "
            "this file is here; move it out of versions/ or delete it (git rm)")
