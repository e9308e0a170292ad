"""An application's built-in defaults (`configs/defaults/models/`), exported from a release
or a checkout for one client version and platform: `repo-tools export-defaults`.

The selection is the client's own (`compat.resolve`: the config version, then its models
for the client and platform), and the result is checked by reading it back the way the
client reads its defaults (`catalog.parse_model_file`, then the same selection): every
entry must load, and the selection of the file must be the exported list. What fails that
check is never written.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence

from repo_tools import compat
from repo_tools.client.catalog import parse_model_file
from repo_tools.findings import Finding, finding
from repo_tools.model import ModelEntry, entries_from
from repo_tools.rules import client as rules

FILE_NAME = "repo-tools-defaults.json"


@dataclasses.dataclass(frozen=True, slots=True)
class ExportedDefaults:
    """The defaults file for one client: its bytes, and what went into it."""

    config_version: str | None  # None: no config version admits the client
    models: list[ModelEntry]
    data: bytes
    problems: list[Finding]  # non-empty: the file must not be shipped

    @property
    def ok(self) -> bool:
        return self.config_version is not None and not self.problems


def defaults_bytes(models: Sequence[ModelEntry]) -> bytes:
    """A v2 model file of the entries as published."""
    doc = {"schema_version": "2.0", "models": [dict(m.raw) for m in models]}
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def export_defaults(entries: compat.IndexLike,
                    models_of: Callable[[str], Sequence[ModelEntry]], client_version: str,
                    platform: str | None) -> ExportedDefaults:
    """The defaults file a client of this version and platform would get, checked."""
    resolution = compat.resolve(entries, models_of, client_version, platform)
    if resolution.config_version is None:
        return ExportedDefaults(None, [], b"", [finding(
            rules.NO_COMPATIBLE_CONFIG, "index.json",
            f"no config version admits client {resolution.client_version}")])
    data = defaults_bytes(resolution.models)
    return ExportedDefaults(resolution.config_version, resolution.models, data,
                            check_defaults(data, resolution.models, client_version, platform))


def check_defaults(data: bytes, expected: Sequence[ModelEntry], client_version: str,
                   platform: str | None) -> list[Finding]:
    """Why the file would not give the client exactly `expected` (empty: it would)."""
    kept, skipped = parse_model_file(data, FILE_NAME)
    if skipped:
        return skipped
    selected = compat.select_models(entries_from(kept, FILE_NAME), client_version, platform)
    if [m.identity for m in selected] != [m.identity for m in expected]:
        return [finding(rules.INVALID_MODEL, FILE_NAME,
                        "read back, the file selects other models than were exported")]
    return []
