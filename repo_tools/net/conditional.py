"""Conditional requests (RFC 9110 section 13): a response's validators, kept as the server
sent them, and the request headers that ask "only if it changed".

Plain data and pure functions (importing this costs nothing): a client stores validators
with what it fetched and hands them back on its next request for the same URL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

# A validator is an opaque token that goes back into a request header as is; longer ones
# are not validators any server sends, and one that could not be sent back is useless.
MAX_VALIDATOR_LENGTH = 512


def clean_validator(value: object) -> str | None:
    """value when it can be sent back in a header (visible ASCII and spaces, at most
    MAX_VALIDATOR_LENGTH characters), else None. A CR or LF would start a header of
    its own."""
    if not isinstance(value, str) or not value or len(value) > MAX_VALIDATOR_LENGTH:
        return None
    if not all(" " <= ch <= "~" for ch in value):
        return None
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class Validators:
    """A response's `ETag` and `Last-Modified`, verbatim (None: the server sent none)."""

    etag: str | None = None
    last_modified: str | None = None

    def __post_init__(self) -> None:
        for name in ("etag", "last_modified"):
            value = getattr(self, name)
            if value is not None and clean_validator(value) is None:
                raise ValueError(f"{name} cannot be sent back in a request header")

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> Validators:
        """The validators of a response's headers (malformed ones dropped)."""
        return cls(clean_validator(headers.get("ETag")),
                   clean_validator(headers.get("Last-Modified")))

    def __bool__(self) -> bool:
        return self.etag is not None or self.last_modified is not None

    def request_headers(self) -> dict[str, str]:
        """`If-None-Match` / `If-Modified-Since` for these validators. Both go when both
        are known: a server that understands the ETag ignores the date (RFC 9110
        13.1.3), and one that only keeps dates still answers 304."""
        headers: dict[str, str] = {}
        if self.etag is not None:
            headers["If-None-Match"] = self.etag
        if self.last_modified is not None:
            headers["If-Modified-Since"] = self.last_modified
        return headers
