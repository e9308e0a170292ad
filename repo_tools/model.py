"""The typed model of a config repo's model entries.

One place turns a parsed model file into objects; the checks, probe, the selection rule
and the client read attributes instead of walking dicts with their own `isinstance`
chains. The model is lenient on purpose: it is built from files that may not have been
validated (validate reports what is wrong), so a value of the wrong type reads as
absent (`None`) and an entry that is not an object is skipped. What it keeps exactly is
where each entry came from (`path`, `pointer`), for findings, and the entry itself
(`raw`), for whoever must hand it on unchanged (the client's merge and stored config).

Nothing here knows SemVer ranges: `repo_tools.compat` interprets the client range and the
platforms (`model_client_range`, `model_supports_platform`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple


@dataclasses.dataclass(frozen=True, slots=True)
class Download:
    """An entry's `download` object; each value None when absent or of the wrong type."""

    url: str | None = None
    sha256: str | None = None  # as written (validate's V005 says when it is not lower case)
    cache_path: str | None = None
    size: int | None = None

    @classmethod
    def of(cls, value: Any) -> Download:
        if not _is_map(value):
            return cls()
        url, sha, cache, size = (value.get("url"), value.get("sha256"),
                                 value.get("cachePath"), value.get("size"))
        return cls(url if isinstance(url, str) else None,
                   sha if isinstance(sha, str) else None,
                   cache if isinstance(cache, str) else None,
                   size if type(size) is int and size >= 0 else None)


@dataclasses.dataclass(frozen=True, slots=True)
class ModelEntry:
    """One model entry of a v2 model file."""

    provider: str
    model: str
    version: str
    ranking: int  # 0 when absent (the schema's default) or not an integer
    download: Download
    # `compatibility` as written: bounds are raw values (validate and compat judge them);
    # `has_compatibility_object` is False when the key holds something other than an object.
    min_client_version: Any = None
    max_client_version: Any = None
    has_compatibility_object: bool = True
    # None: no `supported_platforms` (any platform); otherwise the list's items as written,
    # and an empty tuple when it is not a list at all (no platform matches it).
    platforms: tuple[Any, ...] | None = None
    path: str = ""
    pointer: str = ""  # e.g. "/models/3"
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False,
                                               compare=False)

    @property
    def identity(self) -> tuple[str, str, str]:
        """What may appear once per config version: provider, model, version."""
        return (self.provider, self.model, self.version)

    @property
    def key(self) -> tuple[str, str]:
        """What identifies a model across files, versions and merges."""
        return (self.provider, self.model)

    @property
    def sha256(self) -> str | None:
        """The download's digest in lower case (for comparing), or None."""
        sha = self.download.sha256
        return sha.lower() if sha is not None else None

    def summary(self) -> EntrySummary:
        return EntrySummary(self.path, self.pointer, self.provider, self.model, self.version,
                            self.sha256, self.download.cache_path, self.min_client_version,
                            self.max_client_version, self.has_compatibility_object)

    def describe(self) -> str:
        return f"{self.provider}/{self.model} {self.version}"

    def __getitem__(self, key: str) -> Any:
        """`entry["model"]`: the entry as published (`raw`), for code written when the
        client's results were dicts. Typed code reads the attributes instead."""
        return self.raw[key]


class EntrySummary(NamedTuple):
    """What the rules across files need of one entry (identity, digest, cachePath, client
    bounds, and where it is): small enough to send between processes, to keep for every
    sibling of a file being validated, and to cache between runs."""

    path: str
    pointer: str
    provider: str
    model: str
    version: str
    sha256: str | None  # lower case
    cache_path: str | None
    min_client_version: Any = None
    max_client_version: Any = None
    has_compatibility_object: bool = True

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.provider, self.model, self.version)


def _is_map(value: Any) -> bool:
    # Parsed JSON objects are dicts: the exact type test first spares the ABC machinery,
    # which costs more than the rest of building an entry.
    return type(value) is dict or isinstance(value, Mapping)


def _text(value: Any) -> str:
    # Names compare as text whatever was written (validate reports a wrong type).
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _platforms(listed: Any) -> tuple[Any, ...] | None:
    if listed is None:
        return None
    return tuple(listed) if isinstance(listed, list) else ()


def entry_of(model: Mapping[str, Any], path: str = "", pointer: str = "") -> ModelEntry:
    """The typed view of one entry (an object of a v2 file's `models`)."""
    ranking = model.get("ranking", 0)
    compat = model.get("compatibility")
    is_map = compat is not None and _is_map(compat)
    is_object = compat is None or is_map
    bounds: Mapping[str, Any] = compat if is_map else {}  # type: ignore[assignment]
    listed = bounds.get("supported_platforms")
    platforms = _platforms(listed)
    return ModelEntry(
        provider=_text(model.get("provider", "")),
        model=_text(model.get("model", "")),
        version=_text(model.get("version", "")),
        ranking=ranking if type(ranking) is int else 0,
        download=Download.of(model.get("download")),
        min_client_version=bounds.get("min_client_version"),
        max_client_version=bounds.get("max_client_version"),
        has_compatibility_object=is_object,
        platforms=platforms,
        path=path,
        pointer=pointer,
        raw=model,
    )


def entries_of(data: Any, path: str = "") -> list[ModelEntry]:
    """Every entry of a parsed v2 model file (`{"models": [...]}`); entries that are not
    objects are skipped, and anything else yields none."""
    models = data.get("models") if _is_map(data) else None
    if type(models) is not list:
        return []
    return [entry_of(model, path, f"/models/{index}")
            for index, model in enumerate(models) if _is_map(model)]


def entries_from(models: Any, path: str = "") -> list[ModelEntry]:
    """Typed entries of a plain list of entry objects (e.g. a client's merged models)."""
    return entries_of({"models": list(models)}, path)


def summaries_of(data: Any, path: str = "") -> list[EntrySummary]:
    """`[e.summary() for e in entries_of(data, path)]` without building the entries: the
    summaries of every sibling are read on each hook call and by check-index."""
    models = data.get("models") if _is_map(data) else None
    if type(models) is not list:
        return []
    found: list[EntrySummary] = []
    for index, model in enumerate(models):
        if not _is_map(model):
            continue
        download = model.get("download")
        sha = cache = None
        if _is_map(download):
            sha, cache = download.get("sha256"), download.get("cachePath")
        compat = model.get("compatibility")
        is_map = compat is not None and _is_map(compat)
        low = compat.get("min_client_version") if is_map else None
        high = compat.get("max_client_version") if is_map else None
        found.append(EntrySummary(
            path, f"/models/{index}", _text(model.get("provider", "")),
            _text(model.get("model", "")), _text(model.get("version", "")),
            sha.lower() if isinstance(sha, str) else None,
            cache if isinstance(cache, str) else None, low, high, compat is None or is_map))
    return found

