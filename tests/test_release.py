"""`repo-tools release`, `verify` and `keygen` end to end: real git repos, real ssh-keygen,
a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.lint import lint_repo
from repo_tools.release import signing, sshsig
from repo_tools.release.archive import ReleaseFile, build_archive, collect, read_members
from repo_tools.release.errors import ReleaseRefused, VerificationError
from repo_tools.release.fetch import locate
from repo_tools.release.manifest import canonical_json
from repo_tools.release.publish import ReleaseRequest, prepare_release
from repo_tools.release.publish import _index_value as index_value
from repo_tools.release.verify import VerifiedRelease, verify_published
from tests.support.helpers import (
    Run,
    cli,
    config,
    findings_json,
    git,
    make_repo,
    model,
    rules_of,
    run_tool,
    write_json,
)
from tests.support.httpserver import QuietFolderHandler, serve_folder
from tests.support.release_helpers import (
    INDEX,
    PRINCIPAL,
    SSH_KEYGEN,
    allowed_line,
    commit_all,
    git_config_repo,
    needs_ssh_keygen,
    two_model_config,
    write_ssh_key,
)

KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    repo = git_config_repo(tmp_path / "repo")
    key = write_ssh_key(tmp_path / "release_key", KEY)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(allowed_line(KEY))
    return {"repo": repo, "key": key, "allowed": allowed, "out": tmp_path / "out",
            "tmp": tmp_path}


def release(s: dict[str, Path], *extra: str) -> Run:
    return cli("release", "--repo", s["repo"], "--key", s["key"], "--out", s["out"],
               "--created", "now", *extra, cwd=s["tmp"])


def published(s: dict[str, Path], source: str | Path | None = None,
              manifest_name: str = "manifest.json",
              allowed: Path | None = None) -> VerifiedRelease:
    """The release in --out (or source: a folder or URL) verified as a client verifies it,
    every archive included; raises VerificationError."""
    where, name = locate(str(source or s["out"]), manifest_name=manifest_name)
    return verify_published(where, name, (allowed or s["allowed"]).read_text(),
                            now=dt.datetime.now(dt.UTC))


def manifest(out: Path, name: str = "manifest.json") -> dict[str, object]:
    doc: dict[str, object] = json.loads((out / name).read_bytes())
    return doc


def archives(out: Path) -> dict[str, bytes]:
    """<sha256>.tar -> bytes, every archive in a release folder (flat, beside the manifest)."""
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.tar"))}


def archive_of(out: Path, config_version: str = "v1.0.0", name: str = "manifest.json") -> Path:
    """The archive file that manifest `name` in out names for config_version."""
    entry = manifest(out, name)["versions"][config_version]  # type: ignore[index]
    return out / str(entry["archive"])


def tree(out: Path) -> dict[str, bytes]:
    """Every file under out (relative path -> bytes), staging folders included."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def leftovers(*folders: Path) -> list[Path]:
    """Staging folders (`.release-*`) a release left behind in these folders."""
    return [p for folder in folders if folder.is_dir() for p in folder.glob(".release-*")]


# --- the happy path ------------------------------------------------------------------------

def test_release_then_verify(setup: dict[str, Path]) -> None:
    run = release(setup)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "previous release: none" in run.stdout
    out = setup["out"]
    [(name, data)] = archives(out).items()
    sha = hashlib.sha256(data).hexdigest()
    assert name == f"{sha}.tar"
    assert sorted(tree(out)) == sorted(["1.manifest.json", "1.manifest.json.sig", name,
                                        "manifest.json", "manifest.json.sig"])
    doc = manifest(out)
    assert doc["schema"] == "repo-tools-release/2"
    assert doc["bundle_version"] == 1
    assert doc["repository"] == "repo"
    assert doc["commit"] == git(setup["repo"], "rev-parse", "HEAD")
    assert doc["index"] == json.loads((setup["repo"] / "index.json").read_bytes())
    assert doc["versions"] == {"v1.0.0": {"archive": name, "size": len(data), "sha256": sha,
                                          "files": 1}}
    assert "files" not in doc and "bundle" not in doc  # no per-file list in format 2
    raw = (out / "manifest.json").read_bytes()
    assert raw == canonical_json(doc) and not raw.endswith(b"\n")  # RFC 8785, as signed
    assert (out / "1.manifest.json").read_bytes() == raw
    assert (out / "1.manifest.json.sig").read_bytes() == (out / "manifest.json.sig").read_bytes()
    model_file = "versions/v1.0.0/models/huggingface.json"
    assert [(m.name, m.data) for m in read_members(data, max_members=10)] == [
        (model_file, (setup["repo"] / model_file).read_bytes())]
    verified = published(setup)
    assert dict(verified.files) == {"index.json": canonical_json(doc["index"]),
                                    model_file: (setup["repo"] / model_file).read_bytes()}
    assert verified.manifest.file_count == 2 and verified.signer == PRINCIPAL
    assert (f"published repo bundle_version 1 to {out}: 1 archive(s) of {len(data)} bytes "
            "(1 new), 2 files") in run.stdout
    assert not leftovers(out, setup["tmp"])


@needs_ssh_keygen
def test_real_ssh_keygen_verifies_the_release(setup: dict[str, Path]) -> None:
    assert release(setup).exit_code == 0
    out = setup["out"]
    for name in ("manifest.json", "1.manifest.json"):
        proc = subprocess.run(
            [str(SSH_KEYGEN), "-Y", "verify", "-f", str(setup["allowed"]), "-I", PRINCIPAL,
             "-n", sshsig.NAMESPACE, "-s", str(out / f"{name}.sig")],
            stdin=(out / name).open("rb"), capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr
        assert b"Good \"repo-tools-release@v1\" signature" in proc.stdout


@needs_ssh_keygen
def test_ssh_keygen_signer_and_keygen_command(setup: dict[str, Path]) -> None:
    tmp = setup["tmp"]
    made = cli("keygen", tmp / "newkey", "--principal", "me@example.org")
    assert made.exit_code == 0
    assert (tmp / "newkey").stat().st_mode & 0o777 == 0o600
    line = (tmp / "newkey.allowed_signers").read_text()
    assert line in made.stdout and line.startswith('me@example.org namespaces="')
    again = cli("keygen", tmp / "newkey")
    assert again.exit_code == 2 and "never overwrites" in again.stderr
    run = cli("release", "--repo", setup["repo"], "--key", tmp / "newkey", "--out",
              setup["out"], "--created", "now", "--signer", "ssh-keygen", cwd=tmp)
    assert run.exit_code == 0, run.stderr
    proc = subprocess.run(
        [str(SSH_KEYGEN), "-Y", "verify", "-f", str(tmp / "newkey.allowed_signers"), "-I",
         "me@example.org", "-n", sshsig.NAMESPACE, "-s", str(setup["out"] / "manifest.json.sig")],
        stdin=(setup["out"] / "manifest.json").open("rb"), capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr


# --- reproducibility -----------------------------------------------------------------------

def _clone_with(src: Path, dest: Path, umask: int, mtime: int) -> Path:
    old = os.umask(umask)
    try:
        subprocess.run(["git", "clone", "-q", str(src), str(dest)], check=True,
                       capture_output=True)
    finally:
        os.umask(old)
    for path in dest.rglob("*"):
        if ".git" not in path.parts:
            os.utime(path, (mtime, mtime))
    return dest


def test_same_commit_builds_byte_identical_releases(setup: dict[str, Path]) -> None:
    tmp = setup["tmp"]
    a = _clone_with(setup["repo"], tmp / "a" / "repo", 0o022, 1_000_000_000)
    b = _clone_with(setup["repo"], tmp / "b" / "repo", 0o077, 2_000_000_000)
    assert (a / "index.json").stat().st_mode != (b / "index.json").stat().st_mode
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    outs = []
    for clone, umask in ((a, "022"), (b, "077")):
        out = clone.parent / "out"
        # A separate process per build: another umask, another clock reading.
        proc = subprocess.run(
            ["sh", "-c", f'umask {umask}; exec "$0" -m repo_tools release --repo "$1" '
             '--key "$2" --out "$3" --repository example.org/models --expires-days 3650',
             sys.executable, str(clone), str(setup["key"]), str(out)],
            capture_output=True, text=True, env=env, check=False)
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    files_a, files_b = tree(outs[0]), tree(outs[1])
    assert len(archives(outs[0])) == 1 and files_a == files_b  # manifests, signatures, archives
    created = manifest(outs[0])["created"]
    assert created == "2026-01-01T00:00:00Z"  # the commit time, not the clock


def test_library_build_ignores_the_clock(setup: dict[str, Path]) -> None:
    request = ReleaseRequest(setup["repo"], setup["tmp"] / "o", repository="x", dry_run=True)
    first = prepare_release(request, now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC), environ={})
    second = prepare_release(request, now=dt.datetime(2026, 1, 20, tzinfo=dt.UTC), environ={})
    assert first.manifest_bytes == second.manifest_bytes  # the archives' hashes are in it
    assert first.manifest.created == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the commit's
    epoch = prepare_release(request, now=dt.datetime(2026, 1, 20, tzinfo=dt.UTC),
                            environ={"SOURCE_DATE_EPOCH": "1767312000"})
    assert epoch.manifest.created == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert epoch.manifest.versions == first.manifest.versions  # the time is not in an archive
    assert not (setup["tmp"] / "o").exists() and not leftovers(setup["tmp"])


NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.é", min_size=1, max_size=20)


@given(st.dictionaries(st.lists(NAME.filter(lambda n: n not in (".", "..")), min_size=1,
                                max_size=4).map(lambda parts: "versions/" + "/".join(parts)),
                       st.binary(max_size=600), max_size=8))
def test_archive_round_trips_and_is_deterministic(files: dict[str, bytes]) -> None:
    import io
    import tarfile

    listed = sorted((ReleaseFile(p, d) for p, d in files.items()),
                    key=lambda f: f.path.encode())
    archive = build_archive(listed)
    assert archive == build_archive([ReleaseFile(f.path, f.data) for f in listed])
    members = read_members(archive, max_members=100)
    assert [(m.name, m.data) for m in members] == [(f.path, f.data) for f in listed]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:  # nothing of the build in it
        assert {(i.mtime, i.mode, i.uid, i.gid, i.uname, i.gname) for i in tar} <= {
            (0, 0o644, 0, 0, "", "")}


# --- versions and the previous release -----------------------------------------------------

def test_versions_go_up_and_never_back(setup: dict[str, Path]) -> None:
    assert release(setup).exit_code == 0
    second = release(setup)
    assert second.exit_code == 0 and "previous release: bundle_version 1" in second.stdout
    assert manifest(setup["out"])["bundle_version"] == 2
    back = release(setup, "--bundle-version", "2", "--format", "json")
    assert back.exit_code == 1 and rules_of(back) == {"R031"}
    jump = release(setup, "--bundle-version", "7")
    assert jump.exit_code == 0 and manifest(setup["out"])["bundle_version"] == 7
    assert release(setup).exit_code == 0
    assert manifest(setup["out"])["bundle_version"] == 8


def test_version_already_in_out_is_not_reused(setup: dict[str, Path]) -> None:
    assert release(setup).exit_code == 0
    elsewhere = setup["tmp"] / "elsewhere"
    shutil.copytree(setup["out"], elsewhere)
    (setup["out"] / "manifest.json").unlink()  # the pointer is gone, the snapshot is not
    run = release(setup, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R031"}
    ok = release(setup, "--previous", str(elsewhere / "manifest.json"), "--bundle-version", "2")
    assert ok.exit_code == 0, ok.stdout


def test_quiet_release_prints_nothing_on_success(setup: dict[str, Path]) -> None:
    made = release(setup, "-q")
    assert (made.exit_code, made.stdout, made.stderr) == (0, "", "")
    assert manifest(setup["out"])["bundle_version"] == 1
    assert published(setup).manifest.bundle_version == 1


def _flip_a_member_byte(path: Path) -> None:
    """One flipped bit in the first member's data: the archive no longer matches its name."""
    data = bytearray(path.read_bytes())
    data[600] ^= 0x01
    path.write_bytes(bytes(data))


def _change_the_model_file(repo: Path) -> None:
    doc = two_model_config()
    doc["models"][0]["download"]["url"] = "https://example.org/moved.gguf"
    write_json(repo / "versions/v1.0.0/models/huggingface.json", doc)
    commit_all(repo, "move a download")


def test_a_previous_release_that_fails_verification_is_refused(setup: dict[str, Path]) -> None:
    assert release(setup).exit_code == 0
    out = setup["out"]
    _flip_a_member_byte(archive_of(out))
    # The new release changes v1.0.0, so the diff reads its previous archive: R034.
    _change_the_model_file(setup["repo"])
    before = tree(out)
    run = release(setup, "--format", "json")
    assert run.exit_code == 1, run.stdout + run.stderr
    found = findings_json(run)
    assert [f["rule"] for f in found] == ["R034"]
    assert "R014" in found[0]["message"]  # the verifier's reason, in its words
    assert tree(out) == before and not leftovers(out, setup["tmp"])  # nothing was written
    # The same release named with --previous is refused the same way.
    elsewhere = setup["tmp"] / "elsewhere"
    shutil.copytree(out, elsewhere)
    shutil.rmtree(out)
    named = release(setup, "--previous", str(elsewhere), "--format", "json")
    assert named.exit_code == 1 and rules_of(named) == {"R034"}
    assert not out.exists() and not leftovers(setup["tmp"])


def test_a_tampered_archive_in_out_is_refused_not_kept(setup: dict[str, Path]) -> None:
    # The same commit again: its archive has the name of the one in --out, so release keeps
    # that file (archives are never rewritten); a file there that does not match its name
    # is a broken --out (R034), not something to publish under a new manifest.
    assert release(setup).exit_code == 0
    out = setup["out"]
    _flip_a_member_byte(archive_of(out))
    before = tree(out)
    run = release(setup, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R034"}, run.stdout + run.stderr
    found = findings_json(run)[0]
    assert found["path"] == str(archive_of(out)) and "SHA-256" in found["message"]
    assert tree(out) == before and not leftovers(out, setup["tmp"])


def test_a_previous_release_of_another_repository_is_refused(setup: dict[str, Path]) -> None:
    assert release(setup, "--repository", "example.org/models").exit_code == 0
    run = release(setup, "--repository", "example.org/other", "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R034"}
    message = findings_json(run)[0]["message"]
    assert "'example.org/models', not 'example.org/other'" in message
    assert manifest(setup["out"])["bundle_version"] == 1


@pytest.fixture
def http_server(setup: dict[str, Path]) -> Iterator[str]:
    with serve_folder(setup["out"]) as url:
        yield url


def test_previous_release_over_http(setup: dict[str, Path], http_server: str) -> None:
    assert release(setup).exit_code == 0
    _change_the_model_file(setup["repo"])  # so the diff reads the old archive over HTTP
    other_out = setup["tmp"] / "staging"
    run = cli("release", "--repo", setup["repo"], "--key", setup["key"], "--out", other_out,
              "--created", "now", "--previous", http_server, cwd=setup["tmp"])
    assert run.exit_code == 0, run.stdout + run.stderr
    assert f"previous release: bundle_version 1 ({http_server}manifest.json)" in run.stdout
    assert "changed v1.0.0: huggingface/llama-3.2-1b-instruct:q4_k_m (url " in run.stdout
    assert manifest(other_out)["bundle_version"] == 2
    assert published(setup, other_out).manifest.bundle_version == 2
    assert published(setup, http_server).manifest.bundle_version == 1
    missing = cli("release", "--repo", setup["repo"], "--key", setup["key"], "--out",
                  other_out, "--created", "now", "--previous", http_server + "nothing-here/",
                  cwd=setup["tmp"])
    assert missing.exit_code == 2 and "HTTP 404" in missing.stderr


def test_oversize_archive_over_http_is_cut_off(setup: dict[str, Path], http_server: str) -> None:
    assert release(setup).exit_code == 0
    path = archive_of(setup["out"])
    size = path.stat().st_size
    path.write_bytes(path.read_bytes() + bytes(10 * 1024 * 1024))
    name = path.name
    with pytest.raises(VerificationError) as caught:
        published(setup, http_server)
    assert (caught.value.code, caught.value.path) == ("R001", name)
    assert f"limit of {size} bytes" in caught.value.message  # the signed size, not 256 MiB
    # A URL naming the manifest file is its folder and that manifest, as for the client.
    with pytest.raises(VerificationError) as named:
        published(setup, http_server + "1.manifest.json")
    assert (named.value.code, named.value.path) == ("R001", name)
    # release reads a previous archive over HTTP with the same cap (R034, the reason R001).
    _change_the_model_file(setup["repo"])
    run = cli("release", "--repo", setup["repo"], "--key", setup["key"], "--out",
              setup["tmp"] / "o2", "--created", "now", "--previous", http_server,
              "--format", "json", cwd=setup["tmp"])
    assert run.exit_code == 1 and rules_of(run) == {"R034"}, run.stdout + run.stderr
    assert "R001" in findings_json(run)[0]["message"]


# --- the diff and removals -----------------------------------------------------------------

def test_diff_is_printed_and_removals_in_use_are_refused(setup: dict[str, Path]) -> None:
    assert release(setup).exit_code == 0
    repo = setup["repo"]
    doc = two_model_config()
    doc["models"][0]["download"]["url"] = "https://example.org/moved.gguf"
    doc["models"][0]["download"]["sha256"] = "c" * 64
    doc["models"].append(model(model="tiny", download={
        "url": "https://example.org/tiny.gguf", "sha256": "d" * 64,
        "cachePath": "huggingface/tiny.gguf"}))
    write_json(repo / "versions/v1.0.0/models/huggingface.json", doc)
    commit_all(repo, "change")
    run = release(setup)
    assert run.exit_code == 0, run.stdout
    assert "1 changed" in run.stdout
    assert "changed v1.0.0: huggingface/llama-3.2-1b-instruct:q4_k_m (sha256 changed; url " \
        in run.stdout
    assert "added v1.0.0: huggingface/tiny" in run.stdout

    del doc["models"][1]  # phi-3-mini: clients 1.0.0..2.0.0 get it today
    write_json(repo / "versions/v1.0.0/models/huggingface.json", doc)
    commit_all(repo, "remove phi")
    refused = release(setup, "--format", "json")
    assert refused.exit_code == 1
    assert rules_of(refused) == {"R032"}
    messages = [f["message"] for f in findings_json(refused)]
    assert "1 model(s) would be taken from clients in range" in messages[0]
    assert "huggingface/phi-3-mini" in messages[1] and "1.0.0 <= c <= 2.0.0" in messages[1]
    assert manifest(setup["out"])["bundle_version"] == 2  # nothing was written
    allowed = release(setup, "--allow-removals")
    assert allowed.exit_code == 0
    assert "removed v1.0.0: huggingface/phi-3-mini" in allowed.stdout
    assert "in use: huggingface/phi-3-mini" in allowed.stdout


def test_dropping_clients_from_the_index_counts_as_removal(setup: dict[str, Path]) -> None:
    assert release(setup).exit_code == 0
    write_json(setup["repo"] / "index.json", {"versions": {"v1.0.0": {
        "min_client_version": "1.5.0", "max_client_version": None}}})
    commit_all(setup["repo"], "narrow")
    run = release(setup, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R032"}
    assert all("no config version serves them" in f["message"]
               for f in findings_json(run)[1:])
    assert len(findings_json(run)) == 3  # the summary and both models


# --- refusals ------------------------------------------------------------------------------

def test_lint_errors_refuse_the_release(setup: dict[str, Path]) -> None:
    doc = two_model_config()
    doc["models"][0]["download"]["sha256"] = "not-a-hash"
    write_json(setup["repo"] / "versions/v1.0.0/models/huggingface.json", doc)
    commit_all(setup["repo"], "break")
    run = release(setup, "--format", "json")
    assert run.exit_code == 1
    assert {"V005", "R030"} <= rules_of(run)
    assert not setup["out"].exists()


def test_uncommitted_changes_refuse_the_release(setup: dict[str, Path]) -> None:
    extra = two_model_config()
    for entry in extra["models"]:
        entry["provider"] = "extra"
        entry["download"]["cachePath"] = "extra/" + entry["download"]["cachePath"]
    write_json(setup["repo"] / "versions/v1.0.0/models/extra.json", extra)
    run = release(setup, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R035"}  # a valid file, but untracked
    (setup["repo"] / "versions/v1.0.0/models/extra.json").unlink()
    (setup["repo"] / "versions/v1.0.0/notes.txt").write_text("draft")
    run = release(setup, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R035"}
    # Committing it would only trade R035 for R036: the message says so now.
    assert "'versions/v1.0.0/notes.txt' would not be published once committed either" in \
        findings_json(run)[0]["message"]


def test_dirty_worktree_names_the_changed_file(setup: dict[str, Path]) -> None:
    # An unstaged edit comes first in `git status` as " M path": its path must be whole.
    changed = setup["repo"] / "versions/v1.0.0/models/huggingface.json"
    changed.write_text(changed.read_text() + "\n")
    (setup["repo"] / "versions/v1.0.0/draft notes.txt").write_text("draft")
    run = release(setup, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R035"}
    found = findings_json(run)[0]
    assert found["path"].endswith("versions/v1.0.0/models/huggingface.json")
    assert "2 uncommitted path(s), first 'versions/v1.0.0/models/huggingface.json'" in \
        found["message"]


def test_symlink_out_of_the_repo_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "plain", {"v1.0.0/huggingface": two_model_config()}, INDEX)
    # A valid model file outside the repo, so that the checks pass and only release objects.
    outside = write_json(tmp_path / "outside.json", config(model(
        provider="outside", download={"url": "https://example.org/o.gguf", "sha256": "c" * 64,
                                      "cachePath": "outside/o.gguf"})))
    (repo / "versions/v1.0.0/models/outside.json").symlink_to(outside)
    key = write_ssh_key(tmp_path / "k", KEY)
    run = cli("release", "--repo", repo, "--key", key, "--out", tmp_path / "out",
              "--created", "now", "--format", "json", cwd=tmp_path)
    # lint reports it first (R039), so release refuses before archiving (R030)
    assert run.exit_code == 1 and rules_of(run) == {"R039", "R030"}
    assert "symlink" in findings_json(run)[0]["message"]
    with pytest.raises(ReleaseRefused) as refused:
        collect(repo, use_git=False).read_version("v1.0.0")
    assert refused.value.code == "R039"


def test_old_commit_would_be_expired(setup: dict[str, Path]) -> None:
    run = cli("release", "--repo", setup["repo"], "--key", setup["key"], "--out",
              setup["out"], "--created", "1000000000", cwd=setup["tmp"])
    assert run.exit_code == 2 and "has passed" in run.stderr


def test_bad_key_is_a_usage_error(setup: dict[str, Path]) -> None:
    (setup["tmp"] / "junk").write_text("nope")
    run = cli("release", "--repo", setup["repo"], "--key", setup["tmp"] / "junk", "--out",
              setup["out"], "--created", "now", cwd=setup["tmp"])
    assert run.exit_code == 2 and "not an OpenSSH private key" in run.stderr
    assert not setup["out"].exists() and not leftovers(setup["tmp"])


def test_passphrase_from_the_environment(setup: dict[str, Path],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("bcrypt", reason="encrypted OpenSSH keys need the bcrypt package")
    key = write_ssh_key(setup["tmp"] / "enc", KEY, passphrase="pw-123")
    run = cli("release", "--repo", setup["repo"], "--key", key, "--out", setup["out"],
              "--created", "now", cwd=setup["tmp"])
    assert run.exit_code == 2 and "passphrase-protected" in run.stderr
    monkeypatch.setenv("REPO_TOOLS_KEY_PASSPHRASE", "pw-123")
    run = cli("release", "--repo", setup["repo"], "--key", key, "--out", setup["out"],
              "--created", "now", cwd=setup["tmp"])
    assert run.exit_code == 0, run.stderr


# --- verify on the command line ------------------------------------------------------------

def test_unusable_urls_and_ids_are_usage_errors(setup: dict[str, Path]) -> None:
    for url in ("http://example.invalid:port/", "http://[::1/"):
        run = release(setup, "--previous", url)
        assert run.exit_code == 2 and "Traceback" not in run.stderr, run.stderr
    for repository in ("a\nb", "x" * 257):
        run = release(setup, "--repository", repository)
        assert run.exit_code == 2 and "printable characters" in run.stderr, run.stderr
    assert not setup["out"].exists() and not leftovers(setup["tmp"])
    bad = cli("keygen", setup["tmp"] / "k", "--principal", "two words")
    assert bad.exit_code == 2 and "--principal" in bad.stderr
    assert not (setup["tmp"] / "k").exists()


# --- what a release publishes: index.json and versions/*/models/*.json only (issue 13) ----

def _crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def test_stray_files_and_keys_under_versions_are_reported_then_refused(
        setup: dict[str, Path]) -> None:
    repo, tmp = setup["repo"], setup["tmp"]
    (repo / "versions/.env").write_text("API_TOKEN=tok-0123456789abcdef\n")
    (repo / "versions/v1.0.0/notes.txt").write_text("draft release notes\n")
    # A copy of the signing key with other line endings: not the same bytes as --key.
    (repo / "versions/v1.0.0/signing-key.txt").write_bytes(_crlf(setup["key"].read_bytes()))
    commit_all(repo, "oops")

    lint = cli("lint", "--repo", repo, "--format", "json", cwd=tmp)
    assert lint.exit_code == 1
    reported = {(f["rule"], f["path"]) for f in findings_json(lint)}
    assert reported == {("R036", "repo/versions/.env"),
                        ("R036", "repo/versions/v1.0.0/notes.txt"),
                        ("R036", "repo/versions/v1.0.0/signing-key.txt"),
                        ("R037", "repo/versions/v1.0.0/signing-key.txt")}
    messages = {f["rule"]: f["message"] for f in findings_json(lint)}
    assert "move it out of versions/ or delete it" in messages["R036"]
    assert "an OpenSSH private key" in messages["R037"]

    runs = [release(setup, "--format", "json"), release(setup, "--dry-run", "--format", "json"),
            release(setup), lint, cli("lint", "--repo", repo, cwd=tmp)]
    for run in runs[:2]:
        assert run.exit_code == 1
        assert {(f["rule"], f["path"]) for f in findings_json(run)} == \
            reported | {("R030", str(repo))}
    assert not setup["out"].exists()
    texts = [(run.stdout + run.stderr).encode() for run in runs]
    for form in [*_secret_forms(KEY, setup["key"]), b"tok-0123456789abcdef"]:
        assert not any(form in text for text in texts)

    git(repo, "rm", "-q", "versions/.env", "versions/v1.0.0/notes.txt",
        "versions/v1.0.0/signing-key.txt")
    commit_all(repo, "what lint said")
    assert release(setup).exit_code == 0
    assert sorted(published(setup).files) == [
        "index.json", "versions/v1.0.0/models/huggingface.json"]


def test_release_refuses_what_the_lint_settings_turned_off(setup: dict[str, Path]) -> None:
    repo, tmp = setup["repo"], setup["tmp"]
    (repo / ".repo-tools.toml").write_text('disable = ["R036", "R037"]\n')
    (repo / "versions/v1.0.0/models/README.md").write_text("how these files are made\n")
    commit_all(repo, "stray")
    assert cli("lint", "--repo", repo, cwd=tmp).exit_code == 0
    run = release(setup, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R036"}
    assert [f["path"] for f in findings_json(run)] == ["versions/v1.0.0/models/README.md"]
    assert not setup["out"].exists()

    # Key material inside a model file that passes every check (the model's name).
    git(repo, "rm", "-q", "versions/v1.0.0/models/README.md")
    doc = two_model_config()
    body = base64.b64encode(b"openssh-key-v1\0" + bytes(range(40))).decode()
    doc["models"][1]["model"] = f"phi -----BEGIN OPENSSH PRIVATE KEY----- {body}"
    write_json(repo / "versions/v1.0.0/models/huggingface.json", doc)
    commit_all(repo, "pasted")
    assert cli("lint", "--repo", repo, cwd=tmp).exit_code == 0
    run = release(setup, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R037"}
    found = findings_json(run)[0]
    assert found["path"] == "versions/v1.0.0/models/huggingface.json"
    assert "an OpenSSH private key" in found["message"] and body[:24] not in run.stdout
    assert not setup["out"].exists()


@pytest.mark.parametrize("text", [
    "-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAA\r\n",  # CRLF
    '{"note": "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA\\n"}',  # JSON-escaped
    "prefix text -----BEGIN PRIVATE KEY----- MC4CAQAwBQYDK2VwBCIEI suffix",  # one line
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",  # a body without its armour
])
def test_any_private_key_in_what_would_be_published_is_found(tmp_path: Path, text: str) -> None:
    # index.json is published too. collect is release's own check (it runs even if
    # the settings turned the lint rule off); lint finds the same key first.
    repo = make_repo(tmp_path / "plain", {"v1.0.0/huggingface": two_model_config()}, INDEX)
    (repo / "index.json").write_text(text)
    with pytest.raises(ReleaseRefused) as caught:
        collect(repo, use_git=False)
    assert (caught.value.code, caught.value.path) == ("R037", "index.json")
    assert text.strip() not in str(caught.value) and "b3BlbnNzaC1rZXktdjE" not in str(caught.value)
    linted = lint_repo(repo, base=repo, checks=("index",)).findings
    assert [(f.rule, f.path, f.line) for f in linted if f.rule == "R037"] == [
        ("R037", "index.json", 1)]


# --- keys: keygen's warnings and passphrases (issue 21, item 6) ----------------------------

def test_keygen_says_the_key_is_unencrypted_and_must_stay_out_of_the_repo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPO_TOOLS_KEY_PASSPHRASE", raising=False)
    made = cli("keygen", tmp_path / "k", "--principal", PRINCIPAL)
    assert made.exit_code == 0
    assert "is not encrypted" in made.stderr
    assert f"ssh-keygen -p -f {tmp_path / 'k'}" in made.stderr
    assert "--passphrase-prompt" in made.stderr
    assert f"Never commit {tmp_path / 'k'}" in made.stderr
    assert "git work tree" not in made.stderr  # tmp_path is not in one
    # stdout stays what clients need: the files and the allowed_signers line
    assert "encrypted" not in made.stdout
    assert (tmp_path / "k.allowed_signers").read_text() in made.stdout
    assert signing.load_private_key(tmp_path / "k") is not None


def test_keygen_inside_a_git_work_tree_says_so_unless_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPO_TOOLS_KEY_PASSPHRASE", raising=False)
    git(tmp_path, "init", "-q")
    made = cli("keygen", tmp_path / "k")
    assert made.exit_code == 0
    assert f"inside the git work tree {tmp_path}" in made.stderr
    (tmp_path / ".gitignore").write_text("ignored-key\n")
    made = cli("keygen", tmp_path / "ignored-key")
    assert made.exit_code == 0 and "git work tree" not in made.stderr


def _keygen_with_input(path: Path, given: str) -> Run:
    from click.testing import CliRunner

    from repo_tools.cli import main

    result = CliRunner().invoke(main, ["keygen", str(path), "--passphrase-prompt"],
                                input=given, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def test_keygen_passphrase_prompt_asks_twice_and_encrypts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("bcrypt", reason="encrypted OpenSSH keys need the bcrypt package")
    monkeypatch.delenv("REPO_TOOLS_KEY_PASSPHRASE", raising=False)
    made = _keygen_with_input(tmp_path / "k", "s3cret phrase\ns3cret phrase\n")
    assert made.exit_code == 0, made.stderr
    assert "s3cret" not in made.stdout + made.stderr  # hidden input
    assert made.stderr.count("passphrase") >= 1 and "Repeat" in made.stderr
    assert "not encrypted" not in made.stderr and "Never commit" in made.stderr
    with pytest.raises(signing.SigningKeyError, match="passphrase-protected"):
        signing.load_private_key(tmp_path / "k")
    assert signing.load_private_key(tmp_path / "k", "s3cret phrase") is not None
    # Two different answers and then no more input: nothing is written.
    mismatch = _keygen_with_input(tmp_path / "k2", "one\ntwo\n")
    assert mismatch.exit_code != 0 and "do not match" in mismatch.stderr
    assert not list(tmp_path.glob("k2*"))


def test_keygen_passphrase_without_bcrypt_fails_before_asking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "bcrypt" else real(name, *a))
    made = _keygen_with_input(tmp_path / "k", "")
    assert made.exit_code == 2
    assert "model-config-tools[release]" in made.stderr and "ssh-keygen -p -f" in made.stderr
    assert "passphrase:" not in made.stderr.lower()  # no prompt was shown
    assert not list(tmp_path.glob("k*"))


def _tool_with_stdin(args: list[str | Path], given: str,
                     cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m repo_tools` fed on stdin, in a new session: with no controlling terminal,
    the hidden prompt reads stdin, as in a pipeline or a CI job."""
    env = {k: v for k, v in os.environ.items() if k != "REPO_TOOLS_KEY_PASSPHRASE"}
    return subprocess.run([sys.executable, "-m", "repo_tools", *map(str, args)], input=given,
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
                          start_new_session=True, check=False)


@needs_ssh_keygen
def test_keygen_passphrase_on_stdin_then_release_then_verify(setup: dict[str, Path]) -> None:
    pytest.importorskip("bcrypt", reason="encrypted OpenSSH keys need the bcrypt package")
    tmp, key = setup["tmp"], setup["tmp"] / "enc_key"
    phrase = "correct horse 42"
    made = _tool_with_stdin(["keygen", key, "--principal", PRINCIPAL, "--passphrase-prompt"],
                            f"{phrase}\n{phrase}\n", tmp)
    assert made.returncode == 0, made.stderr
    assert "not encrypted" not in made.stderr and phrase not in made.stdout + made.stderr
    # OpenSSH reads the encrypted key with that passphrase, and only with it.
    public = subprocess.run([str(SSH_KEYGEN), "-y", "-P", phrase, "-f", str(key)],
                            capture_output=True, text=True, check=False)
    assert public.returncode == 0, public.stderr
    assert public.stdout.split()[:2] == (tmp / "enc_key.pub").read_text().split()[:2]
    wrong = subprocess.run([str(SSH_KEYGEN), "-y", "-P", "", "-f", str(key)],
                           capture_output=True, text=True, check=False)
    assert wrong.returncode != 0

    released = _tool_with_stdin(["release", "--repo", setup["repo"], "--key", key, "--out",
                                 setup["out"], "--created", "now", "--passphrase-prompt"],
                                f"{phrase}\n", tmp)
    assert released.returncode == 0, released.stderr
    assert phrase not in released.stdout + released.stderr
    out = setup["out"]
    stock = subprocess.run(
        [str(SSH_KEYGEN), "-Y", "verify", "-f", str(tmp / "enc_key.allowed_signers"), "-I",
         PRINCIPAL, "-n", sshsig.NAMESPACE, "-s", str(out / "manifest.json.sig")],
        stdin=(out / "manifest.json").open("rb"), capture_output=True, check=False)
    assert stock.returncode == 0, stock.stderr
    ours = published(setup, allowed=tmp / "enc_key.allowed_signers")
    assert ours.signer == PRINCIPAL


# --- secrets -------------------------------------------------------------------------------

def _secret_forms(key: Ed25519PrivateKey, key_path: Path) -> list[bytes]:
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    pem_lines = [line for line in key_path.read_bytes().splitlines() if b"-----" not in line]
    return [raw, raw.hex().encode(), base64.b64encode(raw), *pem_lines]


def test_signing_key_never_appears_anywhere(setup: dict[str, Path]) -> None:
    forms = _secret_forms(KEY, setup["key"])
    runs = [release(setup), release(setup, "--format", "json"),
            release(setup, "--format", "sarif", "--dry-run")]
    runs.append(cli("release", "--repo", setup["repo"], "--key", setup["key"], "--out",
                    setup["out"], "--created", "now", "--bundle-version", "1", cwd=setup["tmp"]))
    subprocess_run = run_tool("release", "--repo", setup["repo"], "--key", setup["key"],
                              "--out", setup["out"], "--created", "now", cwd=setup["tmp"])
    assert subprocess_run.exit_code == 0
    runs += [cli("verify", setup["out"], "--allowed-signers", setup["allowed"], "--all",
                 *fmt) for fmt in ([], ["--format", "json"], ["--format", "sarif"])]
    assert all(r.exit_code == 0 for r in runs[-3:])
    texts = [(r.stdout + r.stderr).encode() for r in [*runs, subprocess_run]]
    texts += list(tree(setup["out"]).values())
    members = [m.data for p in setup["out"].glob("*.tar")
               for m in read_members(p.read_bytes(), max_members=1000)]
    assert members  # the archives were searched, member by member
    texts += members
    for text in texts:
        for form in forms:
            assert form not in text


def test_dry_run_needs_no_key_and_writes_nothing(tmp_path: Path) -> None:
    repo = git_config_repo(tmp_path / "repo")
    out = tmp_path / "out"
    run = cli("release", "--repo", repo, "--out", out, "--dry-run", "--repository", "demo",
              "--created", "now")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "would publish" in run.stdout + run.stderr
    assert not out.exists() and not leftovers(tmp_path)  # not even a staging folder
    refused = cli("release", "--repo", repo, "--out", out, "--repository", "demo",
                  "--created", "now")
    assert refused.exit_code == 2 and "--key is required" in refused.stderr


# --- property: a re-build is byte-identical, whatever the file system says ----------------

MODEL_NAMES = st.lists(st.text(alphabet="abcdefghij-:. é", min_size=1, max_size=12)
                       .filter(lambda s: s.strip() != ""), min_size=1, max_size=4, unique=True)


@given(MODEL_NAMES, st.lists(st.sampled_from([0o600, 0o644, 0o664, 0o755]), min_size=8,
                             max_size=8),
       st.lists(st.integers(min_value=0, max_value=2**31), min_size=8, max_size=8),
       st.sampled_from([0o022, 0o077, 0o002]), st.randoms(use_true_random=False))
def test_rebuild_is_byte_identical_whatever_modes_mtimes_and_order(
        names: list[str], modes: list[int], mtimes: list[int], umask: int,
        rnd: object) -> None:
    import random
    import tempfile

    assert isinstance(rnd, random.Random)
    files = {f"v1.0.0/p{i}": {"schema_version": "2.0", "models": [model(
        model=name, provider=f"p{i}", download={"url": f"https://h/{i}", "sha256": "a" * 64,
                                                  "cachePath": f"p{i}/m.gguf"})]}
        for i, name in enumerate(names)}
    index = {"versions": {"v1.0.0": {"min_client_version": "1.0.0",
                                     "max_client_version": None}}}
    env = {"SOURCE_DATE_EPOCH": "1767225600"}
    built = []
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(2):
            root = Path(tmp) / f"repo{attempt}"
            items = list(files.items())
            rnd.shuffle(items)  # a different creation order on disk each time
            old = os.umask(umask if attempt else 0o022)
            try:
                for n, (name, doc) in enumerate(items):
                    version, provider = name.split("/")
                    path = root / "versions" / version / "models" / f"{provider}.json"
                    write_json(path, doc)
                    path.chmod(modes[n % len(modes)] if attempt else 0o644)
                    os.utime(path, (mtimes[n], mtimes[n]))
                write_json(root / "index.json", index)
            finally:
                os.umask(old)
            request = ReleaseRequest(root, Path(tmp) / f"out{attempt}", repository="demo")
            now = dt.datetime(2026, 1, 2 + attempt * 9, tzinfo=dt.UTC)
            prepared = prepare_release(request, now=now, environ=env)
            assert prepared.staging is not None
            staged = {p.name: p.read_bytes() for p in prepared.staging.iterdir()}
            prepared.discard()
            built.append((prepared, staged))
    (first, first_archives), (second, second_archives) = built
    assert first.manifest.file_count == len(files) + 1  # the model files and index.json
    assert first.manifest_bytes == second.manifest_bytes
    assert len(first_archives) == 1 and first_archives == second_archives


def test_a_name_no_bundle_can_carry_is_refused_with_r033(setup: dict[str, Path]) -> None:
    # ':' is a Windows drive or stream separator: lint has nothing against the file (it is
    # a valid model file), but no client could unpack it safely, so release refuses it.
    extra = two_model_config()
    for entry in extra["models"]:
        entry["provider"] = "acme:q4"
        entry["download"]["cachePath"] = "acme/" + entry["download"]["cachePath"]
    write_json(setup["repo"] / "versions/v1.0.0/models/acme:q4.json", extra)
    commit_all(setup["repo"], "a provider with a colon")
    run = release(setup, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R033"}, run.stdout
    assert "contains ':'" in findings_json(run)[0]["message"]
    assert not setup["out"].exists() and not leftovers(setup["tmp"])


# --- format 2: content-named archives across releases, staging, dry runs, resign ---------

INDEX_TWO = {"versions": {
    "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "2.0.0"},
    "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": None}}}


def _entry(name: str, low: str = "1.0.0", url: str | None = None) -> dict[str, object]:
    return model(model=name, compatibility={"min_client_version": low},
                 download={"url": url or f"https://example.org/{name}.gguf",
                           "sha256": hashlib.sha256(name.encode()).hexdigest(),
                           "cachePath": f"huggingface/{name}.gguf"})


def _v2_doc(*names: str) -> dict[str, object]:
    return config(*(_entry(name, "2.0.0") for name in names))


@pytest.fixture
def two_versions(setup: dict[str, Path]) -> dict[str, Path]:
    """setup's repo with a second config version, v2.0.0, for clients 2.0.0 and up."""
    repo = setup["repo"]
    write_json(repo / "versions/v2.0.0/models/huggingface.json", _v2_doc("next", "other"))
    write_json(repo / "index.json", INDEX_TWO)
    commit_all(repo, "v2.0.0")
    return setup


def _stamp(path: Path) -> tuple[int, int]:
    """Set an old mtime, and return (inode, mtime): any rewrite of the file changes one."""
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def test_an_unchanged_config_version_keeps_its_archive_and_a_changed_one_gets_a_new_one(
        two_versions: dict[str, Path]) -> None:
    s, out = two_versions, two_versions["out"]
    first = release(s)
    assert first.exit_code == 0 and "2 archive(s)" in first.stdout and "(2 new)" in first.stdout
    v1, old_v2 = archive_of(out, "v1.0.0"), archive_of(out, "v2.0.0")
    v1_id, old_v2_bytes = _stamp(v1), old_v2.read_bytes()
    old_v2_id = _stamp(old_v2)

    write_json(s["repo"] / "versions/v2.0.0/models/huggingface.json", _v2_doc("next", "other",
                                                                              "third"))
    commit_all(s["repo"], "a model for 2.x")
    second = release(s)
    assert second.exit_code == 0, second.stdout + second.stderr
    assert "(1 new)" in second.stdout and "added v2.0.0: huggingface/third" in second.stdout
    assert archive_of(out, "v1.0.0") == v1 and _identity(v1) == v1_id  # not written again
    new_v2 = archive_of(out, "v2.0.0")
    assert new_v2 != old_v2 and new_v2.is_file()
    # The old archive stays as it was: 1.manifest.json (and every cache) still names it.
    assert old_v2.read_bytes() == old_v2_bytes and _identity(old_v2) == old_v2_id
    assert sorted(archives(out)) == sorted(p.name for p in (v1, old_v2, new_v2))
    assert published(s, manifest_name="1.manifest.json").manifest.bundle_version == 1
    assert sorted(published(s).files) == [
        "index.json", "versions/v1.0.0/models/huggingface.json",
        "versions/v2.0.0/models/huggingface.json"]

    # The same commit again: every archive is there already, none is written.
    ids = {name: _identity(out / name) for name in archives(out)}
    third = release(s)
    assert third.exit_code == 0 and "(0 new)" in third.stdout
    assert {name: _identity(out / name) for name in archives(out)} == ids
    assert manifest(out)["versions"] == manifest(out, "2.manifest.json")["versions"]
    assert not leftovers(out, s["tmp"])


THREE = config(model(), _entry("phi-3-mini"), _entry("tiny"))


def _refusal_case(s: dict[str, Path], case: str) -> tuple[list[str], str]:
    """Change the repo of a published release so that the next release is refused for
    `case`; the extra options and the rule expected."""
    repo, doc = s["repo"], json.loads(json.dumps(THREE))
    if case == "removals":
        del doc["models"][1]
        extra, rule = [], "R032"
    elif case == "shrink":
        del doc["models"][1:]
        extra, rule = ["--allow-removals"], "R041"
    elif case == "lint":
        doc["models"][0]["download"]["sha256"] = "not-a-hash"
        extra, rule = [], "R030"
    elif case == "version":
        doc["models"].append(_entry("more"))
        extra, rule = ["--bundle-version", "1"], "R031"
    else:  # signer: the repo's allowed_signers does not list the key (after staging)
        doc["models"].append(_entry("more"))
        other = s["tmp"] / "other_signers"
        other.write_text(allowed_line(Ed25519PrivateKey.generate()))
        extra, rule = ["--allowed-signers", str(other)], "R040"
    write_json(repo / "versions/v1.0.0/models/huggingface.json", doc)
    commit_all(repo, case)
    return extra, rule


@pytest.mark.parametrize("case", ["removals", "shrink", "lint", "version", "signer"])
def test_a_refused_release_leaves_out_exactly_as_it_was(setup: dict[str, Path],
                                                        case: str) -> None:
    write_json(setup["repo"] / "versions/v1.0.0/models/huggingface.json", THREE)
    commit_all(setup["repo"], "three models")
    assert release(setup).exit_code == 0
    extra, rule = _refusal_case(setup, case)
    out = setup["out"]
    before = tree(out)
    run = release(setup, *extra, "--format", "json")
    assert run.exit_code == 1 and rule in rules_of(run), run.stdout + run.stderr
    assert tree(out) == before  # no new archive, no manifest, no staging folder
    assert not leftovers(out, setup["tmp"])


def _paths(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if ".git" not in p.parts}


def test_dry_run_writes_nothing_anywhere(two_versions: dict[str, Path]) -> None:
    s, out = two_versions, two_versions["out"]
    assert release(s).exit_code == 0
    write_json(s["repo"] / "versions/v2.0.0/models/huggingface.json", _v2_doc("next", "other",
                                                                              "third"))
    commit_all(s["repo"], "a model for 2.x")
    before, everything = tree(out), _paths(s["tmp"])
    for extra in ([], ["--resign"]):
        run = release(s, "--dry-run", *extra)
        assert run.exit_code == 0 and "would publish" in run.stdout, run.stdout + run.stderr
        assert tree(out) == before and _paths(s["tmp"]) == everything
    assert "(1 new)" in release(s, "--dry-run").stdout  # it built the archive, in memory
    request = ReleaseRequest(s["repo"], out, created="now", dry_run=True)
    prepared = prepare_release(request, now=dt.datetime.now(dt.UTC))
    assert prepared.staging is None and prepared.new_archives == 1
    assert _paths(s["tmp"]) == everything


def test_resign_reuses_the_archives_in_out(two_versions: dict[str, Path]) -> None:
    s, out = two_versions, two_versions["out"]
    assert release(s).exit_code == 0
    ids = {name: _stamp(out / name) for name in archives(out)}
    run = release(s, "--resign")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "re-signing bundle_version 1" in run.stdout and "(0 new)" in run.stdout
    assert {name: _identity(out / name) for name in archives(out)} == ids
    old, new = manifest(out, "1.manifest.json"), manifest(out)
    assert new["bundle_version"] == 2
    assert (new["versions"], new["index"], new["commit"]) == (
        old["versions"], old["index"], old["commit"])
    assert published(s).manifest.bundle_version == 2
    assert not leftovers(out, s["tmp"])


def test_resign_copies_the_archives_from_another_previous(two_versions: dict[str, Path]) -> None:
    s = two_versions
    assert release(s).exit_code == 0
    elsewhere = s["tmp"] / "published"
    s["out"].rename(elsewhere)
    run = release(s, "--resign", "--previous", str(elsewhere))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "(2 new)" in run.stdout
    assert archives(s["out"]) == archives(elsewhere)
    old, new = manifest(elsewhere), manifest(s["out"])
    assert (new["bundle_version"], new["versions"], new["index"]) == (
        2, old["versions"], old["index"])
    assert sorted(published(s).files) == sorted(published(s, elsewhere).files)
    assert not leftovers(s["out"], s["tmp"])


def test_resign_copies_another_writers_archive_as_it_is(setup: dict[str, Path]) -> None:
    # An archive that verifies but that this writer would not make byte for byte (a member
    # mtime that is not 0): re-signing publishes those very bytes, the ones its name says.
    import io
    import tarfile

    from tests.support.release_helpers import default_files, new_kit, reg

    [index, doc] = default_files()
    info, data = reg(doc.path, doc.data)
    info.mtime = 1_700_000_000
    other = b""
    with io.BytesIO() as buffer:
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            tar.addfile(info, io.BytesIO(data))
        other = buffer.getvalue()
    assert other != build_archive([doc])
    made = new_kit().release([index, doc], archive=other,
                             created=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
                             expires=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    previous = made.folder(setup["tmp"] / "theirs")
    run = release(setup, "--resign", "--previous", str(previous))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert archives(setup["out"]) == made.archives
    assert manifest(setup["out"])["versions"] == json.loads(made.manifest_bytes)["versions"]


def test_the_manifest_validates_against_its_json_schema(two_versions: dict[str, Path]) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] /
                         "repo_tools/schemas/release_manifest.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert release(two_versions).exit_code == 0
    assert release(two_versions, "--resign").exit_code == 0
    for name in ("manifest.json", "1.manifest.json", "2.manifest.json"):
        doc = manifest(two_versions["out"], name)
        validator.validate(doc)
        assert len(doc["versions"]) == 2  # type: ignore[arg-type]
    # The schema is not vacuous: what format 1 had, and a name not its hash, fail it.
    assert not validator.is_valid({**doc, "files": []})
    entry = doc["versions"]["v1.0.0"]  # type: ignore[index]
    bad = {**doc, "versions": {"v1.0.0": {**entry, "archive": "bundle-1.tar"}}}
    assert not validator.is_valid(bad)


EPOCHS = st.integers(min_value=1_767_225_600, max_value=1_767_225_600 + 86_400 * 20)
STATES = st.dictionaries(st.sampled_from(["v1.0.0", "v1.1.0", "v2.0.0"]),
                         st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1,
                                  max_size=3, unique=True), min_size=1, max_size=3)


@given(STATES, EPOCHS, st.booleans(), st.randoms(use_true_random=False))
def test_a_rebuild_of_the_same_tree_is_byte_identical_on_disk(
        state: dict[str, list[str]], epoch: int, via_env: bool, rnd: object) -> None:
    """Two builds, other clocks, other write orders and mtimes, one via SOURCE_DATE_EPOCH and
    one via --created: the same manifests, signatures (a fixed key) and archives."""
    import random
    import tempfile

    from repo_tools.release import publish

    assert isinstance(rnd, random.Random)
    files = {f"versions/{cv}/models/{p}.json": config(*(_entry(f"{p}-{cv}-{m}") for m in ["x"]))
             for cv, providers in state.items() for p in providers}
    index = {"versions": {cv: {"min_client_version": "1.0.0"} for cv in state}}
    built = []
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(2):
            root = Path(tmp) / f"repo{attempt}"
            items = list(files.items())
            rnd.shuffle(items)
            for n, (name, doc) in enumerate(items):
                os.utime(write_json(root / name, doc), (n * 1000 + attempt, n * 1000 + attempt))
            write_json(root / "index.json", index)
            out = Path(tmp) / f"out{attempt}"
            now = dt.datetime.fromtimestamp(epoch + 3600 * (1 + attempt * 7), dt.UTC)
            if attempt == 0 and via_env:
                request = ReleaseRequest(root, out, repository="demo")
                prepared = prepare_release(request, now=now,
                                           environ={"SOURCE_DATE_EPOCH": str(epoch)})
            else:
                request = ReleaseRequest(root, out, repository="demo", created=str(epoch))
                prepared = prepare_release(request, now=now, environ={})
            signature = signing.sign(prepared.manifest_bytes, KEY)
            publish.self_check(prepared, signature, now)
            publish.write_release(prepared, signature, out)
            built.append(tree(out))
            assert not leftovers(out, Path(tmp))
    first, second = built
    assert first == second
    assert sum(1 for name in first if name.endswith(".tar")) == len(state)


def test_a_full_disk_while_staging_is_an_io_failure_that_leaves_nothing(
        two_versions: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from repo_tools.release import publish

    s, out = two_versions, two_versions["out"]
    assert release(s).exit_code == 0
    write_json(s["repo"] / "versions/v2.0.0/models/huggingface.json", _v2_doc("next", "other",
                                                                              "third"))
    commit_all(s["repo"], "a model for 2.x")
    before = tree(out)

    def full(path: Path, data: bytes, **_: object) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[:10])  # what got written before the disk filled up
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(publish, "write_atomic", full)
    run = release(s)
    assert run.exit_code == 2 and "No space left on device" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert tree(out) == before and not leftovers(out, s["tmp"])


class _SwappingHandler(QuietFolderHandler):
    """Serves the release folder, but manifest.json is the signed one only the first
    time: later requests get `forged` (a server that changes its answer)."""

    forged: ClassVar[bytes] = b""
    manifest_requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        if self.path == "/manifest.json":
            self.manifest_requests.append(self.path)
            if len(self.manifest_requests) > 1:
                self.send_response(200)
                self.send_header("Content-Length", str(len(self.forged)))
                self.end_headers()
                self.wfile.write(self.forged)
                return
        super().do_GET()


def test_resign_signs_the_very_manifest_whose_signature_it_checked(
        setup: dict[str, Path]) -> None:
    assert release(setup).exit_code == 0
    genuine = json.loads((setup["out"] / "manifest.json").read_bytes())
    forged = dict(genuine, commit="f" * 40)
    handler = type("Swapping", (_SwappingHandler,), {
        "forged": canonical_json(forged), "manifest_requests": []})
    with serve_folder(setup["out"], handler) as url:
        out = setup["tmp"] / "resigned"
        run = cli("release", "--repo", setup["repo"], "--key", setup["key"], "--out", out,
                  "--created", "now", "--resign", "--previous", url,
                  "--allowed-signers", setup["allowed"], cwd=setup["tmp"])
    assert run.exit_code == 0, run.stdout + run.stderr
    # One read: the signature is checked on the bytes that are signed again.
    assert handler.manifest_requests == ["/manifest.json"]
    assert manifest(out)["commit"] == genuine["commit"] != "f" * 40


def test_an_index_value_no_verifier_reads_back_is_refused(setup: dict[str, Path]) -> None:
    # 1e16 is canonicalised as 10000000000000000, an integer beyond I-JSON's 2**53 that
    # the manifest parser refuses (R007): release must not publish it.
    index = setup["repo"] / "index.json"
    doc = json.loads(index.read_text())
    doc["note"] = 1e16
    with pytest.raises(ReleaseRefused) as refused:
        index_value(ReleaseFile("index.json", json.dumps(doc).encode()))
    assert refused.value.code == "R033" and "cannot carry exactly" in refused.value.message


def test_bundle_version_stops_at_the_largest_a_manifest_holds(setup: dict[str, Path]) -> None:
    top = 2**53 - 1  # RFC 8785 numbers are I-JSON: exact up to here
    assert release(setup, "--bundle-version", str(top)).exit_code == 0
    _change_the_model_file(setup["repo"])
    after = release(setup, "--format", "json")
    assert after.exit_code == 1 and "R031" in {f["rule"] for f in findings_json(after)}
    beyond = release(setup, "--bundle-version", str(top + 1))
    assert beyond.exit_code == 2 and "Traceback" not in beyond.stdout + beyond.stderr
