"""The client's failures that several of its modules raise (kept apart so that the
cache and the downloader need not import each other)."""

from __future__ import annotations

from repo_tools.findings import RuleError


class DownloadError(RuleError):
    """The file could not be downloaded (C010) or had the wrong content (C011); the message
    is safe to log (URLs are shown without credentials or query)."""
