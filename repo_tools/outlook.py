"""What clients will do with a new snapshot of a config repo, compared with an old one.

The client-version line is first cut where either index's selection changes; a stretch
where both snapshots select the same config version with the same entries is skipped
(every client there gets the same answer from both). The other stretches are cut again at
the bounds of the models the two sides select there, so that inside one piece every
client version, on every platform, gets the same answer from `compat.resolve`; each piece
is then resolved once, at its lowest version, for the platforms those models name.
`repo-tools diff`, the release's shrink guard and `resolve --bundle` read these answers.
Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator

from repo_tools import compat
from repo_tools.client.merge import shrink
from repo_tools.client.options import ClientConfig
from repo_tools.compat import Interval, Resolution
from repo_tools.model import ModelEntry
from repo_tools.snapshot import RepoSnapshot
from repo_tools.versions import version_key

DEFAULT_MAX_DROP_FRACTION = ClientConfig().max_drop_fraction
"""The shrink guard a client applies unless its maker changed `max_drop_fraction`."""

SameEntries = Callable[[str], bool]
"""Whether a config version has the same entries on both sides (given by a caller that
can tell from the files' bytes, without parsing them)."""


def _entries(snapshot: RepoSnapshot) -> list[compat.IndexEntry]:
    return snapshot.entries or []


def _model_bounds(models: Iterable[ModelEntry]) -> set[str]:
    points: set[str] = set()
    for model in models:
        try:
            admitted = compat.model_client_range(model)
        except ValueError:
            continue
        if admitted is not None:
            points.add(admitted.low)
            if admitted.high is not None:
                points.add(admitted.high)
    return points


def _cut(stretch: Interval, points: Iterable[str]) -> list[Interval]:
    inside = sorted({p for p in points if stretch.contains(p)} | {stretch.low}, key=version_key)
    return [Interval(low, inside[i + 1] if i + 1 < len(inside) else stretch.high)
            for i, low in enumerate(inside)]


@dataclasses.dataclass(frozen=True, slots=True)
class Piece:
    """Client versions that get one answer from each side: `before` and `after` are the
    config versions selected (None: none)."""

    clients: Interval
    before: str | None
    after: str | None


def changed_pieces(old: RepoSnapshot, new: RepoSnapshot,
                   same_entries: SameEntries | None = None) -> Iterator[Piece]:
    """The pieces where a client may see a change, in client order: its config version
    differs, or that config version's entries do."""
    old_entries, new_entries = _entries(old), _entries(new)
    lows = {s.clients.low for s in compat.selection_table(old_entries)}
    lows |= {s.clients.low for s in compat.selection_table(new_entries)}
    ordered = sorted(lows | {compat.MIN_VERSION}, key=version_key)
    same: dict[str, bool] = {}

    def unchanged(config_version: str) -> bool:
        if config_version not in same:
            same[config_version] = (same_entries(config_version) if same_entries else
                                    [m.raw for m in old.models_of(config_version)]
                                    == [m.raw for m in new.models_of(config_version)])
        return same[config_version]

    for i, low in enumerate(ordered):
        stretch = Interval(low, ordered[i + 1] if i + 1 < len(ordered) else None)
        before = compat.select_config_version(old_entries, low)
        after = compat.select_config_version(new_entries, low)
        if before == after and (before is None or unchanged(before)):
            continue
        points: set[str] = set()
        if before is not None:
            points |= _model_bounds(old.models_of(before))
        if after is not None:
            points |= _model_bounds(new.models_of(after))
        for piece in _cut(stretch, points):
            yield Piece(piece, before, after)


OTHER_PLATFORMS = "\x00other"
"""Stands for every platform no model names: such a client gets only the models that
have no `supported_platforms` list (no model lists this name)."""


def platforms_of(*model_lists: Iterable[ModelEntry]) -> list[str | None]:
    """None (a client that names no platform: every model), every platform the models
    list, and `OTHER_PLATFORMS` for all the rest (each of them gets the same answer)."""
    named: set[str] = set()
    for models in model_lists:
        for model in models:
            named.update(p for p in model.platforms or () if isinstance(p, str))
    return [None, *sorted(named), OTHER_PLATFORMS]


def resolve(snapshot: RepoSnapshot, client_version: str, platform: str | None) -> Resolution:
    return compat.resolve(_entries(snapshot), snapshot.models_of, client_version, platform)


@dataclasses.dataclass(frozen=True, slots=True)
class Shrink:
    """Clients in `clients` on `platform` would refuse the new snapshot (C005): it drops
    `gone` of the `total` models the old one gives them."""

    clients: Interval
    platform: str | None
    gone: int
    total: int
    config_before: str | None
    config_after: str | None

    def describe(self) -> str:
        where = ("" if self.platform is None else " on platforms their models do not name"
                 if self.platform == OTHER_PLATFORMS else f" on {self.platform}")
        config = (f"config {self.config_after}" if self.config_before == self.config_after
                  else f"config {self.config_before} -> {self.config_after}")
        return (f"clients {self.clients.describe()}{where} would lose {self.gone} of their "
                f"{self.total} models ({self.gone / self.total:.0%}; {config})")


def shrinks(old: RepoSnapshot, new: RepoSnapshot,
            max_drop_fraction: float = DEFAULT_MAX_DROP_FRACTION, *,
            same_entries: SameEntries | None = None) -> list[Shrink]:
    """Where a client whose last known good config is `old` refuses `new` by the client's
    own shrink guard (`client.merge.shrink`), by platform, adjacent pieces with the same
    verdict joined."""
    by_platform: dict[str | None, list[Shrink]] = {}
    for changed in changed_pieces(old, new, same_entries):
        piece = changed.clients
        names = platforms_of(old.models_of(changed.before) if changed.before else [],
                             new.models_of(changed.after) if changed.after else [])
        for platform in names:
            before = resolve(old, piece.low, platform)
            after = resolve(new, piece.low, platform)
            if after.config_version is None:
                continue  # the client keeps its config for another reason (C004)
            dropped = shrink(before.models, after.models, max_drop_fraction)
            if dropped is None:
                continue
            verdict = Shrink(piece, platform, *dropped, before.config_version,
                             after.config_version)
            runs = by_platform.setdefault(platform, [])
            if runs and _same(runs[-1], verdict) and runs[-1].clients.high == piece.low:
                verdict = dataclasses.replace(verdict,
                                              clients=Interval(runs[-1].clients.low,
                                                               piece.high))
                runs[-1] = verdict
            else:
                runs.append(verdict)
    # A platform whose clients lose what clients naming no platform lose says nothing new.
    anywhere = {(s.clients, s.gone, s.total) for s in by_platform.get(None, [])}
    return [s for platform, runs in by_platform.items() for s in runs
            if platform is None or (s.clients, s.gone, s.total) not in anywhere]


def _same(a: Shrink, b: Shrink) -> bool:
    return (a.gone, a.total, a.config_before, a.config_after) == (
        b.gone, b.total, b.config_before, b.config_after)
