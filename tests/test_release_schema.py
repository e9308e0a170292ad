"""The manifest JSON Schema (repo_tools/schemas/release_manifest.schema.json) describes what
`release` writes and what the verifier's strict parser accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import parse_manifest
from tests.support.helpers import cli
from tests.support.release_helpers import allowed_line, git_config_repo, write_ssh_key
from tests.support.verify_helpers import new_kit

SCHEMA_PATH = (Path(__file__).resolve().parents[1] / "repo_tools" / "schemas"
               / "release_manifest.schema.json")
SCHEMA = json.loads(SCHEMA_PATH.read_text("utf-8"))
VECTORS = Path(__file__).resolve().parent / "vectors"


def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


def test_the_manifests_release_writes_validate(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    repo = git_config_repo(tmp_path / "repo")
    key_path = write_ssh_key(tmp_path / "release_key", key)
    (tmp_path / "allowed_signers").write_text(allowed_line(key))
    out = tmp_path / "out"
    for _ in range(2):
        run = cli("release", "--repo", repo, "--key", key_path, "--out", out, "--created",
                  "now", cwd=tmp_path)
        assert run.exit_code == 0, run.stdout + run.stderr
    names = ["manifest.json", "1.manifest.json", "2.manifest.json"]
    for name in names:
        doc = json.loads((out / name).read_bytes())
        assert doc["schema"] == "repo-tools-release/2"
        validator().validate(doc)
        assert doc["versions"]  # not vacuous: there is an archive entry to validate


def test_the_vectors_honest_manifest_validates() -> None:
    validator().validate(json.loads((VECTORS / "release/manifest.json").read_bytes()))


def _honest() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(new_kit().release().manifest_bytes)
    return doc


@pytest.mark.parametrize(("what", "change"), [
    ("unknown field", lambda d: d.update(mirror="x")),
    ("missing field", lambda d: d.pop("expires")),
    ("old schema", lambda d: d.update(schema="repo-tools-release/1")),
    ("boolean version", lambda d: d.update(bundle_version=True)),
    ("version 0", lambda d: d.update(bundle_version=0)),
    ("archive name", lambda d: d["versions"]["v1.0.0"].update(archive="x.tar")),
    ("zero files", lambda d: d["versions"]["v1.0.0"].update(files=0)),
    ("unknown entry field", lambda d: d["versions"]["v1.0.0"].update(url="x")),
    ("bad time", lambda d: d.update(created="2030-01-01 00:00:00")),
    ("short commit", lambda d: d.update(commit="abc")),
    ("dot-dot config version", lambda d: d["versions"].update({"..": d["versions"]["v1.0.0"]})),
])
def test_schema_and_parser_reject_the_same_shapes(what: str, change: Any) -> None:
    doc = _honest()
    validator().validate(doc)
    change(doc)
    assert not validator().is_valid(doc), what
    with pytest.raises(VerificationError) as caught:
        parse_manifest(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    assert caught.value.code == "R007"  # the shape, before the canonical form (R008)
