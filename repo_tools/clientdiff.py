"""`repo-tools diff`: what clients will see change between two snapshots of a config repo.

The diff is a pure function of two `RepoSnapshot`s. The client-version line is cut where
either snapshot has a bound (`outlook.changed_pieces`); each piece is resolved once in each
snapshot (no platform: every model a client of that version may get), and adjacent
pieces with the same change are joined into one segment. Only segments where the
selected config version or its model list changes are kept.

JSON (stable; `format_version` changes if a field's meaning ever does):

    {"format_version": 1,
     "segments": [{"clients": {"min": "1.0.0", "max": "1.4.0", "text": "1.0.0 <= c <= 1.4.0"},
                   "config_before": "v1.0.0", "config_after": "v1.1.0",
                   "added": [MODEL], "removed": [MODEL],
                   "changed": [MODEL + {"fields": ["url", "sha256", ...]}]}],
     "index": [{"config_version": "v1.1.0", "before": "c >= 1.1.0", "after": "..."}]}

MODEL is {"provider", "model", "version"}. `clients.min` is the inclusive lower bound,
`clients.max` the inclusive upper bound (null: unbounded; a bound with no inclusive form
is given as `max_below`, exclusive, instead). `config_before`/`config_after` null: those
clients get no config on that side (they start or stop getting one).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from repo_tools import compat, outlook
from repo_tools.compat import Interval
from repo_tools.model import ModelEntry
from repo_tools.report import md_cell
from repo_tools.snapshot import RepoSnapshot

FORMAT_VERSION = 1
FIELDS = ("url", "sha256", "size", "cachePath", "ranking", "compatibility", "other")
"""The fields a changed model can name, in this order: download.url, download.sha256,
download.size, download.cachePath, ranking, compatibility (client range or platforms),
other (anything else in the entry, e.g. metadata)."""

Identity = tuple[str, str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class ModelChange:
    identity: Identity  # provider, model, version
    fields: tuple[str, ...] = ()

    def label(self) -> str:
        provider, model, version = self.identity
        return f"{provider}/{model} {version}"


@dataclasses.dataclass(frozen=True, slots=True)
class SegmentChange:
    clients: Interval
    config_before: str | None
    config_after: str | None
    added: tuple[ModelChange, ...]
    removed: tuple[ModelChange, ...]
    changed: tuple[ModelChange, ...]

    def same_change(self, other: SegmentChange) -> bool:
        return (self.config_before, self.config_after, self.added, self.removed,
                self.changed) == (other.config_before, other.config_after, other.added,
                                  other.removed, other.changed)


@dataclasses.dataclass(frozen=True, slots=True)
class IndexRangeChange:
    config_version: str
    before: str | None  # the admitted clients in words; None: no entry
    after: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ClientDiff:
    segments: tuple[SegmentChange, ...]
    index: tuple[IndexRangeChange, ...]

    @property
    def empty(self) -> bool:
        return not self.segments and not self.index


def _section(entry: ModelEntry, key: str) -> Mapping[str, Any]:
    value = entry.raw.get(key)
    return value if isinstance(value, Mapping) else {}


def changed_fields(old: ModelEntry, new: ModelEntry) -> tuple[str, ...]:
    """Which of `FIELDS` differ between two entries of one identity."""
    before, after = _section(old, "download"), _section(new, "download")
    found = [name for name, key in (("url", "url"), ("sha256", "sha256"), ("size", "size"),
                                    ("cachePath", "cachePath"))
             if before.get(key) != after.get(key)]
    if old.raw.get("ranking", 0) != new.raw.get("ranking", 0):
        found.append("ranking")
    if _section(old, "compatibility") != _section(new, "compatibility"):
        found.append("compatibility")
    known = {"download", "ranking", "compatibility"}
    if ({k: v for k, v in old.raw.items() if k not in known}
            != {k: v for k, v in new.raw.items() if k not in known}):
        found.append("other")
    return tuple(found)


def _by_identity(models: Iterable[ModelEntry]) -> dict[Identity, ModelEntry]:
    found: dict[Identity, ModelEntry] = {}
    for model in models:
        found.setdefault(model.identity, model)  # the best-ranked of duplicates, as served
    return found


def compare_models(before: Sequence[ModelEntry], after: Sequence[ModelEntry]) -> tuple[
        tuple[ModelChange, ...], tuple[ModelChange, ...], tuple[ModelChange, ...]]:
    """(added, removed, changed) between two model lists, each sorted by identity."""
    old, new = _by_identity(before), _by_identity(after)
    added = tuple(ModelChange(i) for i in sorted(new.keys() - old.keys()))
    removed = tuple(ModelChange(i) for i in sorted(old.keys() - new.keys()))
    changed = tuple(ModelChange(i, fields) for i in sorted(old.keys() & new.keys())
                    if (fields := changed_fields(old[i], new[i])))
    return added, removed, changed


def _index_changes(old: RepoSnapshot, new: RepoSnapshot) -> list[IndexRangeChange]:
    def ranges(snapshot: RepoSnapshot) -> dict[str, str]:
        return {e.config_version: (e.client_range.describe() if e.client_range
                                   else "no clients") for e in snapshot.entries or []}

    before, after = ranges(old), ranges(new)
    return [IndexRangeChange(cv, before.get(cv), after.get(cv))
            for cv in sorted(before.keys() | after.keys(),
                             key=lambda v: compat.preference_key(compat.IndexEntry(v, "0.0.0")))
            if before.get(cv) != after.get(cv)]


def client_diff(old: RepoSnapshot, new: RepoSnapshot) -> ClientDiff:
    """What every client version sees change from `old` to `new`."""
    segments: list[SegmentChange] = []
    for part in outlook.changed_pieces(old, new):
        piece = part.clients
        before = outlook.resolve(old, piece.low, None)
        after = outlook.resolve(new, piece.low, None)
        added, removed, changed = compare_models(before.models, after.models)
        if before.config_version == after.config_version and not (added or removed or changed):
            continue
        segment = SegmentChange(piece, before.config_version, after.config_version,
                                added, removed, changed)
        last = segments[-1] if segments else None
        if last is not None and last.clients.high == piece.low and last.same_change(segment):
            segments[-1] = dataclasses.replace(last, clients=Interval(last.clients.low,
                                                                      piece.high))
        else:
            segments.append(segment)
    return ClientDiff(tuple(segments), tuple(_index_changes(old, new)))


# -- rendering --------------------------------------------------------------------------------


NO_CHANGE = "No client sees any change: every client version gets the same config version " \
            "and the same models."


def _clients_json(clients: Interval) -> dict[str, Any]:
    shown: dict[str, Any] = {"min": clients.low if clients.low != compat.MIN_VERSION else None}
    if clients.high is None:
        shown["max"] = None
    elif (below := compat.predecessor(clients.high)) is not None:
        shown["max"] = below
    else:
        shown["max_below"] = clients.high
    shown["text"] = clients.describe()
    return shown


def _model_json(change: ModelChange, *, fields: bool = False) -> dict[str, Any]:
    provider, model, version = change.identity
    shown: dict[str, Any] = {"provider": provider, "model": model, "version": version}
    if fields:
        shown["fields"] = list(change.fields)
    return shown


def to_json(diff: ClientDiff) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "segments": [{
            "clients": _clients_json(s.clients),
            "config_before": s.config_before,
            "config_after": s.config_after,
            "added": [_model_json(m) for m in s.added],
            "removed": [_model_json(m) for m in s.removed],
            "changed": [_model_json(m, fields=True) for m in s.changed],
        } for s in diff.segments],
        "index": [{"config_version": c.config_version, "before": c.before, "after": c.after}
                  for c in diff.index],
    }


def _headline(s: SegmentChange) -> str:
    if s.config_before is None:
        return f"start getting a config: {s.config_after}"
    if s.config_after is None:
        return f"stop getting a config (had {s.config_before})"
    if s.config_before != s.config_after:
        return f"{s.config_before} -> {s.config_after}"
    return f"{s.config_after}, models change"


def _index_line(c: IndexRangeChange) -> str:
    if c.before is None:
        return f"{c.config_version} added for {c.after}"
    if c.after is None:
        return f"{c.config_version} removed (was {c.before})"
    return f"{c.config_version}: {c.before} -> {c.after}"


def render_text(diff: ClientDiff) -> str:
    if diff.empty:
        return NO_CHANGE + "\n"
    lines: list[str] = []
    for s in diff.segments:
        lines.append(f"clients {s.clients.describe()}: {_headline(s)}")
        lines += [f"  + {m.label()}" for m in s.added]
        lines += [f"  - {m.label()}" for m in s.removed]
        lines += [f"  ~ {m.label()}: {', '.join(m.fields)}" for m in s.changed]
    if diff.index:
        lines.append("index ranges:")
        lines += [f"  {_index_line(c)}" for c in diff.index]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return md_cell(text)


def _md_models(changes: Sequence[ModelChange], *, fields: bool = False) -> str:
    items = [f"{_md(m.label())}" + (f" \\({_md(', '.join(m.fields))}\\)" if fields else "")
             for m in changes]
    return "<br>".join(items)


def render_markdown(diff: ClientDiff, *, heading: str = "### What clients will see") -> str:
    """A section for a job summary or a PR comment: one table row per segment."""
    if diff.empty:
        return f"{heading}\n\n{NO_CHANGE}\n"
    lines = [heading, ""]
    if diff.segments:
        lines += ["| Clients | Config | Added | Removed | Changed |",
                  "| --- | --- | --- | --- | --- |"]
        for s in diff.segments:
            lines.append(f"| {_md(s.clients.describe())} | {_md(_headline(s))} | "
                         f"{_md_models(s.added)} | {_md_models(s.removed)} | "
                         f"{_md_models(s.changed, fields=True)} |")
    else:
        lines.append("No client gets other models.")
    if diff.index:
        lines += ["", "Index ranges: " + "; ".join(_md(_index_line(c)) for c in diff.index)]
    return "\n".join(lines) + "\n"


def render(diff: ClientDiff, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_json(diff), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(diff)
    return render_text(diff)
