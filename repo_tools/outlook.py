"""What clients will do with a new snapshot of a config repo, compared with an old one.

The client-version line is cut at every bound that either snapshot has (index ranges and
the models' own ranges), so that inside one piece every client version, on every
platform, gets the same answer from `compat.resolve`; each piece is then resolved once,
at its lowest version, for the platforms the models name. `repo-tools diff`, the
release's shrink guard and `resolve --previous` all read these answers. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from repo_tools import compat
from repo_tools.client.merge import shrink
from repo_tools.client.options import ClientConfig
from repo_tools.compat import Interval, Resolution
from repo_tools.model import ModelEntry
from repo_tools.snapshot import RepoSnapshot
from repo_tools.versions import version_key

DEFAULT_MAX_DROP_FRACTION = ClientConfig().max_drop_fraction
"""The shrink guard a client applies unless its maker changed `max_drop_fraction`."""


def _entries(snapshot: RepoSnapshot) -> list[compat.IndexEntry]:
    return snapshot.entries or []


def _selected(snapshot: RepoSnapshot) -> set[str]:
    return {s.config_version for s in compat.selection_table(_entries(snapshot))
            if s.config_version is not None}


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


def pieces(*snapshots: RepoSnapshot) -> list[Interval]:
    """The client-version line cut at every bound of the snapshots, in client order: no
    index range nor model range starts or ends inside a piece."""
    points = {compat.MIN_VERSION}
    for snapshot in snapshots:
        for segment in compat.selection_table(_entries(snapshot)):
            points.add(segment.clients.low)
        for config_version in _selected(snapshot):
            points |= _model_bounds(snapshot.models_of(config_version))
    ordered = sorted(points, key=version_key)
    return [Interval(low, ordered[i + 1] if i + 1 < len(ordered) else None)
            for i, low in enumerate(ordered)]


def platforms(*snapshots: RepoSnapshot) -> list[str | None]:
    """None (a client that names no platform) and every platform a selected model lists:
    any other platform is answered as a listed platform is by models without a list."""
    named: set[str] = set()
    for snapshot in snapshots:
        for config_version in _selected(snapshot):
            for model in snapshot.models_of(config_version):
                named.update(p for p in model.platforms or () if isinstance(p, str))
    return [None, *sorted(named)]


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
        where = f" on {self.platform}" if self.platform is not None else ""
        config = (f"config {self.config_after}" if self.config_before == self.config_after
                  else f"config {self.config_before} -> {self.config_after}")
        return (f"clients {self.clients.describe()}{where} would lose {self.gone} of their "
                f"{self.total} models ({self.gone / self.total:.0%}; {config})")


def shrinks(old: RepoSnapshot, new: RepoSnapshot,
            max_drop_fraction: float = DEFAULT_MAX_DROP_FRACTION) -> list[Shrink]:
    """Where a client whose last known good config is `old` refuses `new` by the client's
    own shrink guard (`client.merge.shrink`), by platform, adjacent pieces with the same
    verdict joined."""
    by_platform: dict[str | None, list[Shrink]] = {}
    for piece in pieces(old, new):
        for platform in platforms(old, new):
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
