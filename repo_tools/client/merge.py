"""Merging remote models over the application's defaults, and the shrink check. Pure.

The merge rule: models are matched by (provider, model). Every default whose
(provider, model) appears among the remote models the client selected is replaced,
wholesale, by the remote entries with that key; defaults the remote does not mention are
kept. Entries are never merged field by field: a remote URL paired with a default's
SHA-256 would be a file nobody published.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from repo_tools.findings import Finding, finding
from repo_tools.model import ModelEntry
from repo_tools.rules import client as rules


def merge_models(defaults: Iterable[ModelEntry],
                 remote: Sequence[ModelEntry]) -> list[ModelEntry]:
    """Remote entries, then the defaults whose (provider, model) the remote does not have."""
    replaced = {m.key for m in remote}
    return [*remote, *(m for m in defaults if m.key not in replaced)]


def drop_conflicts(models: Sequence[ModelEntry]) -> tuple[list[ModelEntry], list[Finding]]:
    """Keep the first (best-ranked) of entries that would collide on the client: the same
    (provider, model, version), or one cachePath (case-insensitively, as on macOS and
    Windows) for different SHA-256 values, where one download would overwrite the other."""
    kept: list[ModelEntry] = []
    skipped: list[Finding] = []
    identities: set[tuple[str, str, str]] = set()
    paths: dict[str, str] = {}
    for model in models:
        label = model.describe()
        if model.identity in identities:
            skipped.append(finding(rules.INVALID_MODEL, label,
                                   f"skipped {label}: a better-ranked entry has the same "
                                   "provider, model and version"))
            continue
        cache_path = model.download.cache_path
        if cache_path is not None:
            folded = cache_path.casefold()
            sha256 = model.download.sha256 or ""
            if folded in paths and paths[folded] != sha256:
                skipped.append(finding(rules.INVALID_MODEL, label,
                                       f"skipped {label}: cachePath {cache_path!r} is used by "
                                       "a better-ranked entry for other content"))
                continue
            paths.setdefault(folded, sha256)
        identities.add(model.identity)
        kept.append(model)
    return kept, skipped


def dropped_models(before: Sequence[ModelEntry],
                   after: Sequence[ModelEntry]) -> tuple[int, int]:
    """How many of `before`'s (provider, model) keys `after` no longer has, and of how
    many: a model listed in several versions counts once."""
    old = {m.key for m in before}
    return len(old - {m.key for m in after}), len(old)


def shrink(before: Sequence[ModelEntry], after: Sequence[ModelEntry],
           max_drop_fraction: float) -> tuple[int, int] | None:
    """The shrink guard (C005): (dropped, of how many) when `after` drops more than
    `max_drop_fraction` of `before`'s models, else None. 1.0 turns it off. `release`
    and `resolve --previous` predict clients with this same function."""
    if max_drop_fraction >= 1.0:
        return None
    gone, total = dropped_models(before, after)
    share = gone / total if total else 0.0
    return (gone, total) if share > max_drop_fraction else None
