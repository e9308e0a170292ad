"""A config repo as the checks, `resolve` and the release diff read it: the index's
entries and every config version's typed model entries, wherever they came from.

* `from_checkout`: a work tree on disk (index.json, versions/*/models/*.json);
* `from_files`: the same paths as bytes, e.g. a verified release's files;
* `from_git`: a git revision, read with `git cat-file --batch` (no checkout);
* `from_release`: a published release, verified first as a client verifies it, and read
  as the client reads it (invalid entries left out, with a note).

Model files are read when a config version is first asked for, once.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from repo_tools import compat
from repo_tools import repo as repo_layout
from repo_tools.compat import IndexEntry
from repo_tools.findings import Finding, Severity, finding
from repo_tools.jsonfile import load_json_bytes, load_json_file
from repo_tools.model import ModelEntry, entries_of


class SnapshotUnavailable(Exception):
    """The source could not be read at all (unreachable release, unusable keys, git
    failure): an I/O problem, not a finding."""


@dataclasses.dataclass(slots=True)
class RepoSnapshot:
    """What `resolve` and the comparisons need from a config repository."""

    entries: list[IndexEntry] | None
    """The valid index entries; None when the index could not be read at all."""
    models_of: Callable[[str], list[ModelEntry]]
    """Every model entry of one config version (read once, on first use)."""
    problems: list[Finding]
    """Problems met while reading (models_of may add to them)."""
    versions: tuple[str, ...] = ()
    """The config versions that have model files, whether the index names them or not."""
    bundle_version: int | None = None
    """A verified release's bundle_version (None for other sources)."""


def _cached(read: Callable[[str], list[ModelEntry]]) -> Callable[[str], list[ModelEntry]]:
    seen: dict[str, list[ModelEntry]] = {}

    def models_of(config_version: str) -> list[ModelEntry]:
        if config_version not in seen:
            seen[config_version] = read(config_version)
        return seen[config_version]
    return models_of


def from_checkout(repo: Path, base: Path) -> RepoSnapshot:
    """index.json and versions/*/models/*.json of a work tree; paths shown from `base`."""
    from repo_tools.checks.index import load_index

    index, problems = load_index(repo, base)

    def read(config_version: str) -> list[ModelEntry]:
        models_dir = repo / repo_layout.VERSIONS_DIR / config_version / repo_layout.MODELS_DIR
        found: list[ModelEntry] = []
        for path in sorted(models_dir.glob("*.json")):
            doc, file_problems = load_json_file(path, repo_layout.display_path(path, base))
            problems.extend(f for f in file_problems if f.severity is Severity.ERROR)
            if doc is not None:
                found.extend(entries_of(doc.data, doc.path))
        return found

    versions_dir = repo / repo_layout.VERSIONS_DIR
    versions = tuple(sorted(p.parent.name for p in versions_dir.glob(
        f"*/{repo_layout.MODELS_DIR}") if p.is_dir())) if versions_dir.is_dir() else ()
    return RepoSnapshot(index.entries if index else None, _cached(read), problems, versions)


def from_files(files: Mapping[str, bytes], where: str = "") -> RepoSnapshot:
    """A repo given as its files' bytes by repo-relative path (`index.json`,
    `versions/<v>/models/<p>.json`); paths are shown as `where/path`."""
    prefix = f"{where.rstrip('/')}/" if where else ""
    problems: list[Finding] = []
    entries: list[IndexEntry] | None = None
    raw_index = files.get(repo_layout.INDEX_FILE)
    if raw_index is not None:
        doc, index_problems = load_json_bytes(raw_index, prefix + repo_layout.INDEX_FILE)
        problems.extend(f for f in index_problems if f.severity is Severity.ERROR)
        versions = doc.data.get("versions") if doc is not None and isinstance(
            doc.data, dict) else None
        if isinstance(versions, dict):
            entries = compat.entries_from_index(versions)
    by_version: dict[str, list[str]] = {}
    for path in sorted(files):
        if repo_layout.is_model_file_path(path):
            by_version.setdefault(path.split("/")[1], []).append(path)

    def read(config_version: str) -> list[ModelEntry]:
        found: list[ModelEntry] = []
        for path in by_version.get(config_version, []):
            doc, file_problems = load_json_bytes(files[path], prefix + path)
            problems.extend(f for f in file_problems if f.severity is Severity.ERROR)
            if doc is not None:
                found.extend(entries_of(doc.data, doc.path))
        return found

    return RepoSnapshot(entries, _cached(read), problems, tuple(sorted(by_version)))


def git_files(repo: Path, revision: str) -> dict[str, bytes]:
    """index.json and versions/*/models/*.json of a git revision, without a checkout;
    SnapshotUnavailable when git cannot read it."""
    def git(*args: str, data: bytes | None = None) -> bytes:
        try:
            proc = subprocess.run(["git", "-C", str(repo), *args], input=data,
                                  capture_output=True, check=False, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SnapshotUnavailable(f"git failed: {exc}") from None
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SnapshotUnavailable(f"cannot read {revision!r} in {repo}: "
                                      f"{detail[-1] if detail else 'git failed'}")
        return proc.stdout

    if revision.startswith("-"):
        raise SnapshotUnavailable(f"{revision!r} is not a revision")
    # The config repo may be a folder of the git work tree: read that folder's tree.
    prefix = git("rev-parse", "--show-prefix").decode("utf-8", "surrogateescape").strip()
    tree = git("rev-parse", "--verify", "--quiet", f"{revision}^{{tree}}")
    if prefix:
        tree = git("rev-parse", "--verify", "--quiet", f"{tree.decode().strip()}:{prefix}")
    listing = git("ls-tree", "-r", "-z", "--full-tree", tree.decode().strip(), "--",
                  repo_layout.INDEX_FILE, repo_layout.VERSIONS_DIR)
    blobs: list[tuple[str, str]] = []
    for line in listing.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, path = line.partition("\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == "blob" and (
                path == repo_layout.INDEX_FILE or repo_layout.is_model_file_path(path)):
            blobs.append((path, fields[2]))
    out = git("cat-file", "--batch", data="".join(f"{oid}\n" for _, oid in blobs).encode())
    files: dict[str, bytes] = {}
    offset = 0
    for path, _ in blobs:
        header_end = out.index(b"\n", offset)
        size = int(out[offset:header_end].split()[2])
        files[path] = out[header_end + 1:header_end + 1 + size]
        offset = header_end + 1 + size + 1  # the blob, then a newline
    return files


def from_git(repo: Path, revision: str) -> RepoSnapshot:
    return from_files(git_files(repo, revision), revision)


ALL_ARCHIVES: Literal["all"] = "all"
NO_ARCHIVES: Literal["none"] = "none"


def from_release(location: str, allowed_signers: Path, *,
                 client_version: str | None = None,
                 archives: Literal["all", "none"] = ALL_ARCHIVES) -> RepoSnapshot:
    """A published release, verified first (signature, rollback-free freshness, and the
    hash and members of each archive read) and read as the client library reads it
    (invalid model entries left out, with a note).

    Which archives are fetched: with `client_version`, only the one that client selects
    from the signed index (what a client downloads); else every one (`ALL_ARCHIVES`, one
    at a time, keeping only the parsed entries) or none (`NO_ARCHIVES`: the index alone,
    e.g. for the selection table). A config version whose archive was not read has no
    models in the snapshot. A rejected release is a problem in the snapshot (no entries);
    an unreachable one, or unusable keys, SnapshotUnavailable."""
    import datetime as dt

    from repo_tools.client.catalog import InvalidRemote, parse_remote_files
    from repo_tools.release import sshsig
    from repo_tools.release import verify as verifier
    from repo_tools.release.errors import VerificationError
    from repo_tools.release.fetch import FetchError, locate
    from repo_tools.release.manifest import INDEX_PATH
    from repo_tools.rules import client as client_rules

    try:
        signers = sshsig.parse_allowed_signers(allowed_signers.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, sshsig.AllowedSignersError) as exc:
        raise SnapshotUnavailable(f"cannot use {allowed_signers}: {exc}") from None
    source, manifest_name = locate(location)
    shown = source.describe()
    versions: dict[str, list[ModelEntry]] = {}
    skipped: dict[str, list[Finding]] = {}
    try:
        checked = verifier.read_manifest(source, manifest_name, signers,
                                         now=dt.datetime.now(dt.UTC))
        manifest = checked.manifest
        index_bytes = manifest.index_bytes()
        parse_remote_files({INDEX_PATH: index_bytes})  # InvalidRemote for an unusable index
        if client_version is not None:
            selected = compat.select_config_version(manifest.index, client_version)
            wanted = [selected] if selected is not None and manifest.archive_of(
                selected) is not None else []
        elif archives == NO_ARCHIVES:
            wanted = []
        else:
            wanted = [a.config_version for a in manifest.versions]
        # One archive at a time, kept as parsed entries only: memory follows what a
        # config version holds, not the whole release.
        for archive, contents in verifier.read_archives(source, manifest, wanted):
            remote = parse_remote_files({INDEX_PATH: index_bytes, **contents})
            versions[archive.config_version] = remote.models_of(archive.config_version)
            skipped[archive.config_version] = remote.skipped.get(archive.config_version, [])
    except FetchError as exc:
        raise SnapshotUnavailable(str(exc)) from None
    except VerificationError as exc:
        where = f"{shown}/{exc.path}" if exc.path else shown
        message = f"{exc.code} {exc.rule.name}: {exc.message} ({where})"
        return RepoSnapshot(None, lambda version: [],
                            [finding(client_rules.REMOTE_REJECTED, location, message)])
    except InvalidRemote as exc:
        return RepoSnapshot(None, lambda version: [],
                            [finding(client_rules.INVALID_REMOTE, location, str(exc))])
    problems: list[Finding] = []

    def read(config_version: str) -> list[ModelEntry]:
        problems.extend(skipped.get(config_version, []))
        return versions.get(config_version, [])

    return RepoSnapshot(compat.entries_from_index(manifest.index), _cached(read), problems,
                        tuple(sorted(v.config_version for v in manifest.versions)),
                        manifest.bundle_version)
