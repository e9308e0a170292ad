"""What a release may publish: the one decision `release` and `lint` share (issue 13)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from repo_tools.checks import keys
from repo_tools.checks.keys import private_key_material, scan_for_private_key
from repo_tools.checks.publishable import unpublishable
from repo_tools.lint import lint_repo
from repo_tools.release import signing, sshsig
from repo_tools.release.archive import FilesRefused, collect
from tests.support.helpers import make_repo
from tests.support.release_helpers import INDEX, two_model_config


@pytest.mark.parametrize("path", [
    "index.json",
    "versions/v1.0.0/models/huggingface.json",
    "versions/v2.0.0-rc.1/models/a b.json",
    "versions/v1.0.0/models/.hidden.json",  # validate checks it too (`*.json` matches it)
])
def test_published(path: str) -> None:
    assert unpublishable(path) is None


@pytest.mark.parametrize(("path", "why"), [
    ("versions/.env", "is not a model file"),
    ("versions/.gitkeep", "is not a model file"),
    ("versions/v1.0.0/notes.txt", "is not a model file"),
    ("versions/v1.0.0/huggingface.json", "is not a model file"),  # not under models/
    ("versions/v1.0.0/models/README.md", "is not a .json model file"),
    ("versions/v1.0.0/models/upper.JSON", "is not a .json model file"),
    ("versions/v1.0.0/models/old/huggingface.json", "is in a folder below models/"),
    ("versions/v1.0.0/models", "is not a model file"),  # e.g. a symlink to a folder
    ("README.md", "is outside index.json and versions/"),
])
def test_unpublishable(path: str, why: str) -> None:
    reason = unpublishable(path)
    assert reason is not None and reason.startswith(why)


KEY = Ed25519PrivateKey.generate()
OPENSSH = signing.private_key_pem(KEY)


@pytest.mark.parametrize(("data", "kind", "line"), [
    (OPENSSH, "an OpenSSH private key", 1),
    (OPENSSH.replace(b"\n", b"\r\n"), "an OpenSSH private key", 1),
    (b"notes\r\n\r\n" + OPENSSH.replace(b"\n", b"\r\n"), "an OpenSSH private key", 3),
    (b'{"k": "' + OPENSSH.replace(b"\n", b"\\n") + b'"}', "an OpenSSH private key", 1),
    (b"x = 1\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n", "a PEM private key", 2),
    (b"-----BEGIN EC PRIVATE KEY-----", "a PEM private key", 1),
    (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", "a PEM private key", 1),
    (b"text -----BEGIN PRIVATE KEY----- MC4CAQAw", "a PEM private key", 1),
    (b"-----BEGIN PGP PRIVATE KEY BLOCK-----", "a PEM private key", 1),
    # The body alone, without its BEGIN/END lines (every OpenSSH key body starts so).
    (b"\n\n" + b"".join(OPENSSH.splitlines(keepends=True)[1:-1]), "the body of an OpenSSH "
     "private key", 3),
    (b"PuTTY-User-Key-File-3: ssh-ed25519\r\n", "a PuTTY private key", 1),
])
def test_private_key_material_is_found(data: bytes, kind: str, line: int) -> None:
    found = private_key_material(data)
    assert found is not None and (found.kind, found.line) == (kind, line)
    assert scan_for_private_key(io.BytesIO(data)) == found


@pytest.mark.parametrize("data", [
    b"",
    sshsig.public_key_line(KEY.public_key()).encode(),  # public keys are fine
    b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
    b"-----BEGIN CERTIFICATE-----\n",
    b"-----BEGIN SSH SIGNATURE-----\n",
    b'{"schema_version": "2.0", "models": []}\n',
    b"the words private key in a sentence",
], ids=lambda data: data[:20].decode("ascii", "replace"))  # the key is new on every run
def test_no_private_key(data: bytes) -> None:
    assert private_key_material(data) is None
    assert scan_for_private_key(io.BytesIO(data)) is None


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300), st.sampled_from(
    [b"-----BEGIN OPENSSH PRIVATE KEY-----", b"-----BEGIN RSA PRIVATE KEY-----",
     b"b3BlbnNzaC1rZXktdjE"]), st.integers(min_value=1, max_value=64))
def test_the_stream_scan_finds_what_the_whole_scan_finds(before: bytes, after: bytes,
                                                          marker: bytes, chunk: int) -> None:
    # Tiny reads put the marker across read boundaries.
    data = before + marker + after
    original = keys._CHUNK
    keys._CHUNK = chunk
    try:
        assert scan_for_private_key(io.BytesIO(data)) == private_key_material(data)
    finally:
        keys._CHUNK = original
    assert private_key_material(data) is not None


# --- lint and release agree -----------------------------------------------------------------

STRAY = ["versions/.env", "versions/.DS_Store", "versions/v1.0.0/notes.txt",
         "versions/v1.0.0/models/README.md", "versions/v1.0.0/models/a.JSON",
         "versions/v1.0.0/models/old/b.json", "versions/v1.0.0/huggingface.json",
         "versions/v9.9.9/models/.gitkeep"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(STRAY), unique=True, max_size=4), st.booleans())
def test_lint_reports_exactly_the_files_release_refuses(stray: list[str], key: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp), {"v1.0.0/huggingface": two_model_config()}, INDEX)
        for name in stray:
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_bytes(OPENSSH if key else b"not a model\n")
        found = lint_repo(repo, base=repo, checks=("index",)).findings
        linted = {f.path for f in found if f.rule == "R036"}
        keys = {f.path for f in found if f.rule == "R037"}
        try:
            collect(repo, use_git=False)
            refused: set[str] = set()
        except FilesRefused as exc:
            assert exc.code == "R036"
            refused = {path for path, _ in exc.problems}
        assert linted == refused == set(stray)
        assert keys == (set(stray) if key else set())


def test_the_validate_hook_finds_a_key_pasted_into_a_model_file(tmp_path: Path) -> None:
    # check-index (run on every commit) reads no model file for R037: validate, which reads
    # each file it checks anyway, reports it, at the key's line.
    from tests.support.helpers import cli, findings_json

    config = two_model_config()
    config["models"][0]["metadata"] = {"note": OPENSSH.decode()}
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config}, INDEX)
    named = repo / "versions/v1.0.0/models/huggingface.json"
    found = [f for f in findings_json(cli("validate", named, "--format", "json", cwd=repo))
             if f["rule"] == "R037"]
    assert len(found) == 1 and found[0]["line"] > 1
    assert "PRIVATE KEY-----" not in found[0]["message"]
    index_run = cli("check-index", "--format", "json", cwd=repo)
    assert "R037" not in {f["rule"] for f in findings_json(index_run)}


# --- names that are one file on macOS and Windows, and symlinks (issue 15) -----------------

MODELS = "versions/v1.0.0/models/"
NAMES = [MODELS + n for n in ("huggingface.json", "HuggingFace.json", "caf\u00e9.json",
                              "cafe\u0301.json", "Caf\u00e9.json", "other.json")]
LINKS = ["none", "inside", "outside", "dangling", "loop"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(NAMES[1:]), unique=True, max_size=3), st.sampled_from(LINKS))
def test_lint_reports_the_collisions_and_links_release_refuses(extra: list[str],
                                                               link: str) -> None:
    from repo_tools.release.errors import ReleaseRefused

    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp) / "repo", {"v1.0.0/huggingface": two_model_config()}, INDEX)
        for name in extra:
            (repo / name).write_bytes((repo / NAMES[0]).read_bytes())
        linked = repo / MODELS / "linked.json"
        outside = Path(tmp) / "outside.json"
        outside.write_bytes((repo / NAMES[0]).read_bytes())
        target = {"inside": repo / NAMES[0], "outside": outside, "dangling": Path(tmp) / "x",
                  "loop": linked}.get(link)
        if target is not None:
            linked.symlink_to(target)
        found = lint_repo(repo, base=repo, checks=("index",)).findings
        collisions = {f.path for f in found if f.rule == "R038"}
        links = {f.path for f in found if f.rule == "R039"}
        assert links == ({MODELS + "linked.json"} if link in ("outside", "dangling", "loop")
                         else set())
        try:
            taken = collect(repo, use_git=False)
            for config_version in taken.versions:  # files are read a version at a time
                taken.read_version(config_version)
        except FilesRefused as exc:
            assert exc.code == "R038"  # names are checked before any file is read
            assert {path for path, _ in exc.problems} == collisions != set()
        except ReleaseRefused as exc:
            assert exc.code == "R039" and exc.path in links
        else:
            assert collisions == links == set()


_PARTS = st.sampled_from(["versions", "models", "v1.0.0", "a.json", ".json", "", "json",
                          "a.jsonx", "a.json\n", "x\n.json", "Models", "versions "])


@given(st.lists(_PARTS, min_size=1, max_size=6))
def test_is_model_file_path_is_the_four_part_layout(parts: list[str]) -> None:
    # A compiled match stands in for the split, checked against the split itself.
    from repo_tools.repo import is_model_file_path

    path = "/".join(parts)
    assert is_model_file_path(path) == (
        len(parts) == 4 and parts[0] == "versions" and parts[2] == "models"
        and parts[3].endswith(".json"))
