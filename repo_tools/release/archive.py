"""A config version's release archive: a deterministic plain USTAR file, and a strict reader.

An archive is an uncompressed tar so that its bytes depend on nothing but the files
(deflate output differs between zlib builds; HTTP can compress in transit). Every member is
a regular file with mode 0644, uid/gid 0, empty owner names and mtime 0, in byte-wise
sorted path order. Nothing about the release (its version, its time) goes in, so an
unchanged config version gives the same archive, and the same content name, every release.

The reader does not use `tarfile`: it accepts exactly the USTAR subset the writer makes and
rejects everything else (pax and GNU headers, links, devices, bad checksums, trailing data)
with a specific reason, so no tar feature can rename, resize or redirect a member.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from repo_tools import repo as repo_layout
from repo_tools.checks import keys, publishable
from repo_tools.findings import Finding, Rule, finding
from repo_tools.release.errors import ReleaseRefused, VerificationError
from repo_tools.rules import release as rules

BLOCK = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PATH_BYTES = 255  # what USTAR's prefix + name fields can hold
_REGULAR = (b"0", b"\x00")
_EXTENSIONS = {b"x": "pax extended header", b"g": "pax global header",
               b"L": "GNU long-name header", b"K": "GNU long-link header"}
_NOT_REGULAR = {b"1": "hardlink", b"2": "symlink", b"3": "character device",
                b"4": "block device", b"5": "directory", b"6": "FIFO", b"7": "contiguous file",
                b"S": "GNU sparse file"}


ARCHIVE_MTIME = 0


@dataclasses.dataclass(frozen=True, slots=True)
class ReleaseFile:
    path: str  # relative, '/'-separated
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


# --- names -------------------------------------------------------------------------------

def path_problem(name: str) -> str | None:
    """Why name is not a safe release path (None when it is): one rule for writer and reader."""
    if not name:
        return "the name is empty"
    if _CONTROL.search(name):
        return "the name contains a control character"
    if name.startswith("/"):
        return "the name is absolute"
    if "\\" in name:
        return "the name contains a backslash"
    if ":" in name:
        return "the name contains ':' (a Windows drive or stream)"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "the name has an empty, '.' or '..' part"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "the name is not valid Unicode"
    if len(encoded) > MAX_PATH_BYTES:
        return f"the name is longer than {MAX_PATH_BYTES} bytes"
    return None


collision_key = publishable.collision_key


# --- collecting a repository ---------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class Collection:
    """What a release of a repository takes: index.json's bytes and the model files'
    names by config version (sorted), checked as names only; `read_version` reads them."""

    repo: Path
    index: ReleaseFile
    versions: dict[str, list[str]]  # config version -> repo-relative names, sorted

    def read_version(self, config_version: str) -> list[ReleaseFile]:
        """One config version's files, read and checked (R033, R037, R039)."""
        root = self.repo.resolve()
        files = [f for name in self.versions[config_version]
                 for f in [_read(self.repo, root, name)] if f is not None]
        _refuse_private_keys(files)
        return files


def collect(repo: Path, *, use_git: bool = True) -> Collection:
    """The files a release of repo holds, by config version; raises ReleaseRefused.

    In a git work tree only tracked files are taken (what the recorded commit holds);
    elsewhere everything under versions/ is. Anything but index.json and the model files
    is refused (R036, the rule `check-index` reports), and so are colliding names (R038).
    Only index.json is read here: the model files are read a config version at a time
    (`Collection.read_version`), so a release never holds the whole repository in memory.
    """
    names = publishable.release_candidates(repo, use_git=use_git)
    _refuse_unpublishable(names)
    for name in names:
        problem = path_problem(name)
        if problem is not None:
            raise ReleaseRefused(rules.UNBUNDLABLE_FILE, f"{name!r}: {problem}", name)
    _refuse(rules.COLLIDING_PATHS,
            [(c.path, c.message()) for c in publishable.colliding_paths(names)])
    versions: dict[str, list[str]] = {}
    for name in names:
        if name != repo_layout.INDEX_FILE:
            versions.setdefault(name.split("/")[1], []).append(name)
    for listed in versions.values():
        listed.sort(key=lambda n: n.encode("utf-8"))
    index = (_read(repo, repo.resolve(), repo_layout.INDEX_FILE)
             if repo_layout.INDEX_FILE in names else None)
    if index is None:
        raise ReleaseRefused(rules.UNBUNDLABLE_FILE, "there is no index.json to publish",
                             repo_layout.INDEX_FILE)
    _refuse_private_keys([index])
    return Collection(repo, index, dict(sorted(versions.items(),
                                               key=lambda item: item[0].encode("utf-8"))))


def _read(repo: Path, root: Path, name: str) -> ReleaseFile | None:
    """name's bytes, following a symlink only to a regular file inside the repository
    (R039); None when it is tracked but deleted (the dirty check reports that)."""
    path = os.path.join(repo, name)  # strings, not Paths: this runs for every file
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            target = Path(path).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                raise ReleaseRefused(rules.UNSAFE_SYMLINK,
                                     publishable.UNSAFE_SYMLINK_MESSAGE, name)
            info = target.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ReleaseRefused(rules.UNBUNDLABLE_FILE,
                                 "is not a regular file (device, FIFO, socket or directory)",
                                 name)
        with open(path, "rb") as handle:
            return ReleaseFile(name, handle.read())
    except RuntimeError:  # a symlink loop
        raise ReleaseRefused(rules.UNSAFE_SYMLINK, publishable.UNSAFE_SYMLINK_MESSAGE,
                             name) from None
    except FileNotFoundError:
        if os.path.islink(path):  # a dangling link
            raise ReleaseRefused(rules.UNSAFE_SYMLINK, publishable.UNSAFE_SYMLINK_MESSAGE,
                                 name) from None
        return None
    except OSError as exc:
        raise ReleaseRefused(rules.UNBUNDLABLE_FILE, f"cannot read: {exc.strerror}",
                             name) from None


class FilesRefused(ReleaseRefused):
    """One refusal about several files: a finding at each (paths relative to the repo)."""

    def __init__(self, rule: Rule, problems: Sequence[tuple[str, str]]) -> None:
        path, message = problems[0]
        more = f" ({len(problems) - 1} more file(s) too)" if len(problems) > 1 else ""
        super().__init__(rule, message + more, path)
        self.problems = tuple(problems)

    def as_findings(self, default_path: str) -> list[Finding]:
        return [finding(self.rule, path, message) for path, message in self.problems]


def _refuse(rule: Rule, problems: Sequence[tuple[str, str]]) -> None:
    if problems:
        raise FilesRefused(rule, problems)


def _refuse_unpublishable(names: Iterable[str]) -> None:
    _refuse(rules.UNPUBLISHABLE_FILE,
            [(name, publishable.unpublishable_message(reason)) for name in sorted(names)
             for reason in [publishable.unpublishable(name)] if reason is not None])


def _refuse_private_keys(files: Iterable[ReleaseFile]) -> None:
    _refuse(rules.PRIVATE_KEY_MATERIAL,
            [(f.path, keys.private_key_message(key)) for f in files
             for key in [keys.private_key_material(f.data)] if key is not None])


# --- writing -------------------------------------------------------------------------------

def build_archive(files: Sequence[ReleaseFile]) -> bytes:
    """The deterministic archive of one config version's files (sorted, checked).

    The bytes are those `tarfile` writes in USTAR format for these members (a test holds
    the two equal); written here because tarfile's general path costs ~70 µs a member,
    most of a 100,000-file release."""
    out = bytearray()
    for f in files:
        out += ustar_header(f.path, len(f.data))
        out += f.data
        out += bytes(-len(f.data) % BLOCK)
    out += bytes(2 * BLOCK)  # the end-of-archive marker
    out += bytes(-len(out) % RECORD)
    return bytes(out)


RECORD = 20 * BLOCK  # tar pads an archive to whole records of 20 blocks
_FIXED = (b"0000644\0" + b"0000000\0" * 2)  # mode, uid, gid
_MTIME = b"%011o\0" % ARCHIVE_MTIME
_TAIL = b"ustar\x0000" + bytes(64 + 16)  # magic, version; empty owner names, no device


def ustar_header(path: str, size: int) -> bytes:
    """A regular file's USTAR header block, mode 0644, owner 0, mtime ARCHIVE_MTIME;
    ReleaseRefused (R033) for a name the format cannot hold."""
    name = path.encode("utf-8")
    prefix = b""
    if len(name) > 100:
        parts = name.split(b"/")
        for i in range(1, len(parts)):
            head, tail = b"/".join(parts[:i]), b"/".join(parts[i:])
            if len(head) <= 155 and len(tail) <= 100:
                prefix, name = head, tail
                break
        else:
            raise ReleaseRefused(rules.UNBUNDLABLE_FILE, "name is too long", path)
    if size >= 8**11:
        raise ReleaseRefused(rules.UNBUNDLABLE_FILE, "file too large for USTAR", path)
    header = bytearray(name.ljust(100, b"\0") + _FIXED + b"%011o\0" % size + _MTIME
                       + b"        " + b"0" + bytes(100) + _TAIL + prefix.ljust(155, b"\0")
                       + bytes(12))
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


# --- reading -------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class Member:
    name: str
    data: bytes


def _malformed(why: str, name: str = "") -> VerificationError:
    return VerificationError(rules.MALFORMED_ARCHIVE, why, name)


def _octal(field: bytes, what: str) -> int:
    if field[:1] and field[0] & 0x80:
        raise _malformed(f"{what} uses the base-256 extension")
    digits = field.rstrip(b"\0 ").lstrip(b" ")
    if not digits:
        return 0
    if digits.translate(None, b"01234567"):  # anything left is not an octal digit
        raise _malformed(f"{what} is not an octal number")
    return int(digits, 8)


_ZERO_BLOCK = bytes(BLOCK)


def _cstring(field: bytes) -> bytes:
    return field.split(b"\0", 1)[0]


def read_members(archive: bytes, *, max_members: int) -> list[Member]:
    """Every member of a USTAR archive, in order, from memory; nothing touches the disk.

    Raises VerificationError: R015 malformed, R016 extension header, R017 not a regular
    file, R018 name not UTF-8, R001 too many members.
    """
    members: list[Member] = []
    offset = 0
    view = memoryview(archive)
    while True:
        header = bytes(view[offset:offset + BLOCK])
        if len(header) < BLOCK:
            raise _malformed("the archive ends without an end-of-archive marker")
        if header == _ZERO_BLOCK:
            rest = view[offset:]
            if len(rest) < 2 * BLOCK or any(rest):
                raise _malformed("data after the end-of-archive marker, or a short marker")
            return members
        raw_name = _cstring(header[345:500]) + b"/" + _cstring(header[0:100]) \
            if _cstring(header[345:500]) else _cstring(header[0:100])
        shown = raw_name.decode("utf-8", "backslashreplace")
        _check_checksum(header, shown)
        typeflag = header[156:157]
        if typeflag in _EXTENSIONS:
            raise VerificationError(rules.ARCHIVE_EXTENSION,
                                    f"member {shown!r} is a {_EXTENSIONS[typeflag]}; it could "
                                    "override the next member's name or size", shown)
        if typeflag in _NOT_REGULAR:
            raise VerificationError(rules.NOT_REGULAR_MEMBER,
                                    f"member {shown!r} is a {_NOT_REGULAR[typeflag]}", shown)
        if typeflag not in _REGULAR:
            raise _malformed(f"member {shown!r} has unknown type {typeflag!r}", shown)
        if header[257:263] != b"ustar\0" or header[263:265] != b"00":
            raise _malformed(f"member {shown!r} is not a POSIX USTAR header", shown)
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError(rules.UNSAFE_MEMBER_NAME,
                                    f"member name {shown!r} is not UTF-8", shown) from None
        size = _octal(header[124:136], f"size of {shown!r}")
        start = offset + BLOCK
        end = start + size
        if end > len(archive):
            raise _malformed(f"member {shown!r} is truncated", shown)
        members.append(Member(name, bytes(view[start:end])))
        if len(members) > max_members:
            raise VerificationError(rules.OVERSIZE,
                                    f"the archive has more than {max_members} members")
        offset = start + -(-size // BLOCK) * BLOCK


def _check_checksum(header: bytes, shown: str) -> None:
    expected = _octal(header[148:156], "header checksum")
    actual = sum(header) - sum(header[148:156]) + 8 * 0x20
    if expected != actual:
        raise _malformed(f"header of member {shown!r} has a bad checksum", shown)
