"""The last known good config: the last remote the client verified and applied.

It is one compact JSON file, replaced atomically (a crash leaves the old or the new one).
It keeps the verified remote's index, and the valid models of the config version this
client selected, not every config version: a client reads and stores only what it uses.
For a signed release, `archives` names the SHA-256 of the archive those models came from
(archives are named by content), so a later release that leaves that config version
unchanged costs the client no archive download, and no validation, at all. After an
application update (a new client version) the fallback selects again from the stored
index with the same rule; a config version it does not hold is looked for in the archive
cache (`ARCHIVE_DIR`), else the defaults are used. The `result` member says what the load
that stored it returned (client version, platform, config version, and each model as
[provider, model, version]), for people and tools to read.

The `release` member is the signed manifest the config came from, with its signature and
the `ETag` / `Last-Modified` the server sent with it: what a later load asks for
conditionally and checks again when the server says it is unchanged. It is bound to the
config by the manifest's SHA-256 (`origin.manifest_sha256`); a block that does not match
is ignored.

A load that finds the release unchanged does not rewrite this file: it writes a small
confirmation beside it (`CONFIRMATION_FILE`: when, and the validators of that answer),
bound to the same manifest the same way. Neither file holds a credential: locators are
shown URLs (no user info, no query) and validators are what the server sent.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from repo_tools.atomic import write_atomic
from repo_tools.client.catalog import RemoteConfig
from repo_tools.client.sources import ManifestCopy, Origin
from repo_tools.net.conditional import Validators, clean_validator
from repo_tools.release.manifest import TIME_FORMAT
from repo_tools.statefile import parse_state_json

# /2: one config version's models and their archive hashes (/1 kept every config version;
# it was only ever written by development builds, and is treated as damaged).
SCHEMA = "repo-tools-client-lkg/2"
FILE_NAME = "last-known-good.json"
# Archives kept by SHA-256 (`<sha256>.tar`), in the client's state folder.
ARCHIVE_DIR = "archives"
CONFIRMATION_SCHEMA = "repo-tools-client-confirmation/1"
CONFIRMATION_FILE = "last-known-good.confirmed.json"


@dataclasses.dataclass(frozen=True, slots=True)
class LastKnownGood:
    """saved: when it was stored (`format_time`), which is also when its release was last
    confirmed, unless a `Confirmation` says later."""

    remote: RemoteConfig
    origin: Origin
    saved: str
    result: dict[str, Any]
    release: ManifestCopy | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Confirmation:
    """A later load found the release at `locator` unchanged at `confirmed` (format_time),
    and the server answered with these validators."""

    locator: str
    manifest_sha256: str
    confirmed: str
    validators: Validators = dataclasses.field(default_factory=Validators)

    def matches(self, release: ManifestCopy) -> bool:
        return self.locator == release.locator and self.manifest_sha256 == release.sha256


_SHA256 = re.compile(r"[0-9a-f]{64}")


def compact_json(doc: Any) -> bytes:
    """A state file's bytes: no indentation (the file is read by programs), UTF-8."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _validator_fields(validators: Validators) -> dict[str, str | None]:
    return {"etag": validators.etag, "last_modified": validators.last_modified}


def _release_doc(release: ManifestCopy) -> dict[str, Any]:
    return {"locator": release.locator, "manifest_sha256": release.sha256,
            **_validator_fields(release.validators),
            "manifest": _b64(release.manifest), "signature": _b64(release.signature)}


def lkg_bytes(lkg: LastKnownGood) -> bytes:
    doc = {
        "schema": SCHEMA,
        "saved": lkg.saved,
        "origin": dataclasses.asdict(lkg.origin),
        "index": lkg.remote.index,
        "versions": lkg.remote.versions,
        "archives": lkg.remote.archives,
        "result": lkg.result,
    }
    if lkg.release is not None:
        doc["release"] = _release_doc(lkg.release)
    return compact_json(doc)


def _validators(raw: dict[str, Any]) -> Validators:
    return Validators(clean_validator(raw.get("etag")), clean_validator(raw.get("last_modified")))


def _release(raw: Any, origin: Origin) -> ManifestCopy | None:
    """The stored release, or None when it is absent, malformed or not the one the
    config came from (then the next load simply fetches in full)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("locator"), str):
        return None
    try:
        manifest = base64.b64decode(raw.get("manifest", ""), validate=True)
        signature = base64.b64decode(raw.get("signature", ""), validate=True)
    except (binascii.Error, TypeError, ValueError):
        return None
    release = ManifestCopy(raw["locator"], manifest, signature, _validators(raw))
    if origin.manifest_sha256 is None or release.sha256 != origin.manifest_sha256:
        return None
    return release


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
    archives = doc.get("archives")
    if not isinstance(archives, dict) or not all(
            name in clean and isinstance(sha, str) and _SHA256.fullmatch(sha)
            for name, sha in archives.items()):
        # A wrong hash here would let a later load take these models for another archive.
        raise ValueError("its archives are malformed")
    result = doc.get("result")
    remote = RemoteConfig(index, clean, archives=dict(archives))
    return LastKnownGood(remote, origin, str(doc.get("saved", "")),
                         result if isinstance(result, dict) else {},
                         _release(doc.get("release"), origin))


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


def confirmation_bytes(confirmation: Confirmation) -> bytes:
    doc = {"schema": CONFIRMATION_SCHEMA, "locator": confirmation.locator,
           "manifest_sha256": confirmation.manifest_sha256,
           "confirmed": confirmation.confirmed, **_validator_fields(confirmation.validators)}
    return compact_json(doc)


def parse_confirmation(data: bytes) -> Confirmation | None:
    """The confirmation, or None for anything else (it only ever saves a request)."""
    try:
        doc = parse_state_json(data)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("schema") != CONFIRMATION_SCHEMA:
        return None
    fields = (doc.get("locator"), doc.get("manifest_sha256"), doc.get("confirmed"))
    if not all(isinstance(f, str) for f in fields) or parse_saved(doc["confirmed"]) is None:
        return None
    return Confirmation(doc["locator"], doc["manifest_sha256"], doc["confirmed"],
                        _validators(doc))


def read_confirmation(path: Path) -> Confirmation | None:
    try:
        return parse_confirmation(path.read_bytes())
    except OSError:
        return None


def write_confirmation(path: Path, confirmation: Confirmation) -> None:
    write_atomic(path, confirmation_bytes(confirmation))


def parse_saved(text: str) -> dt.datetime | None:
    """A `saved` or `confirmed` time (format_time), or None when it is not one."""
    try:
        return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def current_release(lkg: LastKnownGood, confirmation: Confirmation | None
                    ) -> tuple[ManifestCopy, dt.datetime | None] | None:
    """The stored release with the validators to send next, and when it was last
    confirmed (None: unknown); None when the last known good config keeps no release."""
    release = lkg.release
    if release is None:
        return None
    confirmed = parse_saved(lkg.saved)
    if confirmation is not None and confirmation.matches(release):
        release = dataclasses.replace(release, validators=confirmation.validators)
        later = parse_saved(confirmation.confirmed)
        if later is not None and (confirmed is None or later > confirmed):
            confirmed = later
    return release, confirmed
