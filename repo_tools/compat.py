"""Client-version ranges and config-version selection: the one implementation.

Everything here is pure (no I/O), so the checks, `resolve`, the release diff and the
client library all make the same decision from the same code.

How versions compare
--------------------
Client versions are strict SemVer 2.0.0 and are compared by SemVer precedence alone
(`repo_tools.versions.version_key`), pre-releases included:

* a pre-release sorts below its release: ``2.0.0-rc.1 < 2.0.0``. So a bound of
  ``max_client_version: "2.0.0"`` admits every pre-release of 2.0.0, and a bound of
  ``min_client_version: "2.0.0"`` admits none of them. Pre-releases get no special
  treatment (unlike npm ranges): a bound is a point on the precedence line, nothing more;
* build metadata is ignored: client ``1.2.0+ci.7`` is the same client as ``1.2.0``.

Ranges
------
A set of client versions is held as half-open intervals ``low <= c < high`` on that
line. The closed range ``min..max`` of an index entry becomes ``[min, successor(max))``:
every SemVer version has an immediate successor (``1.2.0`` -> ``1.2.1-0``,
``1.2.0-rc.1`` -> ``1.2.0-rc.1.0``), so this is exact, and unions, intersections and
complements of such intervals are again such intervals. Nothing is ever sampled.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from repo_tools.model import EntrySummary, ModelEntry
from repo_tools.versions import VersionKey, is_semver, version_key

MIN_VERSION = "0.0.0-0"
"""The lowest SemVer version: every client version is at or above it."""


def normalise(version: str) -> str:
    """A client version without build metadata; ValueError if it is not strict SemVer."""
    version_key(version)  # raises ValueError with an explanation
    return version.split("+", 1)[0]


def successor(version: str) -> str:
    """The smallest version above `version` (nothing lies strictly between the two).

    For a release it is the lowest pre-release of the next patch (``1.2.0`` -> ``1.2.1-0``);
    for a pre-release it is that pre-release with a ``.0`` identifier appended
    (``1.2.0-rc.1`` -> ``1.2.0-rc.1.0``), since a longer identifier list with the same
    prefix sorts higher and ``0`` is the lowest identifier.
    """
    version = normalise(version)
    core, _, pre = version.partition("-")
    if pre:
        return f"{version}.0"
    major, minor, patch = core.split(".")
    return f"{major}.{minor}.{int(patch) + 1}-0"


def predecessor(version: str) -> str | None:
    """The largest version below `version`, or None where there is none.

    Only successors have one: most versions (``1.0.0``, ``2.0.0-0``) are preceded by an
    unbounded run of pre-releases.
    """
    version = normalise(version)
    core, _, pre = version.partition("-")
    if pre == "0":
        major, minor, patch = core.split(".")
        return f"{major}.{minor}.{int(patch) - 1}" if patch != "0" else None
    if pre.endswith(".0"):
        return version[: -len(".0")]
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class Interval:
    """The client versions c with ``low <= c < high``; ``high`` None means no upper bound.

    Both ends are normalised SemVer strings (no build metadata). Use `Interval.closed`
    to build one from inclusive bounds as written in index.json.
    """

    low: str
    high: str | None

    @classmethod
    def closed(cls, minimum: str | None, maximum: str | None) -> Interval | None:
        """``minimum <= c <= maximum`` (either bound may be None: unbounded), or None
        when no version satisfies it (minimum above maximum)."""
        low = normalise(minimum) if minimum is not None else MIN_VERSION
        high = successor(maximum) if maximum is not None else None
        interval = cls(low, high)
        return None if interval.is_empty() else interval

    def is_empty(self) -> bool:
        return self.high is not None and version_key(self.low) >= version_key(self.high)

    def contains(self, version: str) -> bool:
        key = version_key(version)
        return version_key(self.low) <= key and (
            self.high is None or key < version_key(self.high)
        )

    def intersect(self, other: Interval) -> Interval | None:
        low = max(self.low, other.low, key=version_key)
        highs = [h for h in (self.high, other.high) if h is not None]
        high = min(highs, key=version_key) if highs else None
        result = Interval(low, high)
        return None if result.is_empty() else result

    def witness(self) -> str:
        """A client version inside the interval, as plain as possible (a release if the
        interval holds one right at its start: ``1.2.1`` rather than ``1.2.1-0``)."""
        release = self.low.partition("-")[0]
        return release if self.contains(release) else self.low

    def describe(self) -> str:
        """The interval in words a reviewer reads: ``1.0.0 <= c <= 1.2.0``, ``c >= 1.1.0``.

        Exclusive upper ends are shown as ``<= predecessor`` where one exists, and a lower
        end that is a release's successor as ``> release``, so no ``-0`` versions appear
        in the common cases; the text is always exact.
        """
        lower: tuple[str, str] | None = None
        if self.low != MIN_VERSION:
            below = predecessor(self.low) if self.low.partition("-")[2] == "0" else None
            lower = (">", below) if below else (">=", self.low)
        upper: tuple[str, str] | None = None
        if self.high is not None:
            below = predecessor(self.high)
            upper = ("<=", below) if below else ("<", self.high)
        if lower and upper:
            flipped = {">": "<", ">=": "<="}[lower[0]]
            return f"{lower[1]} {flipped} c {upper[0]} {upper[1]}"
        if lower or upper:
            op, bound = lower or upper  # type: ignore[misc]
            return f"c {op} {bound}"
        return "every client version"


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """The union as sorted, disjoint, non-touching intervals."""
    ordered = sorted((i for i in intervals if not i.is_empty()),
                     key=lambda i: version_key(i.low))
    merged: list[Interval] = []
    for interval in ordered:
        last = merged[-1] if merged else None
        if last is None or (
            last.high is not None and version_key(interval.low) > version_key(last.high)
        ):
            merged.append(interval)
        elif last.high is not None and (
            interval.high is None or version_key(interval.high) > version_key(last.high)
        ):
            merged[-1] = Interval(last.low, interval.high)
    return merged


def overlaps(a: Sequence[Interval], b: Sequence[Interval]) -> bool:
    """Whether two sets of intervals share at least one client version."""
    return any(x.intersect(y) is not None for x in a for y in b)


# -- the index and the selection rule -------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class IndexEntry:
    """One entry of index.json: config version ``vX.Y.Z`` and the clients it admits."""

    config_version: str
    min_client_version: str
    max_client_version: str | None = None

    @property
    def client_range(self) -> Interval | None:
        """The clients this entry admits, or None when it admits none (min above max)."""
        return Interval.closed(self.min_client_version, self.max_client_version)

    def admits(self, client_version: str) -> bool:
        """The compatibility rule: ``min <= c`` and (max is null or ``c <= max``)."""
        key = version_key(client_version)
        return version_key(self.min_client_version) <= key and (
            self.max_client_version is None or key <= version_key(self.max_client_version)
        )


def is_config_version(name: object) -> bool:
    """Whether name is a config version directory/key: ``v`` + strict SemVer."""
    return isinstance(name, str) and name.startswith("v") and is_semver(name[1:])


def preference_key(entry: IndexEntry) -> tuple[VersionKey, str]:
    """Higher is preferred: SemVer precedence of the config version. Two names of equal
    precedence (differing only in build metadata, which check-index reports as I010)
    are ordered by name so that the choice is at least deterministic."""
    return (version_key(entry.config_version[1:]), entry.config_version)


def entries_from_index(versions: Mapping[str, Any]) -> list[IndexEntry]:
    """Index entries from parsed index.json: the whole document or its ``versions`` object.

    Entries that do not validate (bad name, bound not SemVer, not an object) are left
    out: they can never be selected. check-index reports each of them.
    """
    inner = versions.get("versions")
    if isinstance(inner, Mapping):
        versions = inner
    entries: list[IndexEntry] = []
    for name, value in versions.items():
        if not is_config_version(name) or not isinstance(value, Mapping):
            continue
        low, high = value.get("min_client_version"), value.get("max_client_version")
        if isinstance(low, str) and is_semver(low) and (high is None or is_semver(high)):
            entries.append(IndexEntry(name, low, high))
    return entries


IndexLike = Iterable[IndexEntry] | Mapping[str, Any]


def _entries(index_entries: IndexLike) -> list[IndexEntry]:
    if isinstance(index_entries, Mapping):
        return entries_from_index(index_entries)
    return list(index_entries)


def select_config_version(index_entries: IndexLike, client_version: str) -> str | None:
    """The config version client `client_version` uses, or None when none admits it.

    The candidates are the entries with ``min_client_version <= c`` and (``max_client_version``
    null or ``c <= max_client_version``); the one with the highest SemVer precedence wins.
    `index_entries` is a list of `IndexEntry` or parsed index.json (see
    `entries_from_index`). Raises ValueError if `client_version` is not strict SemVer.
    """
    client = normalise(client_version)
    candidates = [e for e in _entries(index_entries) if e.admits(client)]
    if not candidates:
        return None
    return max(candidates, key=preference_key).config_version


@dataclasses.dataclass(frozen=True, slots=True)
class Segment:
    """A maximal run of client versions that all get the same config version (or none)."""

    clients: Interval
    config_version: str | None


def selection_table(index_entries: IndexLike) -> list[Segment]:
    """The whole client-version line cut into segments, in client order, with the config
    version each one selects (None where no entry admits the clients).

    The segments are contiguous, start at `MIN_VERSION`, end unbounded, and adjacent
    segments differ in config version. Looking a client up in the table gives exactly
    `select_config_version`: between two consecutive range ends the set of admitting
    entries cannot change, and the winner among them is picked by the same
    `preference_key`. Runs in O(n log n) for n entries.
    """
    ranked = sorted(_entries(index_entries), key=preference_key)
    starts: dict[str, list[int]] = defaultdict(list)
    ends: dict[str, list[int]] = defaultdict(list)
    for rank, entry in enumerate(ranked):
        admitted = entry.client_range
        if admitted is None:
            continue
        starts[admitted.low].append(rank)
        if admitted.high is not None:
            ends[admitted.high].append(rank)
    points = sorted({MIN_VERSION, *starts, *ends}, key=version_key)
    active: set[int] = set()
    best: list[int] = []  # max-heap of ranks (negated), pruned lazily
    segments: list[Segment] = []
    for i, point in enumerate(points):
        active.difference_update(ends.get(point, ()))
        for rank in starts.get(point, ()):
            active.add(rank)
            heapq.heappush(best, -rank)
        while best and -best[0] not in active:
            heapq.heappop(best)
        winner = ranked[-best[0]].config_version if best else None
        high = points[i + 1] if i + 1 < len(points) else None
        if segments and segments[-1].config_version == winner:
            segments[-1] = Segment(Interval(segments[-1].clients.low, high), winner)
        else:
            segments.append(Segment(Interval(point, high), winner))
    return segments


def lookup(table: Sequence[Segment], client_version: str) -> str | None:
    """The config version a selection table gives one client."""
    for segment in table:
        if segment.clients.contains(client_version):
            return segment.config_version
    return None


def selected_ranges(table: Sequence[Segment]) -> dict[str, list[Interval]]:
    """For each config version that is selected at all, the client ranges that select it."""
    ranges: dict[str, list[Interval]] = defaultdict(list)
    for segment in table:
        if segment.config_version is not None:
            ranges[segment.config_version].append(segment.clients)
    return dict(ranges)


# -- models within a config version ---------------------------------------------------------


def model_client_range(model: ModelEntry | EntrySummary) -> Interval | None:
    """The clients a model entry's own ``compatibility`` admits (all, if it has none), or
    None if it admits none. Raises ValueError when a bound is not strict SemVer."""
    if not model.has_compatibility_object:
        raise ValueError("compatibility is not an object")
    low, high = model.min_client_version, model.max_client_version
    for bound in (low, high):
        if bound is not None and type(bound) is not str:
            raise ValueError(f"{bound!r} is not strict SemVer")
    return _closed(low, high)


@functools.lru_cache(maxsize=4096)
def _closed(low: str | None, high: str | None) -> Interval | None:
    # A repo repeats a handful of bounds across thousands of entries (a ValueError is not
    # cached, but bounds that are not SemVer are rare and validate reports them).
    for bound in (low, high):
        if bound is not None and not is_semver(bound):
            raise ValueError(f"{bound!r} is not strict SemVer")
    return Interval.closed(low, high)


def model_supports_platform(model: ModelEntry, platform: str | None) -> bool:
    """No platform asked for, or no ``supported_platforms`` list, means any platform.
    Otherwise the platform must be in the list, compared exactly (case-sensitive)."""
    if platform is None or model.platforms is None:
        return True
    return platform in model.platforms


ModelKey = tuple[str, str]  # (provider, model)


def _model_version_key(model: ModelEntry) -> VersionKey:
    return version_key(model.version) if is_semver(model.version) else (-1, 0, 0, 0, ())


def select_models(models: Sequence[ModelEntry], client_version: str,
                  platform: str | None = None) -> list[ModelEntry]:
    """The models of a config version that client `client_version` on `platform` may use,
    best first.

    A model is kept when its own ``compatibility`` range admits the client (same rule and
    precedence as the index) and, if a platform is given, `model_supports_platform`.
    Entries whose bounds are not SemVer are dropped (validate reports them). Order:
    ``ranking`` higher first; ties by ``provider``, then ``model`` (both by code point,
    ascending), then ``version`` (higher precedence first), then position in `models`.
    Raises ValueError if `client_version` is not strict SemVer.
    """
    client = normalise(client_version)
    kept: list[ModelEntry] = []
    for model in models:
        try:
            admitted = model_client_range(model)
        except ValueError:
            continue
        if admitted is not None and admitted.contains(client) and model_supports_platform(
            model, platform
        ):
            kept.append(model)
    # Two stable sorts: the secondary (version, descending) first, then the primary.
    kept.sort(key=_model_version_key, reverse=True)
    kept.sort(key=lambda m: (-m.ranking, *m.key))
    return kept


@dataclasses.dataclass(frozen=True, slots=True)
class Resolution:
    """What one client gets: the config version (None: no entry admits it) and its models."""

    client_version: str
    platform: str | None
    config_version: str | None
    models: list[ModelEntry]


def resolve(index_entries: IndexLike, models_of: Callable[[str], Sequence[ModelEntry]],
            client_version: str, platform: str | None = None) -> Resolution:
    """Select the config version, then its models: the whole decision for one client.

    `models_of(config_version)` returns every model entry of that config version (from
    a checkout, a verified bundle, a cache: the caller decides).
    """
    chosen = select_config_version(index_entries, client_version)
    models = select_models(models_of(chosen), client_version, platform) if chosen else []
    return Resolution(normalise(client_version), platform, chosen, models)
