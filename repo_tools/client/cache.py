"""The model cache: files at `cache_dir/<cachePath>`, an index of what was verified, LRU
eviction under a byte budget, and leases for files in use.

The index (`cache_dir/.repo-tools/cache-index.json`) records, per file, its size, mtime,
inode and the SHA-256 it had when last hashed, plus a use counter for LRU and the leases
(pid + id) of handles that pin it. A cached file is handed out without re-hashing only
while size, mtime and inode are still the recorded ones; otherwise it is hashed again,
and a mismatch removes it (it is never used). `verify_all` hashes everything.

Concurrency: every read-modify-write of the index happens under one lock file and
replaces the index atomically, so concurrent processes never lose each other's entries
and a crash leaves the old or the new index. Each cache path also has its own lock, held
while it is downloaded or hashed; eviction skips paths whose lock is taken and files with
a live lease (a lease of a dead process is ignored and dropped). Waits for a lock are
bounded (`repo_tools.locks`): a hung process holding one makes the wait end in LockTimeout.

Partial downloads (`<cachePath>.partial`) count against the budget. One whose lock is free
is abandoned (a download may still resume it later): eviction removes those before any
verified file, and `prune` removes them all.

Links: the cache never writes or deletes through a symbolic link inside cache_dir (a
linked folder on the way to a file, a linked file or partial download), as that would
reach outside the cache. Such a path is refused (C010 on download, C012 in `verify`).
cache_dir itself may be a link, e.g. to another disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import logging
import math
import os
import secrets
import stat
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypeGuard

from repo_tools.atomic import write_atomic
from repo_tools.checks.validate import cache_path_problem
from repo_tools.client.errors import DownloadError
from repo_tools.findings import Finding, finding
from repo_tools.locks import exclusive
from repo_tools.rules import client as rules
from repo_tools.statefile import parse_state_json

log = logging.getLogger("repo_tools.client")

STATE_DIR = ".repo-tools"
INDEX_NAME = "cache-index.json"
FORMAT = "repo-tools-model-cache/1"
PARTIAL_SUFFIX = ".partial"
_HEX64 = frozenset("0123456789abcdef")
_LATEST_TIMESTAMP = 253402300800  # 10000-01-01T00:00:00Z
# The per-file lock is held while another process downloads or hashes that file, which
# for a large model takes minutes: a waiter allows for that; only a hung holder ends it.
FILE_LOCK_TIMEOUT = 3600.0
_NOFOLLOW_DIR = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_DIRECTORY", 0)
_DIR_FD = os.open in os.supports_dir_fd and os.unlink in os.supports_dir_fd and bool(
    getattr(os, "O_NOFOLLOW", 0))


class LinkInCache(OSError):
    """A cache path leads through a symbolic link inside the cache directory."""


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


@dataclasses.dataclass(frozen=True, slots=True)
class Lease:
    pid: int
    id: str


@dataclasses.dataclass(slots=True)
class CacheEntry:
    path: str
    size: int
    mtime_ns: int
    inode: int
    sha256: str
    use: int
    used_at: float
    leases: list[Lease] = dataclasses.field(default_factory=list)

    def live_leases(self) -> list[Lease]:
        return [lease for lease in self.leases if pid_alive(lease.pid)]

    def matches(self, st: os.stat_result) -> bool:
        return (st.st_size, st.st_mtime_ns, st.st_ino) == (self.size, self.mtime_ns, self.inode)


@dataclasses.dataclass(slots=True)
class CacheIndex:
    clock: int = 0
    entries: dict[str, CacheEntry] = dataclasses.field(default_factory=dict)

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries.values())


def _is_timestamp(value: Any) -> TypeGuard[int | float]:
    # Seconds since the epoch that datetime can show (`cache ls`); NaN, inf or 1e308 in a
    # damaged index make the entry damaged, not the listing crash.
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and 0 <= value < _LATEST_TIMESTAMP)


def _entry(path: str, raw: Any) -> CacheEntry | None:
    if not isinstance(raw, dict):
        return None
    ints = ("size", "mtime_ns", "inode", "use")
    if any(type(raw.get(k)) is not int for k in ints):
        return None
    sha = raw.get("sha256")
    used_at = raw.get("used_at")
    leases = raw.get("leases", [])
    if not (isinstance(sha, str) and len(sha) == 64 and set(sha) <= _HEX64
            and _is_timestamp(used_at) and isinstance(leases, list)):
        return None
    kept = [Lease(x["pid"], x["id"]) for x in leases
            if isinstance(x, dict) and type(x.get("pid")) is int and isinstance(x.get("id"), str)]
    return CacheEntry(path, raw["size"], raw["mtime_ns"], raw["inode"], sha, raw["use"],
                      float(used_at), kept)


def parse_index(data: bytes) -> CacheIndex | None:
    """The index, or None when it is not a cache index at all (damaged entries are dropped)."""
    try:
        doc = parse_state_json(data)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(
            doc.get("entries"), dict) or type(doc.get("clock")) is not int:
        return None
    entries = {}
    for path, raw in doc["entries"].items():
        entry = _entry(path, raw)
        if entry is not None and cache_path_problem(path) is None:
            entries[path] = entry
    return CacheIndex(doc["clock"], entries)


def index_bytes(index: CacheIndex) -> bytes:
    entries = {}
    for path, e in sorted(index.entries.items()):
        entries[path] = {"size": e.size, "mtime_ns": e.mtime_ns, "inode": e.inode,
                         "sha256": e.sha256, "use": e.use, "used_at": round(e.used_at, 3),
                         "leases": [{"pid": lease.pid, "id": lease.id}
                                    for lease in e.live_leases()]}
    doc = {"format": FORMAT, "clock": index.clock, "entries": entries}
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("utf-8")


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class ModelFile:
    """A verified model file, pinned in the cache until `release()` (or the end of a `with`
    block, or the process)."""

    def __init__(self, cache: ModelCache, cache_path: str, sha256: str, size: int,
                 lease: Lease) -> None:
        self.cache = cache
        self.cache_path = cache_path
        self.path = cache.file_path(cache_path)
        self.sha256 = sha256
        self.size = size
        self.lease = lease
        self.rehashed = False  # hashed again before being handed out
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.cache.release(self.cache_path, self.lease)

    def __enter__(self) -> ModelFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"ModelFile({self.cache_path!r}, sha256={self.sha256[:12]}…)"


@dataclasses.dataclass(frozen=True, slots=True)
class PartialFile:
    """A partial download; in_progress: a process holds its lock (it is being written)."""

    cache_path: str
    size: int
    mtime: float
    in_progress: bool


@dataclasses.dataclass(frozen=True, slots=True)
class PruneReport:
    evicted: list[str]
    freed_bytes: int
    partials: list[str]


class ModelCache:
    def __init__(self, root: Path, budget_bytes: int | None = None, *,
                 on_evict: Callable[[str, int], None] | None = None) -> None:
        self.root = Path(root)
        self.budget_bytes = budget_bytes
        self.on_evict = on_evict  # told (cache path, size) of each file evicted
        self.state_dir = self.root / STATE_DIR
        self.index_path = self.state_dir / INDEX_NAME
        self._index_lock = self.state_dir / (INDEX_NAME + ".lock")

    # -- paths and locks -----------------------------------------------------------------

    def file_path(self, cache_path: str) -> Path:
        """Where a cachePath lives; ValueError when it could leave the cache or collide with
        the cache's own files."""
        problem = cache_path_problem(cache_path) if cache_path else "is empty"
        parts = cache_path.split("/")
        if problem is None and (parts[0] == STATE_DIR or "." in parts):
            problem = f"uses the reserved name {STATE_DIR!r} or a '.' segment"
        if problem is None and cache_path.endswith(PARTIAL_SUFFIX):
            problem = f"ends with {PARTIAL_SUFFIX!r}, the suffix of partial downloads"
        if problem is not None:
            raise ValueError(f"cachePath {cache_path!r} {problem}")
        return self.root.joinpath(*parts)

    def partial_path(self, cache_path: str) -> Path:
        target = self.file_path(cache_path)
        return target.with_name(target.name + PARTIAL_SUFFIX)

    def file_lock(self, cache_path: str, *, blocking: bool = True,
                  timeout: float | None = FILE_LOCK_TIMEOUT
                  ) -> contextlib.AbstractContextManager[bool]:
        """The lock held while cache_path is downloaded or hashed (LockTimeout after
        `timeout` seconds of waiting)."""
        digest = hashlib.sha256(cache_path.encode("utf-8", "surrogatepass")).hexdigest()
        return exclusive(self.state_dir / "locks" / f"{digest[:32]}.lock", blocking=blocking,
                         timeout=timeout)

    def link_problem(self, cache_path: str) -> str | None:
        """Which symbolic link inside the cache lies on the way to cache_path (a folder
        below cache_dir, the file, or its partial download); None when there is none."""
        parts = cache_path.split("/")
        here = self.root
        for i, part in enumerate(parts):
            here = here / part
            names = [part, part + PARTIAL_SUFFIX] if i == len(parts) - 1 else [part]
            for name in names:
                try:
                    st = here.with_name(name).lstat()
                except (FileNotFoundError, NotADirectoryError):
                    if name == part and i < len(parts) - 1:
                        return None  # nothing exists below a missing folder
                    continue
                if stat.S_ISLNK(st.st_mode):
                    return "/".join([*parts[:i], name])
        return None

    def _refuse_links(self, cache_path: str) -> None:
        link = self.link_problem(cache_path)
        if link is not None:
            raise LinkInCache(errno.ELOOP, f"{link} in the cache {self.root} is a symbolic "
                              "link; the cache never writes or deletes through a link inside "
                              "it (remove the link)", cache_path)

    def _unlink(self, cache_path: str, suffix: str = "") -> None:
        """Remove cache_path (+ suffix) if present; LinkInCache instead of following a link.

        Where the platform allows, the folders are opened one by one without following
        links, so a link swapped in after a check is not followed either.
        """
        parts = cache_path.split("/")
        name = parts[-1] + suffix
        if not _DIR_FD:
            self._refuse_links(cache_path)
            self.root.joinpath(*parts[:-1], name).unlink(missing_ok=True)
            return
        fd = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            for part in parts[:-1]:
                try:
                    sub = os.open(part, os.O_RDONLY | _NOFOLLOW_DIR, dir_fd=fd)
                except FileNotFoundError:
                    return
                except OSError:
                    # A link fails with ELOOP or ENOTDIR (Linux), as a file in the way does.
                    if stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode):
                        self._refuse_links(cache_path)
                        raise LinkInCache(errno.ELOOP, f"{part} is a symbolic link",
                                          cache_path) from None
                    return
                os.close(fd)
                fd = sub
            try:
                if stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    self._refuse_links(cache_path)
                    raise LinkInCache(errno.ELOOP, f"{name} is a symbolic link", cache_path)
                os.unlink(name, dir_fd=fd)
            except FileNotFoundError:
                pass
        finally:
            os.close(fd)

    # -- the index -----------------------------------------------------------------------

    def read(self) -> CacheIndex:
        """The index as on disk (no lock needed: it is always replaced whole)."""
        try:
            data = self.index_path.read_bytes()
        except FileNotFoundError:
            return CacheIndex()
        index = parse_index(data)
        if index is None:
            log.warning("the model cache index %s is damaged; starting a new one (cached "
                        "files are hashed again before use)", self.index_path)
            return CacheIndex()
        return index

    @contextlib.contextmanager
    def transaction(self) -> Iterator[CacheIndex]:
        """Read, change and atomically rewrite the index under the index lock."""
        with exclusive(self._index_lock):
            index = self.read()
            before = index_bytes(index)
            yield index
            after = index_bytes(index)
            if after != before:
                write_atomic(self.index_path, after)

    # -- using files ---------------------------------------------------------------------

    def _lease(self, index: CacheIndex, entry: CacheEntry) -> ModelFile:
        lease = Lease(os.getpid(), secrets.token_hex(8))
        entry.leases = [*entry.live_leases(), lease]
        entry.use = index.tick()
        entry.used_at = time.time()
        return ModelFile(self, entry.path, entry.sha256, entry.size, lease)

    def open_verified(self, cache_path: str, sha256: str, *,
                      rehash: bool = False) -> ModelFile | None:
        """The cached file, leased, when it has this SHA-256; None when absent. A file that
        changed since it was hashed (or any file, with rehash) is hashed again; on a
        mismatch it is removed. `ModelFile.rehashed` says whether it was hashed.

        The caller holds `file_lock(cache_path)`. Raises DownloadError (C010) when a
        symbolic link inside the cache is on the way: nothing is read, written or deleted.
        """
        path = self.file_path(cache_path)
        link = self.link_problem(cache_path)
        if link is not None:
            raise DownloadError(rules.DOWNLOAD_FAILED,
                                f"{cache_path} cannot be stored: {link} in the cache is a "
                                "symbolic link, and the cache never writes through a link "
                                "inside it (remove the link)")
        with self.transaction() as index:
            entry = index.entries.get(cache_path)
            try:
                st = path.stat()
            except FileNotFoundError:
                index.entries.pop(cache_path, None)
                return None
            if not stat.S_ISREG(st.st_mode):
                # Another model's cachePath nests inside this one (validate reports V007);
                # never delete what is in the way, and never hand it out.
                raise DownloadError(rules.DOWNLOAD_FAILED,
                                    f"{cache_path} cannot be stored: something that is not a "
                                    "file is in the way in the cache")
            if not rehash and entry is not None and entry.sha256 == sha256 and entry.matches(st):
                return self._lease(index, entry)
        # Hashing a large file takes a while: not under the index lock.
        actual = sha256_file(path)
        if actual != sha256:
            log.warning("%s cached file %s does not have the expected SHA-256; removed it, it "
                        "is downloaded again", rules.CHECKSUM_MISMATCH.code, cache_path)
            with self.transaction() as index:
                self._unlink(cache_path)
                index.entries.pop(cache_path, None)
            return None
        handle = self.record(cache_path, sha256, st)
        handle.rehashed = True
        return handle

    def record(self, cache_path: str, sha256: str,
               st: os.stat_result | None = None) -> ModelFile:
        """Enter a file whose content was just verified, and lease it."""
        path = self.file_path(cache_path)
        st = st or path.stat()
        with self.transaction() as index:
            old = index.entries.get(cache_path)
            entry = CacheEntry(cache_path, st.st_size, st.st_mtime_ns, st.st_ino, sha256,
                               0, 0.0, old.live_leases() if old else [])
            index.entries[cache_path] = entry
            return self._lease(index, entry)

    def release(self, cache_path: str, lease: Lease) -> None:
        with self.transaction() as index:
            entry = index.entries.get(cache_path)
            if entry is not None:
                entry.leases = [x for x in entry.live_leases() if x != lease]

    # -- eviction ------------------------------------------------------------------------

    def evict(self, budget_bytes: int, protect: Collection[str] = ()) -> list[str]:
        """Remove least recently used files until the cache holds at most budget_bytes;
        never a protected path, a leased file or one being downloaded or hashed. Abandoned
        partial downloads count, and go first."""
        with self.transaction() as index:
            sizes = {path: entry.size for path, entry in index.entries.items()}
            removed = self._evict(index, budget_bytes, protect)[0]
        if self.on_evict is not None:  # outside the index lock: other processes wait on it
            for path in removed:
                self.on_evict(path, sizes[path])
        return removed

    def _evict(self, index: CacheIndex, budget_bytes: int,
               protect: Collection[str]) -> tuple[list[str], list[str]]:
        """(evicted cache paths, cache paths whose partial download was removed)."""
        # A protected path's partial is the download about to finish: its size is already
        # reserved by the caller, so it is not counted twice.
        partials = [p for p in self.partials() if p.cache_path not in protect]
        total = index.total_bytes() + sum(p.size for p in partials)
        dropped: list[str] = []
        for partial in partials:
            if total <= budget_bytes:
                break
            if partial.in_progress:
                continue
            with self.file_lock(partial.cache_path, blocking=False) as free:
                if not free:
                    continue
                try:
                    self._unlink(partial.cache_path, PARTIAL_SUFFIX)
                except OSError:
                    continue
            total -= partial.size
            dropped.append(partial.cache_path)
        removed: list[str] = []
        for entry in sorted(index.entries.values(), key=lambda e: e.use):
            if total <= budget_bytes:
                break
            if entry.path in protect or entry.live_leases():
                continue
            with self.file_lock(entry.path, blocking=False) as free:
                if not free:
                    continue
                try:
                    self._unlink(entry.path)
                except LinkInCache as exc:
                    # Not a cache file any more: forget it, delete nothing.
                    log.warning("%s; dropped it from the cache index", exc.strerror)
                    del index.entries[entry.path]
                    total -= entry.size
                    continue
                except OSError:
                    continue
            del index.entries[entry.path]
            total -= entry.size
            removed.append(entry.path)
        if dropped:
            log.info("removed %d abandoned partial download(s) to stay under the cache budget",
                     len(dropped))
        if total > budget_bytes:
            log.warning("the model cache holds %d bytes, over its budget of %d: the rest is in "
                        "use", total, budget_bytes)
        return removed, dropped

    # -- maintenance (repo-tools cache) ---------------------------------------------------

    def verify_all(self) -> list[Finding]:
        """Hash every cached file; remove mismatches (C011), drop missing ones (C012), and
        report partial downloads nobody is writing (C013)."""
        found: list[Finding] = []
        for entry in list(self.read().entries.values()):
            with self.file_lock(entry.path, blocking=False) as free:
                if not free:
                    continue  # being downloaded or hashed right now
                found.extend(self._verify_one(entry.path))
        found.extend(finding(rules.CACHE_LEFTOVER, path,
                             "partial download that no process is writing; "
                             "`repo-tools cache prune` removes it")
                     for path in self.orphan_partials())
        return found

    def _verify_one(self, cache_path: str) -> list[Finding]:
        path = self.file_path(cache_path)
        link = self.link_problem(cache_path)
        if link is not None:
            with self.transaction() as index:
                if index.entries.pop(cache_path, None) is None:
                    return []
            return [finding(rules.CACHE_ENTRY_MISSING, cache_path,
                            f"{link} in the cache is a symbolic link, which the cache never "
                            "follows; dropped from the index, nothing deleted (remove the "
                            "link)")]
        try:
            st = path.stat()
            actual = sha256_file(path)
        except FileNotFoundError:
            actual = None
        with self.transaction() as index:
            entry = index.entries.get(cache_path)
            if entry is None:
                return []
            if actual is None:
                del index.entries[cache_path]
                return [finding(rules.CACHE_ENTRY_MISSING, cache_path,
                                "file is gone; dropped from the index")]
            if actual != entry.sha256:
                self._unlink(cache_path)
                del index.entries[cache_path]
                return [finding(rules.CHECKSUM_MISMATCH, cache_path,
                                f"SHA-256 is {actual}, expected {entry.sha256}; removed")]
            entry.size, entry.mtime_ns, entry.inode = st.st_size, st.st_mtime_ns, st.st_ino
        return []

    def partials(self) -> list[PartialFile]:
        """The partial downloads in the cache, by cache path (links are not followed)."""
        found = []
        for folder, dirs, files in os.walk(self.root):
            rel_folder = Path(folder).relative_to(self.root).as_posix()
            if rel_folder == ".":
                dirs[:] = [d for d in dirs if d != STATE_DIR]
            for name in files:
                if not name.endswith(PARTIAL_SUFFIX):
                    continue
                rel = name if rel_folder == "." else f"{rel_folder}/{name}"
                cache_path = rel[: -len(PARTIAL_SUFFIX)]
                try:
                    self.file_path(cache_path)
                    st = os.lstat(os.path.join(folder, name))
                except (ValueError, OSError):
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                with self.file_lock(cache_path, blocking=False) as free:
                    found.append(PartialFile(cache_path, st.st_size, st.st_mtime, not free))
        return sorted(found, key=lambda p: p.cache_path)

    def orphan_partials(self) -> list[str]:
        """Cache paths with a partial download whose lock is free (no process writes it)."""
        return [p.cache_path for p in self.partials() if not p.in_progress]

    def prune(self, budget_bytes: int | None = None) -> PruneReport:
        """Remove orphan partial downloads and leases of dead processes; with a budget, also
        evict least recently used files down to it."""
        partials = []
        for cache_path in self.orphan_partials():
            with self.file_lock(cache_path, blocking=False) as free:
                if free:
                    try:
                        self._unlink(cache_path, PARTIAL_SUFFIX)
                    except LinkInCache:
                        continue
                    partials.append(cache_path)
        with self.transaction() as index:
            before = {p: e.size for p, e in index.entries.items()}
            evicted = (self._evict(index, budget_bytes, ())[0] if budget_bytes is not None
                       else [])
        return PruneReport(evicted, sum(before[p] for p in evicted), partials)
