"""What a release changes for clients, compared with the previous one.

Selection (which config version and which models a client gets) is `repo_tools.compat`'s;
this module only compares its answers for the old and the new release.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from repo_tools import compat
from repo_tools.compat import ModelKey
from repo_tools.model import ModelEntry
from repo_tools.snapshot import from_files
from repo_tools.versions import version_key


@dataclasses.dataclass(frozen=True, slots=True)
class ModelChange:
    config_version: str
    provider: str
    model: str
    kind: str  # added | removed | changed
    details: tuple[str, ...] = ()

    def describe(self) -> str:
        text = f"{self.kind} {self.config_version}: {self.provider}/{self.model}"
        return text + (f" ({'; '.join(self.details)})" if self.details else "")


@dataclasses.dataclass(frozen=True, slots=True)
class IndexChange:
    config_version: str
    old: str | None  # the client range in words, None when absent
    new: str | None

    def describe(self) -> str:
        if self.old is None:
            return f"index: added {self.config_version} for {self.new}"
        if self.new is None:
            return f"index: removed {self.config_version} (was {self.old})"
        return f"index: {self.config_version} clients {self.old} -> {self.new}"


@dataclasses.dataclass(frozen=True, slots=True)
class RemovalInUse:
    """Clients in `clients` got this model from the previous release and do not any more."""

    provider: str
    model: str
    clients: compat.Interval
    old_config: str
    new_config: str | None

    def describe(self) -> str:
        now = (f"config {self.new_config} no longer lists it for them" if self.new_config
               else "no config version serves them any more")
        return (f"{self.provider}/{self.model}: clients {self.clients.describe()} got it from "
                f"config {self.old_config}; {now} (e.g. client {self.clients.witness()})")


@dataclasses.dataclass(frozen=True, slots=True)
class ReleaseDiff:
    files_added: tuple[str, ...]
    files_removed: tuple[str, ...]
    files_changed: tuple[str, ...]
    index_changes: tuple[IndexChange, ...]
    model_changes: tuple[ModelChange, ...]
    removals_in_use: tuple[RemovalInUse, ...]

    @property
    def empty(self) -> bool:
        return not (self.files_added or self.files_removed or self.files_changed)

    def lines(self) -> list[str]:
        out = [f"files: {len(self.files_added)} added, {len(self.files_removed)} removed, "
               f"{len(self.files_changed)} changed"]
        out += [c.describe() for c in self.index_changes]
        out += [c.describe() for c in self.model_changes]
        out += [f"in use: {r.describe()}" for r in self.removals_in_use]
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class _Catalog:
    """A release's files as the selection code sees them."""

    index: list[compat.IndexEntry]
    models: dict[str, list[ModelEntry]]  # config version -> model entries

    def models_of(self, config_version: str) -> list[ModelEntry]:
        return self.models.get(config_version, [])


def _catalog(files: Mapping[str, bytes]) -> _Catalog:
    """The release's files read as every other comparison reads a repo (`RepoSnapshot`)."""
    snapshot = from_files(files)
    models = {cv: found for cv in snapshot.versions if (found := snapshot.models_of(cv))}
    return _Catalog(snapshot.entries or [], models)


def _range_text(model: ModelEntry) -> str:
    try:
        admitted = compat.model_client_range(model)
    except ValueError:
        return "invalid range"
    return admitted.describe() if admitted is not None else "no clients"


def _platforms(model: ModelEntry) -> list[Any] | None:
    return None if model.platforms is None else list(model.platforms)


def _written(model: ModelEntry, field: str) -> Any:
    """A top-level field as the file has it (None when absent): a diff shows what was
    written, so an absent ranking is not the same as an explicit 0."""
    return model.raw.get(field)


ABSENT = "(absent)"
"""How the text of a diff shows a field that one side does not have."""


def shown(value: Any) -> str:
    """A field's value as the diff's text shows it: strings as they are, a missing field
    as `ABSENT`, anything else as JSON (`["linux"]`, `true`), never as Python's repr."""
    if value is None:
        return ABSENT
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _change(field: str, old: Any, new: Any) -> str:
    return f"{field} {shown(old)} -> {shown(new)}"


def _model_details(old: ModelEntry, new: ModelEntry) -> tuple[str, ...]:
    details: list[str] = []
    if _written(old, "version") != _written(new, "version"):
        details.append(_change("version", _written(old, "version"), _written(new, "version")))
    if old.download.sha256 != new.download.sha256:
        details.append("sha256 changed")
    if old.download.url != new.download.url:
        details.append(_change("url", old.download.url, new.download.url))
    if _range_text(old) != _range_text(new):
        details.append(_change("clients", _range_text(old), _range_text(new)))
    if _platforms(old) != _platforms(new):
        details.append(_change("platforms", _platforms(old), _platforms(new)))
    if _written(old, "ranking") != _written(new, "ranking"):
        details.append(_change("ranking", _written(old, "ranking"), _written(new, "ranking")))
    if not details and old.raw != new.raw:
        details.append("other fields changed")
    return tuple(details)


def _model_changes(old: _Catalog, new: _Catalog) -> list[ModelChange]:
    changes: list[ModelChange] = []
    for config in sorted(old.models.keys() | new.models.keys()):
        before = {m.key: m for m in old.models_of(config)}
        after = {m.key: m for m in new.models_of(config)}
        for key in sorted(before.keys() | after.keys()):
            if key not in after:
                changes.append(ModelChange(config, *key, "removed"))
            elif key not in before:
                changes.append(ModelChange(config, *key, "added"))
            elif before[key].raw != after[key].raw:
                details = _model_details(before[key], after[key])
                changes.append(ModelChange(config, *key, "changed", details))
    return changes


def _index_changes(old: _Catalog, new: _Catalog) -> list[IndexChange]:
    def ranges(cat: _Catalog) -> dict[str, str]:
        return {e.config_version: (e.client_range.describe() if e.client_range else "no clients")
                for e in cat.index}

    before, after = ranges(old), ranges(new)
    return [IndexChange(cv, before.get(cv), after.get(cv))
            for cv in sorted(before.keys() | after.keys()) if before.get(cv) != after.get(cv)]


def _uncovered(target: compat.Interval, cover: Sequence[compat.Interval]) -> list[compat.Interval]:
    """The parts of target that no interval of cover contains."""
    gaps: list[compat.Interval] = []
    low: str | None = target.low
    for piece in compat.union(cover):
        if low is None:
            break
        inside = piece.intersect(compat.Interval(low, target.high))
        if inside is None:
            continue
        if version_key(inside.low) > version_key(low):
            gaps.append(compat.Interval(low, inside.low))
        low = inside.high
    if low is not None:
        rest = compat.Interval(low, target.high)
        if not rest.is_empty():
            gaps.append(rest)
    return gaps


def _ranges_by_key(models: Sequence[ModelEntry]) -> dict[ModelKey, list[compat.Interval]]:
    """For each (provider, model), the client ranges its entries admit."""
    ranges: dict[ModelKey, list[compat.Interval]] = {}
    for model in models:
        try:
            admitted = compat.model_client_range(model)
        except ValueError:
            continue
        entry = ranges.setdefault(model.key, [])
        if admitted is not None:
            entry.append(admitted)
    return ranges


def _removals_in_use(old: _Catalog, new: _Catalog) -> list[RemovalInUse]:
    """Clients that the old release gave a model and the new one does not (any platform)."""
    new_table = compat.selection_table(new.index)
    new_ranges = {cv: _ranges_by_key(models) for cv, models in new.models.items()}
    found: list[RemovalInUse] = []
    for segment in compat.selection_table(old.index):
        if segment.config_version is None:
            continue
        # The new segments that these clients fall into, cut to these clients.
        parts = [(part, target.config_version) for target in new_table
                 if (part := segment.clients.intersect(target.clients)) is not None]
        old_models = old.models_of(segment.config_version)
        # Clients that keep the same config version, unchanged, lose nothing.
        parts = [(part, cv) for part, cv in parts
                 if cv != segment.config_version
                 or [m.raw for m in new.models_of(cv)] != [m.raw for m in old_models]]
        if not parts:
            continue
        old_ranges = _ranges_by_key(old_models)
        for key in sorted(old_ranges):
            for served in old_ranges[key]:
                for part, new_config in parts:
                    clients = part.intersect(served)
                    if clients is None:
                        continue
                    cover = new_ranges.get(new_config, {}).get(key, []) if new_config else []
                    found.extend(RemovalInUse(key[0], key[1], gap, segment.config_version,
                                              new_config)
                                 for gap in _uncovered(clients, cover))
    return found


def diff_releases(old_files: Mapping[str, bytes], new_files: Mapping[str, bytes]) -> ReleaseDiff:
    """Compare two releases' files (path -> bytes): files, index ranges, models, removals."""
    old, new = _catalog(old_files), _catalog(new_files)
    changed = tuple(sorted(p for p in old_files.keys() & new_files.keys()
                           if old_files[p] != new_files[p]))
    return ReleaseDiff(
        files_added=tuple(sorted(new_files.keys() - old_files.keys())),
        files_removed=tuple(sorted(old_files.keys() - new_files.keys())),
        files_changed=changed,
        index_changes=tuple(_index_changes(old, new)),
        model_changes=tuple(_model_changes(old, new)),
        removals_in_use=tuple(_removals_in_use(old, new)),
    )
