"""What the cross-file rules need of the files `validate` was not asked about, cheaply.

The pre-commit hook validates the files a commit touches, but duplicate identities and
cachePath conflicts span the whole config version. Those rules need only a summary of
each sibling (every entry's identity, digest and cachePath), so a sibling is parsed with
the standard library's parser, without the strict checks, and its summary is kept in a
cache in the user cache directory, keyed by the file's size, mtime, ctime and inode as
ruff keys its cache: an unchanged sibling is not even opened on the next commit. One
cache file per models directory; writing it is best effort (a read-only or missing
cache directory only costs the parsing).

A file that validate checked in full and found clean is marked so; while it is unchanged,
and the checking code and options are the same (`code_key`, `options`), `clean_models`
hands back its summary and `lint` or `validate` skip the check, as ruff skips files whose
cached result still holds. A file with findings is always checked again (its findings
need positions anyway).

Beside each cache file is its directory's key index (see `build_key_index`): the hook's
call on a few files reads that instead of every sibling's summary.

`REPO_TOOLS_CACHE_DIR` moves the cache; `REPO_TOOLS_NO_SUMMARY_CACHE=1` turns it off. A
directory of fewer than `CACHED_FROM` files is not cached at all: parsing a few files
costs less than finding, reading and writing a cache file.
"""

from __future__ import annotations

import array
import bisect
import contextlib
import functools
import json
import marshal
import os
import sys
import zlib
from collections.abc import Iterable, Iterator, Set
from pathlib import Path
from typing import Any

from repo_tools.model import EntrySummary, summaries_of

FORMAT = "repo-tools-summaries/5"
CACHED_FROM = 64
# One entry: its index in `models`, then EntrySummary's fields after path and pointer.
_Row = tuple[Any, ...]
_ROW_FIELDS = len(EntrySummary._fields) - 1  # the index stands for path and pointer


@functools.lru_cache(maxsize=1)
def code_key() -> str:
    """What the verdicts depend on besides the file: the version and every module of
    repo_tools as installed (sizes and mtimes: an edited checkout counts as new code)."""
    import hashlib

    import repo_tools

    package = os.path.dirname(os.path.abspath(repo_tools.__file__))
    parts = [getattr(repo_tools, "__version__", ""), FORMAT]
    for folder, _dirs, files in sorted(os.walk(package)):
        for name in sorted(files):
            if name.endswith((".py", ".json")):
                info = os.stat(os.path.join(folder, name))
                parts.append(f"{os.path.relpath(folder, package)}/{name}:{info.st_size}:"
                             f"{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _cache_file(root: Path, models_dir: Path) -> Path:
    """A models directory's summary cache (its key index is `_index_file` of it)."""
    import hashlib  # here: a small repo, which has no cache, does not pay for it

    digest = hashlib.sha256(os.fsencode(os.path.abspath(models_dir))).hexdigest()[:32]
    return root / f"{digest}.marshal"


def cache_root() -> Path | None:
    if os.environ.get("REPO_TOOLS_NO_SUMMARY_CACHE"):
        return None
    chosen = os.environ.get("REPO_TOOLS_CACHE_DIR")
    if chosen:
        return Path(chosen) / "summaries"
    import platformdirs

    return Path(platformdirs.user_cache_dir("repo-tools")) / "summaries"


def stat_key(path: str) -> tuple[int, ...] | None:
    """What any rewrite of the file changes: size, mtime, ctime, inode."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _stat_digests(folder: str, names: Iterable[str]) -> Iterator[int]:
    """Each file's `stat_key` as one number (`_NO_STAT` when it cannot be stat'ed), for
    the key index: stat'ed relative to the open directory where the platform allows."""
    fd = -1
    if os.stat in os.supports_dir_fd:
        with contextlib.suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
    try:
        for name in names:
            try:
                info = (os.stat(name, dir_fd=fd) if fd >= 0
                        else os.stat(os.path.join(folder, name)))
            except OSError:
                yield _NO_STAT
                continue
            yield _digest((info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
    finally:
        if fd >= 0:
            os.close(fd)


def parse_summary(path: str) -> list[_Row]:
    """A file's entries as rows; none when it does not parse or is not a v2 file
    (validating it is another call's job)."""
    try:
        with open(path, "rb", opener=_without_waiting) as handle:
            data = json.loads(handle.read().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return []
    if type(data) is not dict or "schema_version" not in data:
        return []
    return [row_of(e) for e in summaries_of(data)]


def _without_waiting(path: str, flags: int) -> int:
    # A FIFO named like a model file would block the open (and the commit) until some
    # other process wrote to it; non-blocking, it reads as empty. No effect on files.
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def row_of(entry: EntrySummary) -> _Row:
    # Interned, repeated values (providers, versions, bounds) are stored once by marshal.
    return (int(entry.pointer.rsplit("/", 1)[1]),
            *(sys.intern(v) if type(v) is str else v for v in entry[2:]))


def read_summaries(path: str, shown: str) -> list[EntrySummary]:
    """A file's entries summarised, read now (no cache)."""
    return _entries(parse_summary(path), shown)


def _entries(rows: list[_Row], shown: str) -> list[EntrySummary]:
    return [EntrySummary(shown, f"/models/{row[0]}", *row[1:]) for row in rows]


class SummaryCache:
    """The summaries of one models directory's files."""

    def __init__(self, models_dir: Path, files: int, options: str = "") -> None:
        """files: how many files the directory holds (below CACHED_FROM, no cache);
        options: what else a clean verdict depends on (e.g. lint's known platforms)."""
        self._file: Path | None = None
        self._entries: dict[str, tuple[Any, ...]] = {}
        self._changed = False
        self._code = ""
        # A file's entry keeps the options it was found clean with: validate (none) and
        # lint (its known platforms) share one cache without voiding each other's verdicts.
        self._options = options
        root = cache_root() if files >= CACHED_FROM else None
        if root is None:
            return
        self._code = code_key()
        self._file = _cache_file(root, models_dir)
        try:
            # marshal, not JSON: it loads several times faster, and it only ever holds
            # plain lists, strings and numbers (it can build no object that runs code).
            data = marshal.loads(self._file.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return
        if type(data) is dict and data.get("format") == FORMAT and type(
                data.get("files")) is dict and data.get("code") == self._code:
            self._entries = data["files"]

    def models(self, path: str, shown: str) -> list[EntrySummary]:
        """The file's entries, summarised."""
        key = stat_key(path)
        if key is None:
            return []
        name = os.path.basename(path)
        cached = self._entries.get(name)
        if type(cached) is tuple and len(cached) == 3 and cached[0] == key:
            try:
                return _entries(cached[1], shown)
            except (TypeError, ValueError):
                pass  # a damaged entry: parse the file again
        rows = parse_summary(path)
        if self._file is not None:
            self._entries[name] = (key, tuple(rows), ())
            self._changed = True
        return _entries(rows, shown)

    def is_clean(self, path: str) -> bool:
        """Whether a full check found the file clean and it has not changed since."""
        cached = self._entries.get(os.path.basename(path))
        return (type(cached) is tuple and len(cached) == 3 and type(cached[2]) is tuple
                and self._options in cached[2] and type(cached[1]) is tuple
                and all(type(row) is tuple and len(row) == _ROW_FIELDS for row in cached[1])
                and cached[0] == stat_key(path))

    def clean_models(self, path: str, shown: str) -> list[EntrySummary] | None:
        """The file's summary when `is_clean`; None when it must be checked."""
        if not self.is_clean(path):
            return None
        try:
            return _entries(self._entries[os.path.basename(path)][1], shown)
        except (TypeError, ValueError):
            return None

    def record(self, path: str, key: tuple[int, ...] | None, entries: list[EntrySummary],
               clean: bool) -> None:
        """Keep what a full check of the file found (key: its `stat_key` taken before it
        was read, so that an edit made meanwhile is a miss next time, never stale)."""
        if key is None or self._file is None:
            return
        name = os.path.basename(path)
        rows = tuple(row_of(e) for e in entries)
        before = self._entries.get(name)
        # Verdicts under other options still hold if the file is the one they were for.
        others: tuple[str, ...] = ()
        if (type(before) is tuple and len(before) == 3 and before[0] == key
                and before[1] == rows and type(before[2]) is tuple):
            others = tuple(o for o in before[2] if o != self._options)
        record = (key, rows, (*others, self._options) if clean else others)
        if self._entries.get(name) != record:
            self._entries[name] = record
            self._changed = True

    def save(self, present: set[str]) -> None:
        """Write the cache back (only the files still present), if anything changed."""
        if self._file is None:
            return
        stale = self._entries.keys() - present
        if not self._changed and not stale and _index_file(self._file).exists():
            return
        for name in stale:
            del self._entries[name]
        data = marshal.dumps({"format": FORMAT, "code": self._code, "files": self._entries})
        index = marshal.dumps(build_key_index(self._code, self._entries))
        # A cache needs no fsync: a torn or lost file is only a miss. The rename keeps
        # readers from ever seeing half a file.
        temporary = self._file.with_name(f".{self._file.name}.{os.getpid()}.tmp")
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(index)
            os.replace(temporary, _index_file(self._file))
            temporary.write_bytes(data)
            os.replace(temporary, self._file)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()


# -- the key index: what the hook's call reads instead of every sibling's summary -----------
#
# The cross-file rules report only on the named files, against the earliest entry (file
# order, then position) with the same identity or case-folded cachePath. So a hook call
# needs, of its siblings, only the files that hold such an earliest entry. The key index
# maps a 64-bit checksum of each key (CRC-32 and Adler-32 side by side) to the first two
# files (in order) that hold it, and holds each file's stat key (hashed to one int), so
# that an unchanged directory is vouched for by stats alone. Two keys of a directory that
# share the checksum could hide the earliest holder of one of them (CRC-32 alone does:
# `acme/m214865` and `acme/m11000000`), so both sums must agree, which no pair of keys of
# a real repo is expected to do (the odds are about keys**2 / 2**65). A changed, new or
# deleted sibling is read afresh
# (up to STALE_LIMIT of them), and anything the index cannot answer exactly (a key whose
# recorded files are all being re-read, a cachePath that is a directory of another) sends
# the caller back to the full summaries.

INDEX_FORMAT = "repo-tools-key-index/5"
STALE_LIMIT = 16
_HOLDERS = 2


def key_crc(text: str) -> int:
    data = text.encode("utf-8", "surrogatepass")
    return zlib.crc32(data) << 32 | zlib.adler32(data)


def identity_crc(provider: str, model: str, version: str) -> int:
    return key_crc(f"{provider}\0{model}\0{version}")


def path_crc(cache_path: str) -> int:
    return key_crc(cache_path.casefold())


def _index_file(cache_file: Path) -> Path:
    return cache_file.with_name(cache_file.stem + ".keys.marshal")


def build_key_index(code: str, entries: dict[str, tuple[Any, ...]]) -> dict[str, Any]:
    """The key index of a directory whose every file's summary is `entries`.

    Packed into arrays (stats in name order, sorted CRC keys with a fixed number of
    holders each) rather than dicts: at 10,000 files it loads in a millisecond instead of
    25, and an unchanged directory is told by one comparison of its stats."""
    names = sorted(entries)
    stats: list[int] = []
    identities: dict[int, list[int]] = {}
    paths: dict[int, list[int]] = {}
    parents: set[int] = set()
    # Each client range a model names (min, max), and the files that hold one: what the
    # unreachable-model rule (I008) needs. Entries that rule skips (no compatibility
    # object, bounds that are not strings) are left out.
    ranges: dict[tuple[Any, Any], list[int]] = {}
    for number, name in enumerate(names):
        key, rows = entries[name][0], entries[name][1]
        stats.append(_digest(key) if type(key) is tuple else _NO_STAT)
        for row in rows:
            for table, crc in ((identities, identity_crc(*row[1:4])),
                               (paths, path_crc(row[5]) if type(row[5]) is str else None)):
                if crc is None:
                    continue
                holders = table.setdefault(crc, [])
                if len(holders) < _HOLDERS and number not in holders:
                    holders.append(number)
            if row[8] is True and all(b is None or type(b) is str for b in row[6:8]):
                holding = ranges.setdefault((row[6], row[7]), [])
                if not holding or holding[-1] != number:
                    holding.append(number)
            if type(row[5]) is str:
                parts = row[5].casefold().split("/")
                parents.update(key_crc("/".join(parts[:depth])) for depth in range(1, len(parts)))
    return {"format": INDEX_FORMAT, "code": code, "names": names,
            "stats": array.array("q", stats).tobytes(),
            "identities": _pack_table(identities), "paths": _pack_table(paths),
            "parents": array.array("Q", sorted(parents)).tobytes(),
            "ranges": {k: tuple(v) for k, v in ranges.items()}}


_NO_STAT = -1  # a file that could not be stat'ed: matches no digest (see _digest)


def _digest(key: tuple[int, ...]) -> int:
    # hash() of a tuple of ints is the same in every process; -1 is never a hash.
    return hash(key)


def _pack_table(table: dict[int, list[int]]) -> tuple[bytes, bytes]:
    """CRC -> holders as (sorted CRCs, _HOLDERS file numbers per CRC, -1 for none)."""
    keys = sorted(table)
    holders = array.array("i")
    for crc in keys:
        numbers = table[crc]
        holders.extend(numbers + [-1] * (_HOLDERS - len(numbers)))
    return array.array("Q", keys).tobytes(), holders.tobytes()


class _CrcTable:
    """A packed CRC -> file numbers table, looked up by bisection."""

    def __init__(self, packed: tuple[bytes, bytes]) -> None:
        self._keys = array.array("Q")
        self._keys.frombytes(packed[0])
        self._holders = array.array("i")
        self._holders.frombytes(packed[1])
        if packed[1] and len(self._holders) != _HOLDERS * len(self._keys):
            raise ValueError("damaged key table")

    def get(self, crc: int) -> tuple[int, ...]:
        at = bisect.bisect_left(self._keys, crc)
        if at == len(self._keys) or self._keys[at] != crc:
            return ()
        return tuple(n for n in self._holders[at * _HOLDERS:(at + 1) * _HOLDERS] if n >= 0)

    def __contains__(self, crc: int) -> bool:
        at = bisect.bisect_left(self._keys, crc)
        return at < len(self._keys) and self._keys[at] == crc


class KeyIndex:
    """A models directory's key index, as loaded (see `build_key_index`)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.names: list[str] = data["names"]
        self._stats = array.array("q")
        self._stats.frombytes(data["stats"])
        if len(self._stats) != len(self.names):
            raise ValueError("damaged key index")
        self.identities = _CrcTable(data["identities"])
        self.paths = _CrcTable(data["paths"])
        self.parents = _CrcTable((data["parents"], b""))
        self.ranges: dict[tuple[Any, Any], tuple[int, ...]] = data["ranges"]

    @classmethod
    def load(cls, models_dir: Path, files: int) -> KeyIndex | None:
        root = cache_root() if files >= CACHED_FROM else None
        if root is None:
            return None
        try:
            data = marshal.loads(_index_file(_cache_file(root, models_dir)).read_bytes())
            if (type(data) is not dict or data.get("format") != INDEX_FORMAT
                    or data.get("code") != code_key()):
                return None
            return cls(data)
        except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError):
            return None

    def changed(self, models_dir: Path | str, present: Set[str]) -> set[str]:
        """The files of `present` (the directory's file names now) that are new or
        changed since the index was written. Deleted files are `deleted`'s."""
        current = array.array("q", _stat_digests(str(models_dir), self.names))
        if current == self._stats:
            changed: set[str] = set()
        else:
            changed = {name for name, now, then in zip(self.names, current, self._stats,
                                                       strict=True)
                       if now != then and name in present}
        return changed | (present - set(self.names))

    def deleted(self, present: Set[str]) -> set[str]:
        return set(self.names) - present

    def holders(self, models: Iterable[EntrySummary], excluded: set[str]) -> set[str] | None:
        """The names of the files that may hold the earliest entry sharing a key with
        `models` (none of `excluded`, whose entries the caller has afresh); None when the
        index cannot tell."""
        wanted: set[str] = set()
        for model in models:
            lookups = [(self.identities, identity_crc(*model.identity))]
            if model.cache_path is not None:
                folded = model.cache_path.casefold()
                if key_crc(folded) in self.parents:
                    return None  # a directory of another cachePath: the rare nesting case
                parts = folded.split("/")
                lookups += [(self.paths, key_crc("/".join(parts[:depth])))
                            for depth in range(1, len(parts) + 1)]
            for table, crc in lookups:
                numbers = table.get(crc)
                kept = [self.names[n] for n in numbers if self.names[n] not in excluded]
                if not kept and len(numbers) >= _HOLDERS:
                    return None  # every recorded holder is being re-read; more may exist
                wanted.update(kept[:1])
        return wanted
