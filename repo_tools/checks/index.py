"""`check-index`: index.json against the versions/ directories and against itself.

Loading (`load_index`) turns index.json into `IndexEntry` values plus findings; the range
analysis (`analyse`) is pure and works on whole client-version intervals from
`repo_tools.compat`, so its verdicts are exact, never sampled.
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import json
import operator
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from repo_tools import compat, schemas
from repo_tools import repo as repo_layout
from repo_tools.checks.publishable import publish_findings
from repo_tools.checks.summaries import (
    STALE_LIMIT,
    KeyIndex,
    SummaryCache,
    read_summaries,
)
from repo_tools.checks.validate import check_client_range, first_per_place, schema_findings
from repo_tools.compat import IndexEntry, Interval, Segment
from repo_tools.findings import Finding, Severity, finding, sort_findings
from repo_tools.jsonfile import JsonDocument, load_json_file, pointer_join
from repo_tools.model import EntrySummary
from repo_tools.rules import core
from repo_tools.rules import index as rules
from repo_tools.versions import explain_semver, is_semver, version_key


@dataclasses.dataclass(slots=True)
class LoadedIndex:
    """index.json as parsed: the valid entries, and whether every entry was valid."""

    doc: JsonDocument
    entries: list[IndexEntry]
    names: list[str]
    """Every key of `versions`, valid or not, in file order ([] if it is not an object)."""
    complete: bool
    """True when the index has no schema or value errors (min above max aside), so the
    range analysis describes what clients really do."""


def explain_config_name(name: str) -> str | None:
    """Why name is not a config version name (``v`` + strict SemVer), or None if it is."""
    if compat.is_config_version(name):
        return None
    if is_semver(name):
        return f"{name!r} has no 'v' prefix; name it 'v{name}'"
    if name[:1] == "V" and is_semver(name[1:]):
        return f"{name!r} has an upper-case 'V'; name it 'v{name[1:]}'"
    if name[:1] == "v" and name[1:]:
        return f"config version name: {explain_semver(name[1:])}"
    return f"{name!r} is not 'v' followed by a SemVer version, such as v1.2.0"


def load_index(repo: Path, base: Path) -> tuple[LoadedIndex | None, list[Finding]]:
    """Parse and validate repo/index.json (strict JSON, schema, bounds, names).

    Returns None as the index when the file is missing or cannot be parsed. Findings have
    paths relative to `base` and line/column positions.
    """
    path = repo / repo_layout.INDEX_FILE
    shown = repo_layout.display_path(path, base)
    if not path.exists():
        return None, [finding(rules.MISSING_INDEX, shown,
                              "index.json is missing: clients cannot select a config version")]
    doc, findings = load_json_file(path, shown)
    if doc is None:
        return None, findings
    data = doc.data
    versions = data.get("versions") if isinstance(data, dict) else None
    # Value findings first: their messages are more specific than the schema's.
    found = _value_findings(shown, versions) if isinstance(versions, dict) else []
    if not plainly_valid(data):  # the schema only has something to add then
        found.extend(f for f in schema_findings(shown, data, schemas.INDEX)
                     if f.rule != rules.BAD_VERSION_NAME.code)  # ours names the fix
    found = first_per_place(found)
    entries = compat.entries_from_index(versions) if isinstance(versions, dict) else []
    found.extend(_ambiguous_names(shown, entries))
    complete = isinstance(versions, dict) and not any(
        f.severity is Severity.ERROR and f.rule != core.MIN_ABOVE_MAX.code for f in found
    )
    names = list(versions) if isinstance(versions, dict) else []
    return LoadedIndex(doc, entries, names, complete), doc.locate(findings + found)


_ENTRY_KEYS = frozenset({"min_client_version", "max_client_version"})


def plainly_valid(data: Any) -> bool:
    """A quick test that implies the index schema has nothing to report.

    Most indexes are valid; this spares them importing jsonschema and walking 1,000
    entries with it (the hook's run time). It is at least as strict as the schema
    (tests check that), so anything it rejects gets the schema's full explanation.
    """
    if not isinstance(data, dict) or data.keys() != {"versions"}:
        return False
    versions = data["versions"]
    if not isinstance(versions, dict):
        return False
    for name, entry in versions.items():
        if not compat.is_config_version(name) or not isinstance(entry, dict):
            return False
        if not entry.keys() <= _ENTRY_KEYS or not is_semver(entry.get("min_client_version")):
            return False
        high = entry.get("max_client_version")
        if high is not None and not is_semver(high):
            return False
    return True


def _value_findings(path: str, versions: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    for name, value in versions.items():
        pointer = pointer_join("/versions", name)
        problem = explain_config_name(name)
        if problem:
            found.append(finding(rules.BAD_VERSION_NAME, path, problem, pointer))
        if isinstance(value, dict):
            found.extend(check_client_range(path, pointer, value))
    return found


def _ambiguous_names(path: str, entries: Sequence[IndexEntry]) -> list[Finding]:
    first: dict[Any, str] = {}
    found = []
    for entry in entries:
        earlier = first.setdefault(version_key(entry.config_version[1:]), entry.config_version)
        if earlier != entry.config_version:
            found.append(finding(
                rules.AMBIGUOUS_VERSION, path,
                f"{entry.config_version} and {earlier} differ only in build metadata, which "
                "SemVer precedence ignores: neither is the higher config version",
                pointer_join("/versions", entry.config_version)))
    return found


# -- the range analysis (pure) --------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Downgrade:
    """Clients in `newer` get an older config version than clients in `older` do."""

    older: Segment
    newer: Segment


@dataclasses.dataclass(frozen=True, slots=True)
class MajorOverlap:
    """Clients in `clients` are admitted by `lower` and by `higher`, whose config versions
    have different MAJORs (`lower`'s is the smaller)."""

    lower: IndexEntry
    higher: IndexEntry
    clients: Interval


@dataclasses.dataclass(slots=True)
class IndexAnalysis:
    table: list[Segment]
    downgrades: list[Downgrade]
    dead: list[IndexEntry]
    gaps: list[Interval]
    open_ended: list[IndexEntry]
    major_overlaps: list[MajorOverlap]

    @property
    def newest(self) -> str | None:
        """The config version the newest clients get (the table's unbounded end)."""
        return self.table[-1].config_version


def analyse(entries: Sequence[IndexEntry]) -> IndexAnalysis:
    """Every range verdict of check-index, computed exactly from the selection table."""
    table = compat.selection_table(entries)
    ranges = [r for r in (e.client_range for e in entries) if r is not None]
    return IndexAnalysis(
        table=table,
        downgrades=_downgrades(table, entries),
        dead=_dead(table, entries),
        gaps=_gaps(table, ranges),
        open_ended=[e for e in entries if e.max_client_version is None
                    and e.config_version != table[-1].config_version],
        major_overlaps=[o for o in major_overlaps(entries)
                        if not is_handover(o.lower, o.higher, o.clients)],
    )


def config_major(entry: IndexEntry) -> int:
    return version_key(entry.config_version[1:])[0]


def major_overlaps(entries: Sequence[IndexEntry]) -> list[MajorOverlap]:
    """For each entry whose clients are also admitted by an entry of a higher MAJOR, one
    such overlap (the first met in order of range start), with the clients they share.

    One report per lower entry, not per pair: an index whose ranges are all open-ended
    has a pair for nearly every two config versions (1,000 versions gave 450,999 findings
    and took seconds); fixing the lower entry's max_client_version fixes all its pairs.
    A sweep in order of range start keeps, per MAJOR, a heap of the ranges still open and
    the open ranges not yet reported, so every entry is handled a bounded number of times.
    """
    ranged = sorted(((e, r) for e in entries if (r := e.client_range) is not None),
                    key=lambda pair: version_key(pair[1].low))
    # Heap items: (end key, arrival, entry, range); an unbounded end sorts after all others.
    open_ranges: dict[int, list[tuple[tuple[Any, ...], int, IndexEntry, Interval]]] = {}
    unreported: dict[int, dict[int, tuple[tuple[Any, ...], IndexEntry, Interval]]] = {}
    found: list[MajorOverlap] = []
    for arrival, (entry, clients) in enumerate(ranged):
        start = (0, version_key(clients.low))
        major = config_major(entry)
        for heap in open_ranges.values():
            while heap and heap[0][0] <= start:  # ended before this range starts
                heapq.heappop(heap)
        # This entry as the higher one: every lower-MAJOR range still open and unreported.
        for other_major, waiting in unreported.items():
            if other_major >= major:
                continue
            for other_end, other, other_clients in waiting.values():
                if other_end > start:  # still open: it shares clients with this one
                    shared = clients.intersect(other_clients)
                    assert shared is not None
                    found.append(MajorOverlap(other, entry, shared))
            waiting.clear()  # reported now, or ended (it can meet no later range)
        # This entry as the lower one: any open range of a higher MAJOR.
        higher = next((heap[0] for other_major, heap in sorted(open_ranges.items())
                       if other_major > major and heap), None)
        end = (1,) if clients.high is None else (0, version_key(clients.high))
        if higher is not None:
            shared = clients.intersect(higher[3])
            assert shared is not None  # it is still open at clients.low
            found.append(MajorOverlap(entry, higher[2], shared))
        else:
            unreported.setdefault(major, {})[arrival] = (end, entry, clients)
        heapq.heappush(open_ranges.setdefault(major, []), (end, arrival, entry, clients))
    return found


def _downgrades(table: Sequence[Segment], entries: Sequence[IndexEntry]) -> list[Downgrade]:
    """Segments whose config version is below the best one any older segment gets; each
    is paired with the nearest older segment that gets that best one. One report per pair
    of config versions."""
    rank = {e.config_version: compat.preference_key(e) for e in entries}
    found: list[Downgrade] = []
    reported: set[tuple[str, str]] = set()
    top: Segment | None = None
    for segment in table:
        if segment.config_version is None:
            continue
        if top is None or rank[segment.config_version] >= rank[top.config_version or ""]:
            top = segment
            continue
        pair = (top.config_version or "", segment.config_version)
        if pair not in reported:
            reported.add(pair)
            found.append(Downgrade(top, segment))
    return found


def _dead(table: Sequence[Segment], entries: Sequence[IndexEntry]) -> list[IndexEntry]:
    selected = {s.config_version for s in table}
    return [e for e in entries if e.client_range is not None and e.config_version not in selected]


def _gaps(table: Sequence[Segment], ranges: Sequence[Interval]) -> list[Interval]:
    """Unadmitted client ranges between the lowest minimum and the highest maximum."""
    if not ranges:
        return []
    low = min((r.low for r in ranges), key=version_key)
    highs = [r.high for r in ranges]
    high = None if None in highs else max((h for h in highs if h), key=version_key)
    span = Interval(low, high)
    gaps = []
    for segment in table:
        if segment.config_version is None:
            gap = segment.clients.intersect(span)
            if gap is not None:
                gaps.append(gap)
    return gaps


def range_findings(path: str, entries: Sequence[IndexEntry],
                   analysis: IndexAnalysis) -> list[Finding]:
    """The findings for an analysis, on index.json (pointers; not yet located)."""
    by_name = {e.config_version: e for e in entries}
    selected = compat.selected_ranges(analysis.table)
    found: list[Finding] = []
    for down in analysis.downgrades:
        old_client, new_client = down.older.clients.witness(), down.newer.clients.witness()
        found.append(finding(
            rules.NON_MONOTONIC, path,
            f"client {new_client} gets {down.newer.config_version} but the older client "
            f"{old_client} already gets {down.older.config_version}: upgrading the client "
            f"would downgrade its config ({down.newer.clients.describe()} get "
            f"{down.newer.config_version})",
            _bound_pointer(down.newer.config_version or "", "max_client_version")))
    for entry in analysis.dead:
        admitted = entry.client_range
        assert admitted is not None
        winners = sorted({s.config_version for s in segments_within(analysis.table, admitted)
                          if s.config_version},
                         key=lambda v: compat.preference_key(by_name[v]))
        found.append(finding(
            rules.DEAD_VERSION, path,
            f"{entry.config_version} admits {admitted.describe()} but no client ever selects "
            f"it: higher config versions ({', '.join(winners)}) win over that whole range",
            pointer_join("/versions", entry.config_version)))
    ending_at, starting_at = {}, {}
    for entry in reversed(entries):
        if entry.client_range is not None:
            starting_at[entry.client_range.low] = entry.config_version
        admitted = entry.client_range
        if admitted is not None and admitted.high is not None:
            ending_at[admitted.high] = entry.config_version
    for gap in analysis.gaps:
        before = ending_at.get(gap.low)
        pointer = _bound_pointer(before, "max_client_version") if before else "/versions"
        found.append(finding(
            rules.GAP, path,
            f"no config version admits clients {gap.describe()}: they get no configuration"
            + (_prerelease_hint(gap) or _widen_hint(before, gap, starting_at)), pointer))
    for overlap in analysis.major_overlaps:
        lower, higher = overlap.lower.config_version, overlap.higher.config_version
        found.append(finding(
            rules.MAJOR_OVERLAP, path,
            f"{_clients_are(overlap.clients)} admitted by both {lower} and {higher}: "
            f"they get MAJOR {config_major(overlap.higher)} (or higher), a breaking config "
            f"for a client built for MAJOR {config_major(overlap.lower)}",
            _bound_pointer(lower, "max_client_version")))
    for entry in analysis.open_ended:
        ranges = selected.get(entry.config_version, [])
        where = (f"it is selected only for {'; '.join(r.describe() for r in ranges)}"
                 if ranges else "it is never selected")
        last_high = ranges[-1].high if ranges else None
        fix = (handover_hint(entry.config_version, last_high, starting_at.get(last_high))
               if last_high is not None else "set its max_client_version")
        found.append(finding(
            rules.OPEN_ENDED, path,
            f"{entry.config_version} has no max_client_version (open-ended), but the newest "
            f"clients get {analysis.newest}; {where}. To end it, {fix}",
            _bound_pointer(entry.config_version, "max_client_version")))
    return found


def _clients_are(clients: Interval) -> str:
    if clients.high is not None and clients.high == compat.successor(clients.low):
        return f"client {clients.low} is"  # not "1.4.0 <= c <= 1.4.0"
    return f"clients {clients.describe()} are"


def _prerelease_hint(gap: Interval) -> str:
    """Gaps of only pre-releases come from ranges that meet at a release, which SemVer
    precedence puts after its pre-releases; say so, since it surprises people."""
    if gap.high is None or "-" in gap.high or gap.low.partition("-")[0] != gap.high:
        return ""
    return (f" (only pre-releases of {gap.high}, which sort below {gap.high}; to give them "
            f"a config, lower the next min_client_version to {gap.high}-0)")


def closing_max(high: str) -> str:
    """The inclusive max_client_version that reaches up to `high` (exclusive): high's
    predecessor where it has one (`1.4.1-0` -> `1.4.0`); for a release, the `X.Y.Z-0`
    idiom (`3.0.0` -> `3.0.0-0`, see `handover_hint`); else high itself."""
    below = compat.predecessor(high)
    if below is not None:
        return below
    return f"{high}-0" if "-" not in high else high


def is_handover(lower: IndexEntry, higher: IndexEntry, clients: Interval) -> bool:
    """The `X.Y.Z-0` handover: lower's max and higher's min are one `X.Y.Z-0` version,
    and that one version is all they share. Clients from X.Y.Z's first pre-release up get
    the higher config version (it wins there), every version below gets the lower one:
    the nearest inclusive bounds come to "everything below X.Y.Z" (no inclusive max can
    end right below a `-0` version)."""
    point = lower.max_client_version
    return (point is not None and point == higher.min_client_version
            and point.endswith("-0") and point.count("-") == 1
            and clients == Interval(point, compat.successor(point)))


def handover_hint(lower: str, high: str, higher: str | None) -> str:
    """How to make `lower`'s range reach `high`, where `higher` (if any) starts."""
    value = closing_max(high)
    if value == high or compat.predecessor(high) is not None or higher is None:
        return f"set {lower}'s max_client_version to {json.dumps(value)}"
    return (f"set {lower}'s max_client_version and {higher}'s min_client_version both to "
            f"{json.dumps(value)}: {value} is the lowest version of {high}, so {lower} gets "
            f"every client below {high} and {higher} every {high} pre-release (an "
            "inclusive max such as X.99.99 leaves versions out)")


def _widen_hint(before: str | None, gap: Interval, starting_at: Mapping[str, str]) -> str:
    if before is None or gap.high is None:
        return ""
    return (f"; if those clients should get {before}, "
            f"{handover_hint(before, gap.high, starting_at.get(gap.high))}")


def segments_within(table: Sequence[Segment], clients: Interval) -> list[Segment]:
    """The segments of a selection table that share client versions with `clients`."""
    lows = [version_key(s.clients.low) for s in table]
    first = max(bisect.bisect_right(lows, version_key(clients.low)) - 1, 0)
    found = []
    for segment in table[first:]:
        if clients.high is not None and version_key(segment.clients.low) >= version_key(
            clients.high
        ):
            break
        found.append(segment)
    return found


def _bound_pointer(config_version: str, key: str) -> str:
    # JsonDocument.locate falls back to the entry when the key is absent.
    return pointer_join("/versions", config_version, key)


# -- directories and models -----------------------------------------------------------------


def _version_dir_names(repo: Path) -> list[str]:
    return [p.name for p in repo_layout.version_dirs(repo) if not p.name.startswith(".")]


def directory_findings(repo: Path, base: Path, index: LoadedIndex) -> list[Finding]:
    """Index entries without a directory and directories without an entry."""
    path = index.doc.path
    dirs = _version_dir_names(repo)
    listed = set(index.names)
    found: list[Finding] = []
    versions_dir = repo / repo_layout.VERSIONS_DIR
    present = set(dirs)
    for name in index.names:
        if name not in present:
            found.append(finding(
                rules.MISSING_VERSION_DIR, path,
                f"{name} is listed in index.json but {repo_layout.VERSIONS_DIR}/{name}/ "
                "does not exist", pointer_join("/versions", name)))
        elif not repo_layout.model_names_in(versions_dir / name / repo_layout.MODELS_DIR):
            # A release carries no archive for it, and clients it selects would get no
            # models at all: as broken as a missing folder.
            found.append(finding(
                rules.MISSING_VERSION_DIR, path,
                f"{name} is listed in index.json but {repo_layout.VERSIONS_DIR}/{name}/"
                f"{repo_layout.MODELS_DIR}/ holds no model file (*.json)",
                pointer_join("/versions", name)))
    for name in dirs:
        if name in listed:
            continue
        found.append(finding(
            rules.UNINDEXED_VERSION_DIR, path,
            f"{repo_layout.VERSIONS_DIR}/{name}/ has no entry in index.json: no client can "
            "get it", "/versions"))
        problem = explain_config_name(name)
        if problem:
            shown = repo_layout.display_path(versions_dir / name, base)
            found.append(finding(rules.BAD_VERSION_NAME, shown, f"directory {problem}"))
    return found


@dataclasses.dataclass(slots=True)
class ModelScan:
    findings: list[Finding]
    files: int


def unreachable_models(repo: Path, base: Path, entries: Sequence[IndexEntry],
                       table: Sequence[Segment]) -> ModelScan:
    """Models whose own client range misses every client their config version serves.

    Config versions that are never selected are skipped (I006 covers them), and so are
    files that do not parse (validate reports those). Each file is read through its
    summary (`checks.summaries`: cached between runs, so an unchanged file is not
    opened); only a file with a finding is parsed again, for its positions. `lint`, which
    has every summary in hand from validate, calls `unreachable_findings` per config
    version instead (see `run_check_index(scan_models=False)`).
    """
    selected = compat.selected_ranges(table)
    found: list[Finding] = []
    files = 0
    for entry in entries:
        ranges = selected.get(entry.config_version)
        models_dir = repo / repo_layout.VERSIONS_DIR / entry.config_version / repo_layout.MODELS_DIR
        if not ranges or not models_dir.is_dir():
            continue
        shown_dir = repo_layout.display_path(models_dir, base).rstrip("/") + "/"
        names = sorted(repo_layout.model_names_in(models_dir))
        reaches: dict[Interval, bool] = {}
        files += len(names)
        index = KeyIndex.load(models_dir, len(names))
        suspects = _suspects(index, models_dir, names, ranges, reaches) if index else None
        if suspects is not None:
            for name in suspects:
                real, shown = os.path.join(models_dir, name), shown_dir + name
                found.extend(unreachable_findings(read_summaries(real, shown),
                                                  entry.config_version, ranges, {shown: real},
                                                  reaches))
            continue
        summaries = SummaryCache(models_dir, len(names))
        for name in names:
            real, shown = os.path.join(models_dir, name), shown_dir + name
            found.extend(unreachable_findings(summaries.models(real, shown),
                                              entry.config_version, ranges, {shown: real},
                                              reaches))
        summaries.save(set(names))
    return ModelScan(found, files)


def _suspects(index: KeyIndex, models_dir: Path, names: list[str], ranges: list[Interval],
              reaches: dict[Interval, bool]) -> list[str] | None:
    """The files of a models directory that may hold an unreachable model: by its key
    index, those holding a client range that misses `ranges`, and every file changed since
    the index was written; None when too many changed for the index to be worth it."""
    stale = index.changed(models_dir, set(names))
    if len(stale) > max(STALE_LIMIT, len(names) // 10):
        return None
    wanted = set(stale)
    for (low, high), numbers in index.ranges.items():
        try:
            own = compat.model_client_range(
                EntrySummary("", "", "", "", "", None, None, low, high))
        except ValueError:
            continue  # not SemVer: validate's to report, as the full scan skips it
        if own is None:
            continue
        met = reaches.get(own)
        if met is None:
            met = reaches[own] = compat.overlaps([own], ranges)
        if not met:
            wanted.update(index.names[n] for n in numbers)
    present = set(names)
    return sorted(name for name in wanted if name in present)


def unreachable_findings(models: Sequence[EntrySummary], config_version: str,
                         ranges: list[Interval], files: Mapping[str, str],
                         reaches: dict[Interval, bool] | None = None) -> list[Finding]:
    """I008 for the entries of one config version's files, located: `files` maps each
    entry's shown path to the file to parse again for positions (only files with a
    finding are)."""
    here = _unreachable_in(models, config_version, ranges, {} if reaches is None else reaches)
    if not here:
        return []
    by_file: dict[str, list[Finding]] = {}
    for f in here:
        by_file.setdefault(f.path, []).append(f)
    located: list[Finding] = []
    for shown, found in by_file.items():
        doc, _ = load_json_file(Path(files.get(shown, shown)), shown)
        located.extend(doc.locate(found) if doc is not None else found)
    return located


def _unreachable_in(models: Sequence[EntrySummary], config_version: str,
                    ranges: list[Interval], reaches: dict[Interval, bool]) -> list[Finding]:
    """`reaches`: whether a model range meets `ranges`, remembered across the config
    version's files (its entries share a few ranges)."""
    # lint hands over every entry of a config version (30,000 at 10,000 files), and they
    # repeat a handful of bounds: each pair as written is measured once, gathered without
    # a Python-level step per entry. Most versions miss nothing and are done then.
    try:
        written = set(map(_BOUNDS, models))
    except TypeError:  # a bound that is a list or an object (validate reports it)
        written = None
    if written is not None and not any(_misses(*bounds, ranges, reaches)
                                       for bounds in written):
        return []
    found = []
    for model in models:
        try:
            own = compat.model_client_range(model)
        except ValueError:
            continue
        if own is None:
            continue
        met = reaches.get(own)
        if met is None:
            met = reaches[own] = compat.overlaps([own], ranges)
        if met:
            continue
        name = f"{model.provider or '?'}/{model.model or '?'} {model.version}"
        found.append(finding(
            rules.UNREACHABLE_MODEL, model.path,
            f"{name.strip()} is for clients {own.describe()}, but {config_version} is "
            f"selected only for {'; '.join(r.describe() for r in ranges)}: no client ever "
            "gets this model", f"{model.pointer}/compatibility"))
    return found


_BOUNDS = operator.attrgetter("min_client_version", "max_client_version",
                              "has_compatibility_object")


def _misses(low: Any, high: Any, is_object: bool, ranges: list[Interval],
            reaches: dict[Interval, bool]) -> bool:
    """Whether an entry with these bounds gets I008: its own client range (when it has a
    valid one that admits some client) meets none of `ranges`."""
    try:
        own = compat.model_client_range(
            EntrySummary("", "", "", "", "", None, None, low, high, is_object))
    except ValueError:
        return False
    if own is None:
        return False
    met = reaches.get(own)
    if met is None:
        met = reaches[own] = compat.overlaps([own], ranges)
    return not met


# -- the whole check ------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class IndexCheck:
    findings: list[Finding]
    files: int
    # Config version -> the client ranges it is selected for: what the unreachable-model
    # rule (I008) measures a model's own range against.
    selected: dict[str, list[Interval]] = dataclasses.field(default_factory=dict)


def run_check_index(repo: Path, base: Path, *, scan_models: bool = True) -> IndexCheck:
    """Every index check; `files` counts index.json and the model files read.

    With `scan_models=False` the model files are not read: the caller, which reads them
    anyway, applies I008 with `unreachable_findings` and the returned `selected`."""
    index, findings = load_index(repo, base)
    # What a release would refuse to take (model files' contents are validate's to scan).
    findings.extend(publish_findings(repo, base, model_files=False))
    if index is None:
        return IndexCheck(sort_findings(findings), 1)
    on_index = directory_findings(repo, base, index)
    files = 1
    selected: dict[str, list[Interval]] = {}
    if index.complete and not index.entries:
        on_index.append(finding(rules.EMPTY_INDEX, index.doc.path,
                                "index.json lists no config version: no client gets a config",
                                "/versions"))
    elif index.complete:
        analysis = analyse(index.entries)
        on_index.extend(range_findings(index.doc.path, index.entries, analysis))
        if scan_models:
            scan = unreachable_models(repo, base, index.entries, analysis.table)
            findings.extend(scan.findings)
            files += scan.files
        selected = compat.selected_ranges(analysis.table)
    findings.extend(index.doc.locate(on_index))
    return IndexCheck(sort_findings(findings), files, selected)


def check_index(repo: Path, base: Path) -> list[Finding]:
    """Every index check on the repo at `repo`; paths are shown relative to `base`."""
    return run_check_index(repo, base).findings
