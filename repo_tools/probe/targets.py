"""What to probe: the download entries of model files, and how URLs may be shown.

Pure functions only; nothing here touches the network.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import urlsplit

from repo_tools.jsonfile import JsonDocument
from repo_tools.model import entries_of
from repo_tools.urls import huggingface_resolve_url as huggingface_resolve_url

HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """One `download` object of one model file."""

    path: str
    pointer: str  # of the download object, e.g. /models/3/download
    url: str
    sha256: str | None  # None when absent or not a string
    size: int | None

    @property
    def url_pointer(self) -> str:
        return f"{self.pointer}/url"

    @property
    def sha256_pointer(self) -> str:
        return f"{self.pointer}/sha256"


def targets_of(doc: JsonDocument) -> list[Target]:
    """The download of every entry that has a URL to probe."""
    return [Target(path=doc.path, pointer=f"{entry.pointer}/download", url=entry.download.url,
                   sha256=entry.download.sha256 or None, size=entry.download.size)
            for entry in entries_of(doc.data, doc.path) if entry.download.url]


def url_problem(url: str) -> str | None:
    """Why url cannot be probed at all, or None."""
    if any(c.isspace() for c in url):
        return "URL contains whitespace"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError as exc:
        return f"URL cannot be parsed: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"URL scheme {parts.scheme!r} is not http or https" if parts.scheme else (
            "URL has no scheme")
    if not host:
        return "URL has no host"
    return None


def host_declared_sha256(value: str | None) -> str | None:
    """A sha256 from an ETag-like header (`"abc…"`, `W/"…"`), or None when it is not one."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return value.lower() if HEX64.fullmatch(value) else None


def parse_size(value: Any) -> int | None:
    if value is None:
        return None
    try:
        size = int(str(value).strip())
    except ValueError:
        return None
    return size if size >= 0 else None
