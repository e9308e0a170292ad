"""The release-format test vectors (tests/vectors/, described in docs/release-format.md):
every vector gives its expected verdict through `verify_release`, and the generator
reproduces the committed files byte for byte."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import parse_manifest
from repo_tools.release.verify import AcceptedRelease, verify_release

VECTORS = Path(__file__).resolve().parent / "vectors"
DOC = json.loads((VECTORS / "vectors.json").read_text("utf-8"))
BY_NAME = {v["name"]: v for v in DOC["vectors"]}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vector_generator", VECTORS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_vector(vector: dict[str, Any]) -> None:
    """What a client in another language does with a vector: read the files it names and
    verify, with the vector's clock, state and expected repository."""
    manifest = (VECTORS / vector["manifest"]).read_bytes()
    signature = (VECTORS / vector["signature"]).read_bytes()
    archives = {name: (VECTORS / path).read_bytes() for name, path in vector["archives"].items()}
    now = dt.datetime.strptime(vector["now"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    state = None
    if "state" in vector:
        # The state is for the repository the (honest) release names.
        repository = parse_manifest((VECTORS / "release/manifest.json").read_bytes()).repository
        state = {repository: AcceptedRelease(vector["state"]["bundle_version"],
                                             vector["state"]["manifest_sha256"])}
    allowed = (VECTORS / DOC["allowed_signers"]).read_text("utf-8")
    verify_release(manifest, signature, archives, allowed, now=now, state=state,
                   repository=vector.get("repository"),
                   config_versions=vector.get("config_versions"))


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_vector_gives_its_verdict(name: str) -> None:
    vector = BY_NAME[name]
    if vector["expect"] == "ok":
        run_vector(vector)
        return
    with pytest.raises(VerificationError) as caught:
        run_vector(vector)
    assert caught.value.code == vector["expect"], caught.value.message


def test_vectors_cover_every_check_a_client_can_run_offline() -> None:
    codes = {v["expect"] for v in DOC["vectors"]}
    # R001 depends on a client's limits, R023 on its state file: neither is in the release.
    assert codes == {"ok"} | {f"R{n:03d}" for n in range(2, 23) if n != 3}


def test_every_vector_file_is_used_and_exists() -> None:
    named = {"vectors.json", "generate.py", DOC["allowed_signers"]}
    for vector in DOC["vectors"]:
        named |= {vector["manifest"], vector["signature"], *vector["archives"].values()}
    on_disk = {str(p.relative_to(VECTORS)) for p in VECTORS.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert on_disk == named


def test_the_generator_reproduces_every_file(tmp_path: Path) -> None:
    _generator().main(["generate.py", str(tmp_path)])
    made = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*")
            if p.is_file()}
    committed = {name: (VECTORS / name).read_bytes() for name in made}
    assert made.keys() | {"generate.py"} == {
        str(p.relative_to(VECTORS)) for p in VECTORS.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts}
    changed = sorted(name for name in made if made[name] != committed[name])
    assert changed == [], "run `python tests/vectors/generate.py` and commit the result"


def test_the_key_is_marked_test_only() -> None:
    line = (VECTORS / DOC["allowed_signers"]).read_text("utf-8")
    assert line.startswith("test-vectors@example.org ")
    assert "TEST-ONLY" in (VECTORS / "generate.py").read_text("utf-8")
