"""Download URLs as the offline checks, `lint --fix`, `add` and probe read them: pure text
functions, with no network code, so the hooks can import them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

HF_HOSTS = frozenset({"huggingface.co", "hf.co", "www.huggingface.co"})
_HF_BLOB = re.compile(r"^(/(?:(?:datasets|spaces)/)?[^/]+/[^/]+)/blob/(.+)$")


def huggingface_resolve_url(url: str) -> str | None:
    """For a huggingface.co `/blob/` URL, the `/resolve/` URL of the same file; else None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if (host or "").lower() not in HF_HOSTS:
        return None
    match = _HF_BLOB.match(parts.path)
    if not match:
        return None
    return urlunsplit(parts._replace(path=f"{match.group(1)}/resolve/{match.group(2)}"))
