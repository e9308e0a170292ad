"""L004: `supported_platforms` entries outside the repo's `known-platforms` setting."""

from __future__ import annotations

import difflib
from typing import Any

from repo_tools.findings import Finding, finding
from repo_tools.jsonfile import pointer_join
from repo_tools.model import entries_of
from repo_tools.rules import lint as rules


def unknown_platforms(path: str, data: Any, known: frozenset[str]) -> list[Finding]:
    found = []
    for entry in entries_of(data, path):
        for j, platform in enumerate(entry.platforms or ()):
            if isinstance(platform, str) and platform not in known:
                found.append(finding(
                    rules.UNKNOWN_PLATFORM, path,
                    f"platform {platform!r} is not in known-platforms"
                    f"{_platform_hint(platform, known)}",
                    pointer_join(entry.pointer, "compatibility", "supported_platforms", j)))
    return found


def _platform_hint(platform: str, known: frozenset[str]) -> str:
    folded = {name.casefold(): name for name in known}
    if platform.casefold() in folded:
        return f"; did you mean {folded[platform.casefold()]!r}?"
    close = difflib.get_close_matches(platform, sorted(known), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" ({', '.join(sorted(known))})"
