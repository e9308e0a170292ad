"""The last known good config: the last remote the client verified and applied.

It is one JSON file, replaced atomically (a crash leaves the old or the new one). It
keeps the verified remote's whole index and every config version's valid models, not
only this client's selection, so that after an application update (a new client version)
the fallback selects for the new version with the same rule as a fresh load. The
`result` member is what the load that stored it returned, for people and tools to read.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from repo_tools.atomic import write_atomic
from repo_tools.client.catalog import RemoteConfig
from repo_tools.client.sources import Origin
from repo_tools.statefile import parse_state_json

SCHEMA = "repo-tools-client-lkg/1"
FILE_NAME = "last-known-good.json"


@dataclasses.dataclass(frozen=True, slots=True)
class LastKnownGood:
    remote: RemoteConfig
    origin: Origin
    saved: str
    result: dict[str, Any]


def lkg_bytes(lkg: LastKnownGood) -> bytes:
    doc = {
        "schema": SCHEMA,
        "saved": lkg.saved,
        "origin": dataclasses.asdict(lkg.origin),
        "index": lkg.remote.index,
        "versions": lkg.remote.versions,
        "result": lkg.result,
    }
    return (json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode()


def _origin(raw: Any) -> Origin | None:
    if not isinstance(raw, dict):
        return None
    try:
        origin = Origin(**raw)
    except TypeError:
        return None
    fields_ok = (isinstance(origin.kind, str) and isinstance(origin.location, str)
                 and isinstance(origin.signed, bool)
                 and (origin.bundle_version is None or type(origin.bundle_version) is int))
    return origin if fields_ok else None


def parse_lkg(data: bytes) -> LastKnownGood:
    """ValueError with a reason when the file is not a last-known-good document."""
    try:
        doc = parse_state_json(data)
    except ValueError as exc:
        raise ValueError(f"it {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"it is not a {SCHEMA} document")
    index, versions, origin = doc.get("index"), doc.get("versions"), _origin(doc.get("origin"))
    if not isinstance(index, dict) or not isinstance(versions, dict) or origin is None:
        raise ValueError("its index, versions or origin is malformed")
    clean: dict[str, list[dict[str, Any]]] = {}
    for name, models in versions.items():
        if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
            raise ValueError(f"its models of {name!r} are malformed")
        clean[name] = models
    result = doc.get("result")
    return LastKnownGood(RemoteConfig(index, clean), origin, str(doc.get("saved", "")),
                         result if isinstance(result, dict) else {})


def read_lkg(path: Path) -> tuple[LastKnownGood | None, str | None]:
    """The stored config, or None and why not (None, None: there is none yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror}"
    try:
        return parse_lkg(data), None
    except ValueError as exc:
        return None, f"{path} is damaged: {exc}"


def write_lkg(path: Path, lkg: LastKnownGood) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lkg_bytes(lkg))
