"""Model files as a client reads them: strict JSON, v1 converted, invalid entries skipped.

A client never fails a whole load for one bad entry: each model entry with an error from
`validate`'s per-file checks is skipped with a C006 finding saying why, and the others
load. A file that cannot be read at all (not JSON, not UTF-8, a top level that is not a
model file) is skipped whole, again with a C006 finding.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from repo_tools import repo as repo_layout
from repo_tools.checks.validate import check_document, is_v1_document
from repo_tools.findings import Finding, Severity, finding
from repo_tools.jsonfile import JsonDocument, load_json_bytes, pointer_join
from repo_tools.migrate import convert_v1
from repo_tools.model import ModelEntry, entries_from
from repo_tools.rules import client as rules

_MODEL_POINTER = re.compile(r"/models/(\d+)(?:/|$)")
_MODEL_FILE = re.compile(r"versions/([^/]+)/models/[^/]+\.json")


class InvalidRemote(Exception):
    """The remote's index is unusable (C003); the message is safe to log."""


@dataclasses.dataclass(frozen=True, slots=True)
class RemoteConfig:
    """A verified remote as the client uses it: the parsed index and, per config version
    read (a client reads only the one it selects), the model entries that passed
    validation (file order) and the findings of those that did not.

    archives: config version -> SHA-256 of the signed archive its models came from (none
    for an unsigned git checkout): what lets a later load tell that it holds them."""

    index: dict[str, Any]
    versions: dict[str, list[dict[str, Any]]]
    skipped: dict[str, list[Finding]] = dataclasses.field(default_factory=dict)
    archives: dict[str, str] = dataclasses.field(default_factory=dict)

    def models_of(self, config_version: str) -> list[ModelEntry]:
        """The config version's entries, typed (the selection rule reads these)."""
        return entries_from(self.versions.get(config_version, []),
                            f"versions/{config_version}")


def _label(model: Any) -> str:
    if isinstance(model, Mapping):
        name = model.get("model", model.get("name", "?"))  # v1 entries say `name`
        return f"{model.get('provider', '?')}/{name}"
    return "entry"


def _skip(path: str, pointer: str, what: str, why: list[Finding]) -> Finding:
    reasons = "; ".join(f"{f.rule} {f.message}" for f in why[:3])
    more = f" (+{len(why) - 3} more)" if len(why) > 3 else ""
    return finding(rules.INVALID_MODEL, path, f"skipped {what}: {reasons}{more}", pointer)


def parse_model_file(raw: bytes, path: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The valid model entries of one file (v1 converted to v2), and why others were skipped."""
    doc, load_problems = load_json_bytes(raw, path)
    errors = [f for f in load_problems if f.severity is Severity.ERROR]
    if doc is None:
        return [], [_skip(path, "", "the whole file", errors)]
    if is_v1_document(doc.data):
        return _convert_v1_entries(doc)
    errors += [f for f in check_document(doc) if f.severity is Severity.ERROR]
    by_entry: dict[int, list[Finding]] = {}
    for problem in errors:
        match = _MODEL_POINTER.match(problem.pointer)
        if match is None:  # the file's top level: nothing in it can be trusted
            return [], doc.locate([_skip(path, "", "the whole file", errors)])
        by_entry.setdefault(int(match.group(1)), []).append(problem)
    models = doc.data["models"]
    kept = [m for i, m in enumerate(models) if i not in by_entry]
    skipped = [_skip(path, pointer_join("", "models", i), _label(models[i]), why)
               for i, why in sorted(by_entry.items())]
    return kept, doc.locate(skipped)


def _convert_v1_entries(doc: JsonDocument) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Each v1 entry converted on its own, so one bad entry does not sink its file."""
    data = doc.data
    if isinstance(data, list):
        sources = [(pointer_join("", i), e) for i, e in enumerate(data)]
    elif isinstance(data, dict) and isinstance(data.get("models"), list) and len(data) == 1:
        sources = [(pointer_join("", "models", i), e) for i, e in enumerate(data["models"])]
    else:
        sources = [("", data)]
    kept: list[dict[str, Any]] = []
    skipped: list[Finding] = []
    for pointer, entry in sources:
        conversion = convert_v1(entry, doc.path)
        if conversion.document is None:
            skipped.append(_skip(doc.path, pointer, f"v1 entry {_label(entry)}",
                                 conversion.problems))
        else:
            kept.extend(conversion.document["models"])
    return kept, doc.locate(skipped)


def load_defaults(directory: Path | None) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Every valid model of directory/*.json (the application's `configs/defaults/models/`)."""
    if directory is None or not directory.is_dir():
        return [], []
    models: list[dict[str, Any]] = []
    skipped: list[Finding] = []
    for path in sorted(directory.glob("*.json")):
        shown = path.as_posix()
        try:
            raw = path.read_bytes()
        except OSError as exc:
            skipped.append(finding(rules.INVALID_MODEL, shown,
                                   f"skipped the whole file: cannot read it ({exc.strerror})"))
            continue
        kept, problems = parse_model_file(raw, shown)
        models.extend(kept)
        skipped.extend(problems)
    return models, skipped


def parse_remote_files(files: Mapping[str, bytes]) -> RemoteConfig:
    """index.json and versions/<v>/models/*.json of a verified remote; InvalidRemote when
    the index cannot be used at all."""
    raw_index = files.get(repo_layout.INDEX_FILE)
    if raw_index is None:
        raise InvalidRemote("the remote has no index.json")
    doc, problems = load_json_bytes(raw_index, repo_layout.INDEX_FILE)
    errors = [f for f in problems if f.severity is Severity.ERROR]
    if doc is None or errors:
        first = errors[0] if errors else None
        raise InvalidRemote(f"index.json is not strict JSON ({first.rule} {first.message})"
                            if first else "index.json cannot be read")
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("versions"), dict):
        raise InvalidRemote("index.json has no `versions` object")
    versions, skipped = parse_model_files(files)
    return RemoteConfig(doc.data, versions, skipped)


def parse_model_files(files: Mapping[str, bytes]
                      ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[Finding]]]:
    """The versions/<v>/models/*.json among files, parsed: per config version, the valid
    model entries and the findings of the skipped ones (other paths are ignored)."""
    versions: dict[str, list[dict[str, Any]]] = {}
    skipped: dict[str, list[Finding]] = {}
    for path in sorted(files):
        match = _MODEL_FILE.fullmatch(path)
        if match is None:
            continue
        kept, problems = parse_model_file(files[path], path)
        versions.setdefault(match.group(1), []).extend(kept)
        if problems:
            skipped.setdefault(match.group(1), []).extend(problems)
    return versions, skipped
