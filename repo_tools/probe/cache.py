"""The hash cache: a file's SHA-256 remembered by URL and the validators its server gave.

An entry is only trusted while the server answers with the same ETag / Last-Modified /
Content-Length, so a re-uploaded file is hashed again. Keys are digests: the file never
holds a URL, and so never a token that a URL carried.

Concurrent runs (pre-commit runs hooks in parallel) are safe: readers see either the old
or the new file (it is replaced atomically), and writers merge under an exclusive lock,
so no run's entries are lost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from repo_tools.atomic import write_atomic
from repo_tools.locks import exclusive

CACHE_FILE = "probe-sha256.json"
FORMAT = 1
MAX_ENTRIES = 20_000


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("repo-tools"))


def cache_key(url: str, etag: str | None, last_modified: str | None,
              content_length: str | None) -> str | None:
    """The key for url as the server now describes it; None when the server gives no
    validator (nothing would tell us the file changed)."""
    if not etag and not last_modified:
        return None
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]  # user info is a credential, not an identity
    bare = urlunsplit(parts._replace(netloc=netloc, fragment=""))
    material = "\0".join([bare, etag or "", last_modified or "", content_length or ""])
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class CachedHash:
    sha256: str
    size: int


class HashCache:
    def __init__(self, directory: Path | None):
        self.directory = directory
        self.problem: str | None = None  # why the cache could not be written, if so
        self._entries: dict[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path | None:
        return None if self.directory is None else self.directory / CACHE_FILE

    def lookup(self, key: str | None) -> CachedHash | None:
        if key is None or self.path is None:
            return None
        with self._lock:
            if self._entries is None:
                self._entries = _read(self.path)
            entry = self._entries.get(key)
        if entry is None:
            return None
        return CachedHash(entry["sha256"], entry["size"])

    def store(self, key: str | None, sha256: str, size: int) -> None:
        path = self.path
        if key is None or path is None:
            return
        entry = {"sha256": sha256, "size": size, "stored": int(time.time())}
        with self._lock:
            if self._entries is not None:
                self._entries[key] = entry
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with exclusive(path.with_name(path.name + ".lock")):
                    merged = _read(path)  # other runs may have written since we read
                    merged[key] = entry
                    write_atomic(path, _serialise(_prune(merged)))
            except OSError as exc:
                self.problem = f"cannot write the hash cache {path}: {exc.strerror or exc}"


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _valid_entry(value: Any) -> bool:
    # Caches travel between machines now (CI artifacts): take nothing that a probe could
    # not have written, so a damaged file cannot put a non-digest into --write's edits.
    return (isinstance(value, dict) and isinstance(value.get("sha256"), str)
            and _HEX64.fullmatch(value["sha256"]) is not None
            and type(value.get("size")) is int and value["size"] >= 0
            and type(value.get("stored")) is int)


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """The entries on disk; a missing, foreign or damaged file counts as empty."""
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return {}
    entries = doc.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, str) and _valid_entry(v)}


def _prune(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if len(entries) <= MAX_ENTRIES:
        return entries
    newest = sorted(entries.items(), key=lambda kv: kv[1]["stored"], reverse=True)
    return dict(newest[:MAX_ENTRIES])


def _serialise(entries: dict[str, dict[str, Any]]) -> bytes:
    doc = {"format": FORMAT, "entries": dict(sorted(entries.items()))}
    return (json.dumps(doc, indent=0, separators=(",", ":")) + "\n").encode()




@dataclasses.dataclass(frozen=True, slots=True)
class CacheMerge:
    entries: int  # in the merged cache
    added: int  # keys it did not have before
    ignored: tuple[str, ...]  # sources that were not a hash cache, and why


def read_cache_file(path: Path) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The valid entries of a cache file, and why the file (not an entry) was refused."""
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}, None  # a shard that hashed nothing left no cache: nothing to add
    except OSError as exc:
        return {}, f"{path}: {exc.strerror or exc}"
    except ValueError:
        return {}, f"{path}: not JSON (damaged or cut short)"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(
            doc.get("entries"), dict):
        return {}, f"{path}: not a hash cache of format {FORMAT}"
    return _read(path), None


def merged_entries(*sources: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """All entries; where several sources have a key, the one stored last."""
    merged: dict[str, dict[str, Any]] = {}
    for entries in sources:
        for key, entry in entries.items():
            if _valid_entry(entry) and (key not in merged
                                        or entry["stored"] > merged[key]["stored"]):
                merged[key] = entry
    return merged


def merge_caches(directory: Path, sources: Sequence[Path]) -> CacheMerge:
    """Add the entries of other caches (directories holding CACHE_FILE, or the files) to
    the cache in `directory`, as `store` does: under its lock, replaced atomically, only
    well-formed entries, pruned to MAX_ENTRIES.

    A source that is not a cache is listed, not fatal: the entries of the others are still
    worth keeping. A missing one is no problem at all: a shard that hashed nothing (every
    URL failed, or came from the cache it started without) writes no file.
    """
    found: list[dict[str, dict[str, Any]]] = []
    ignored: list[str] = []
    for source in sources:
        path = source / CACHE_FILE if source.is_dir() else source
        entries, problem = read_cache_file(path)
        if problem is not None:
            ignored.append(problem)
        found.append(entries)
    target = directory / CACHE_FILE
    directory.mkdir(parents=True, exist_ok=True)
    with exclusive(target.with_name(target.name + ".lock")):
        before = _read(target)
        merged = _prune(merged_entries(before, *found))
        write_atomic(target, _serialise(merged))
    return CacheMerge(len(merged), len(set(merged) - set(before)), tuple(ignored))
