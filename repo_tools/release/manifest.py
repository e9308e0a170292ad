"""The release manifest: the one small signed document a client reads first.

It holds the repository id, the release's version and validity, the index itself, and for
each config version the name, size, SHA-256 and file count of that version's archive. The
archive's hash covers every file in it, so per-file hashes need not be listed: the manifest
stays small however many files a repository has (about 200 bytes a config version).

Canonical bytes: RFC 8785 (JSON Canonicalization Scheme), UTF-8, no trailing newline. A
verifier re-serialises what it parsed and requires the same bytes, so there is exactly one
valid encoding of each manifest. See docs/release-format.md for the whole specification.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import rfc8785

from repo_tools.jsonfile import DuplicateKeyError, parse_strict
from repo_tools.release.archive import path_problem
from repo_tools.release.errors import VerificationError
from repo_tools.rules import release as rules

SCHEMA = "repo-tools-release/2"
MANIFEST_NAME = "manifest.json"
SIGNATURE_SUFFIX = ".sig"
INDEX_PATH = "index.json"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_INT = 2**53 - 1  # the largest integer RFC 8785 (I-JSON) represents exactly
_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


@dataclasses.dataclass(frozen=True, slots=True)
class VersionArchive:
    """One config version's archive: `<sha256>.tar`, named by its content, so an
    unchanged config version keeps its archive (and every cache of it) across releases."""

    config_version: str
    size: int
    sha256: str
    files: int

    @property
    def name(self) -> str:
        return archive_name(self.sha256)

    def to_json(self) -> dict[str, Any]:
        return {"archive": self.name, "size": self.size, "sha256": self.sha256,
                "files": self.files}


@dataclasses.dataclass(frozen=True, slots=True)
class Manifest:
    repository: str
    bundle_version: int
    created: dt.datetime
    expires: dt.datetime
    commit: str | None
    index: Mapping[str, Any]  # index.json's value, exactly as the repository holds it
    versions: tuple[VersionArchive, ...]  # sorted by config version (UTF-8 bytes)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "repository": self.repository,
            "bundle_version": self.bundle_version,
            "created": format_time(self.created),
            "expires": format_time(self.expires),
            "commit": self.commit,
            "index": self.index,
            "versions": {v.config_version: v.to_json() for v in self.versions},
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def archive_of(self, config_version: str) -> VersionArchive | None:
        for archive in self.versions:
            if archive.config_version == config_version:
                return archive
        return None

    @property
    def file_count(self) -> int:
        return 1 + sum(v.files for v in self.versions)  # index.json and the model files

    def index_bytes(self) -> bytes:
        """index.json as a release holds it: the index's canonical form."""
        return canonical_json(self.index)


def canonical_json(data: Any) -> bytes:
    """RFC 8785 bytes; ValueError for what I-JSON cannot hold exactly (big ints, NaN)."""
    try:
        return rfc8785.dumps(data)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(str(exc)) from None


def format_time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime(TIME_FORMAT)


def archive_name(sha256: str) -> str:
    # Flat, beside the manifest: static hosts such as GitHub release assets have no
    # folders, and a content name cannot clash with the manifests' names.
    return f"{sha256}.tar"


def signature_name(manifest_name: str) -> str:
    return manifest_name + SIGNATURE_SUFFIX


def snapshot_name(version: int) -> str:
    """The consistent-snapshot copy of a manifest: never overwritten once published."""
    return f"{version}.{MANIFEST_NAME}"


def config_version_problem(name: str) -> str | None:
    """Why name cannot be a config version folder in a release (None when it can): the
    same test as for every path in an archive, so what release writes, verify reads."""
    if "/" in name:
        return "a config version is one folder name, without '/'"
    return path_problem(member_path(name, "m.json"))


def member_path(config_version: str, file_name: str) -> str:
    return f"versions/{config_version}/models/{file_name}"


def repository_problem(text: str) -> str | None:
    """Why text cannot be a repository id (None when it can): for writer and reader."""
    if not text or len(text) > 256 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return "repository must be 1-256 printable characters"
    return None


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
    if type(value) is not int or not minimum <= value <= MAX_INT:
        raise _bad(f"{where} must be an integer from {minimum} to {MAX_INT}")
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


def _repository(value: Any) -> str:
    text = _str(value, "repository")
    problem = repository_problem(text)
    if problem is not None:
        raise _bad(problem)
    return text


def _versions(value: Any) -> tuple[VersionArchive, ...]:
    if not isinstance(value, dict):
        raise _bad("versions must be an object")
    archives: list[VersionArchive] = []
    for config_version, item in value.items():
        where = f"versions[{config_version!r}]"
        problem = config_version_problem(config_version)
        if problem is not None:
            raise _bad(f"{where}: {problem}")
        obj = _object(item, {"archive", "size", "sha256", "files"}, where)
        archive = VersionArchive(config_version, _int(obj["size"], f"{where}.size"),
                                 _str(obj["sha256"], f"{where}.sha256", _SHA256),
                                 _int(obj["files"], f"{where}.files", minimum=1))
        if obj["archive"] != archive.name:
            raise _bad(f"{where}.archive must be {archive.name!r}, the name its sha256 gives")
        archives.append(archive)
    archives.sort(key=lambda a: a.config_version.encode("utf-8"))
    return tuple(archives)


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
                        "commit", "index", "versions"}, "the manifest")
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
    if not isinstance(top["index"], dict):
        raise _bad("index must be an object (index.json's content)")
    manifest = Manifest(_repository(top["repository"]), version, created, expires, commit,
                        top["index"], _versions(top["versions"]))
    listed = top["index"].get("versions")
    if isinstance(listed, dict):
        # A config version the index offers must have an archive, or a client it selects
        # would get no models at all.
        missing = sorted(listed.keys() - {v.config_version for v in manifest.versions})
        if missing:
            raise _bad(f"the index lists {missing[0]!r}, which has no archive in versions")
    try:
        canonical = manifest.to_bytes()
    except ValueError as exc:  # a number I-JSON cannot hold exactly, inside the index
        raise _bad(f"the manifest cannot be put in canonical form: {exc}") from None
    if canonical != data:
        raise VerificationError(rules.NON_CANONICAL_MANIFEST,
                                "the manifest bytes are not in canonical form (RFC 8785: "
                                "sorted keys, no spaces, no trailing newline)", MANIFEST_NAME)
    return manifest
