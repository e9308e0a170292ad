"""The release manifest: the one small signed document that lists every hash.

Canonical bytes: JSON with sorted keys, no insignificant whitespace, UTF-8 (non-ASCII kept
as is), one trailing newline. A verifier re-serialises what it parsed and requires the
same bytes, so there is exactly one valid encoding of each manifest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from repo_tools.jsonfile import DuplicateKeyError, parse_strict
from repo_tools.release.bundle import (
    BundleFile,
    bundle_name,
    collision_key,
    is_release_path,
    path_problem,
)
from repo_tools.release.errors import VerificationError
from repo_tools.rules import release as rules

SCHEMA = "repo-tools-release/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_SUFFIX = ".sig"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_VERSION = 2**63 - 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


@dataclasses.dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True, slots=True)
class BundleRef:
    name: str
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True, slots=True)
class Manifest:
    repository: str
    bundle_version: int
    created: dt.datetime
    expires: dt.datetime
    commit: str | None
    bundle: BundleRef
    files: tuple[FileEntry, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "repository": self.repository,
            "bundle_version": self.bundle_version,
            "created": format_time(self.created),
            "expires": format_time(self.expires),
            "commit": self.commit,
            "bundle": {"name": self.bundle.name, "size": self.bundle.size,
                       "sha256": self.bundle.sha256},
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())


def canonical_json(data: Any) -> bytes:
    return (json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                       allow_nan=False) + "\n").encode("utf-8")


def format_time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime(TIME_FORMAT)


def file_entries(files: Sequence[BundleFile]) -> tuple[FileEntry, ...]:
    return tuple(FileEntry(f.path, len(f.data), f.sha256) for f in files)


def signature_name(manifest_name: str) -> str:
    return manifest_name + SIGNATURE_SUFFIX


def snapshot_name(version: int) -> str:
    """The consistent-snapshot copy of a manifest: never overwritten once published."""
    return f"{version}.{MANIFEST_NAME}"


# --- strict parsing --------------------------------------------------------------------------

def _bad(message: str) -> VerificationError:
    return VerificationError(rules.MALFORMED_MANIFEST, message, MANIFEST_NAME)


def _object(value: Any, keys: set[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(f"{where} must be an object")
    missing = keys - value.keys()
    unknown = value.keys() - keys
    if missing:
        raise _bad(f"{where} lacks {', '.join(sorted(missing))}")
    if unknown:
        raise _bad(f"{where} has unknown field(s) {', '.join(sorted(unknown))}")
    return value


def _int(value: Any, where: str, minimum: int = 0) -> int:
    # bool is an int subclass in Python; `true` must not pass as 1.
    if type(value) is not int or not minimum <= value <= MAX_VERSION:
        raise _bad(f"{where} must be an integer from {minimum} to {MAX_VERSION}")
    return value


def _str(value: Any, where: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
        raise _bad(f"{where} must be a string" + (" of the right form" if pattern else ""))
    return value


def _time(value: Any, where: str) -> dt.datetime:
    text = _str(value, where, _TIME)
    try:
        return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise _bad(f"{where} is not a real date and time") from None


def repository_problem(text: str) -> str | None:
    """Why text cannot be a repository id (None when it can): for writer and reader."""
    if not text or len(text) > 256 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return "repository must be 1-256 printable characters"
    return None


def _repository(value: Any) -> str:
    text = _str(value, "repository")
    problem = repository_problem(text)
    if problem is not None:
        raise _bad(problem)
    return text


def _files(value: Any) -> tuple[FileEntry, ...]:
    if not isinstance(value, list):
        raise _bad("files must be a list")
    entries: list[FileEntry] = []
    keys: set[str] = set()
    for i, item in enumerate(value):
        obj = _object(item, {"path", "size", "sha256"}, f"files[{i}]")
        path = _str(obj["path"], f"files[{i}].path")
        problem = path_problem(path)
        if problem is not None or not is_release_path(path):
            raise _bad(f"files[{i}].path {path!r}: {problem or 'not index.json or versions/'}")
        key = collision_key(path)
        if key in keys:
            raise _bad(f"files[{i}].path {path!r} is listed twice (up to case/normalisation)")
        keys.add(key)
        entries.append(FileEntry(path, _int(obj["size"], f"files[{i}].size"),
                                 _str(obj["sha256"], f"files[{i}].sha256", _SHA256)))
    paths = [e.path.encode("utf-8") for e in entries]
    if paths != sorted(paths):
        raise _bad("files are not sorted by path")
    return tuple(entries)


def parse_manifest(data: bytes) -> Manifest:
    """Strictly parse signed manifest bytes; raises VerificationError (R007, R008)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("the manifest is not UTF-8") from None
    try:
        raw = parse_strict(text)
    except DuplicateKeyError:
        raise _bad("the manifest has a duplicate key") from None
    except RecursionError:
        raise _bad("the manifest is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, NaN and Infinity
        raise _bad(f"the manifest is not strict JSON: {exc}") from None
    top = _object(raw, {"schema", "repository", "bundle_version", "created", "expires",
                        "commit", "bundle", "files"}, "the manifest")
    if top["schema"] != SCHEMA:
        raise _bad(f"schema is {top['schema']!r}, this verifier reads {SCHEMA!r}")
    version = _int(top["bundle_version"], "bundle_version", minimum=1)
    created = _time(top["created"], "created")
    expires = _time(top["expires"], "expires")
    if expires <= created:
        raise _bad("expires is not after created")
    commit = top["commit"]
    if commit is not None:
        commit = _str(commit, "commit", _COMMIT)
    bundle_obj = _object(top["bundle"], {"name", "size", "sha256"}, "bundle")
    bundle = BundleRef(_str(bundle_obj["name"], "bundle.name"),
                       _int(bundle_obj["size"], "bundle.size"),
                       _str(bundle_obj["sha256"], "bundle.sha256", _SHA256))
    if bundle.name != bundle_name(version):
        raise _bad(f"bundle.name {bundle.name!r} is not {bundle_name(version)!r}")
    manifest = Manifest(_repository(top["repository"]), version, created, expires, commit,
                        bundle, _files(top["files"]))
    if manifest.to_bytes() != data:
        raise VerificationError(rules.NON_CANONICAL_MANIFEST,
                                "the manifest bytes are not in canonical form (sorted keys, "
                                "no spaces, one trailing newline)", MANIFEST_NAME)
    return manifest
