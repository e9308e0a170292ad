"""The client's exceptions: one family under the project's error base (`RuleError`), so an
application catches `ClientError` (or any `RuleError`) and reads `.code` and `.message`.
Kept apart so that the cache and the downloader need not import each other."""

from __future__ import annotations

from repo_tools.findings import Rule, RuleError


class ClientError(RuleError):
    """Any failure the client raises; `code` is its rule (C0xx), `message` is safe to log
    (URLs without credentials or query, never a token)."""


class DownloadError(ClientError):
    """The file could not be downloaded (C010), had the wrong content (C011), or the client
    is offline and the file is not cached (C016)."""


class Cancelled(ClientError):
    """The application cancelled the download (C014). The partial file is kept; the next
    `ensure` (or `download`) of the same file resumes it."""

    def __init__(self, rule: Rule, message: str, path: str = "", *,
                 done_bytes: int = 0) -> None:
        super().__init__(rule, message, path)
        self.done_bytes = done_bytes


class NotDownloadable(ClientError, ValueError):
    """The model entry has no usable download section or cachePath (C015): a problem of the
    config, not of the network. Also a ValueError, as `ensure` raised before."""
