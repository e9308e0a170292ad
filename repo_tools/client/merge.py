"""Merging remote models over the application's defaults, and the shrink check. Pure.

The merge rule: models are matched by (provider, model). Every default whose
(provider, model) appears among the remote models the client selected is replaced,
wholesale, by the remote entries with that key; defaults the remote does not mention are
kept. Entries are never merged field by field: a remote URL paired with a default's
SHA-256 would be a file nobody published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from repo_tools.compat import model_key
from repo_tools.findings import Finding, finding
from repo_tools.rules import client as rules


def merge_models(defaults: Iterable[Mapping[str, Any]],
                 remote: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Remote entries, then the defaults whose (provider, model) the remote does not have."""
    replaced = {model_key(m) for m in remote}
    return [dict(m) for m in remote] + [dict(m) for m in defaults
                                        if model_key(m) not in replaced]


def _download(model: Mapping[str, Any]) -> Mapping[str, Any]:
    download = model.get("download")
    return download if isinstance(download, Mapping) else {}


def drop_conflicts(models: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                               list[Finding]]:
    """Keep the first (best-ranked) of entries that would collide on the client: the same
    (provider, model, version), or one cachePath (case-insensitively, as on macOS and
    Windows) for different SHA-256 values, where one download would overwrite the other."""
    kept: list[dict[str, Any]] = []
    skipped: list[Finding] = []
    identities: set[tuple[str, str, str]] = set()
    paths: dict[str, str] = {}
    for model in models:
        provider, name = model_key(model)
        identity = (provider, name, str(model.get("version", "")))
        download = _download(model)
        cache_path = download.get("cachePath")
        sha256 = str(download.get("sha256", ""))
        label = f"{provider}/{name} {identity[2]}"
        if identity in identities:
            skipped.append(finding(rules.INVALID_MODEL, label,
                                   f"skipped {label}: a better-ranked entry has the same "
                                   "provider, model and version"))
            continue
        if isinstance(cache_path, str):
            folded = cache_path.casefold()
            if folded in paths and paths[folded] != sha256:
                skipped.append(finding(rules.INVALID_MODEL, label,
                                       f"skipped {label}: cachePath {cache_path!r} is used by "
                                       "a better-ranked entry for other content"))
                continue
            paths.setdefault(folded, sha256)
        identities.add(identity)
        kept.append(model)
    return kept, skipped


def dropped_models(before: Sequence[Mapping[str, Any]],
                   after: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """How many of `before`'s (provider, model) keys `after` no longer has, and of how
    many: a model listed in several versions counts once."""
    old = {model_key(m) for m in before}
    return len(old - {model_key(m) for m in after}), len(old)
