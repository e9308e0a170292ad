"""`repo-tools verify` on the per-version archive format: what it fetches and checks by
default (the signed manifest), with --all, --client-version and --extract, and how it
reports. Releases are built by tests.support.verify_helpers and written in the published
layout, so these tests exercise verify alone."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from repo_tools.release import fetch, signing, sshsig
from repo_tools.release.state import load_state, record_accepted
from repo_tools.release.verify import AcceptedRelease
from tests.support.helpers import Run, cli, findings_json, rules_of, run_tool
from tests.support.httpserver import serve_folder
from tests.support.verify_helpers import (
    CREATED,
    PRINCIPAL,
    Kit,
    Release,
    allowed_line,
    default_versions,
    model_doc,
    new_kit,
)

V1, V2 = "v1.0.0", "v2.0.0"


@dataclasses.dataclass
class Setup:
    tmp: Path
    kit: Kit
    out: Path
    signers: Path
    release: Release

    def verify(self, *args: str | Path, source: str | Path | None = None) -> Run:
        """In a real process, with the real clock."""
        return run_tool("verify", source if source is not None else self.out,
                        "--allowed-signers", self.signers, *args)

    def tamper(self, config_version: str) -> Path:
        name, data = self.release.archive(config_version)
        path = self.out / name
        path.write_bytes(data.replace(b"mistral", b"mistrad", 1))
        return path


@pytest.fixture
def s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    # verify compares with the real clock: pin it inside the fixed release's validity.
    monkeypatch.setattr("repo_tools.cli.release._now",
                        lambda: CREATED + dt.timedelta(days=1))
    kit = new_kit()
    release = kit.release()
    out = release.write(tmp_path / "public")
    signers = tmp_path / "allowed_signers"
    signers.write_text(kit.allowed)
    return Setup(tmp_path, kit, out, signers, release)


def verify(s: Setup, *args: str | Path, source: str | Path | None = None) -> Run:
    return cli("verify", source if source is not None else s.out, "--allowed-signers",
                   s.signers, *args)


def test_default_checks_the_manifest_only(s: Setup) -> None:
    tampered = s.tamper(V2)
    run = verify(s)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0] == (
        "verified example.org/models bundle_version 1: 4 files in 2 archives (checked: "
        "manifest only), signed by release@example.org, created 2030-01-01T00:00:00Z, "
        "expires 2030-01-31T00:00:00Z")
    assert "All checks passed (1 file)." in run.stdout
    every = verify(s, "--all", "--format", "json")
    assert every.exit_code == 1 and rules_of(every) == {"R014"}
    assert findings_json(every)[0]["path"] == f"{s.out}/{tampered.relative_to(s.out)}"


def test_all_checks_every_archive(s: Setup) -> None:
    run = verify(s, "--all")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "4 files in 2 archives (checked: all)" in run.stdout
    assert "All checks passed (4 files)." in run.stdout


def test_client_version_checks_the_archive_that_client_selects(s: Setup) -> None:
    s.tamper(V2)
    old = verify(s, "--client-version", "1.5.0")
    assert old.exit_code == 0, old.stdout + old.stderr
    assert "(checked: v1.0.0 for client 1.5.0)" in old.stdout
    assert "All checks passed (2 files)." in old.stdout
    new = verify(s, "--client-version", "2.1.0", "--format", "json")
    assert new.exit_code == 1 and rules_of(new) == {"R014"}
    none = verify(s, "--client-version", "0.1.0")
    assert none.exit_code == 0
    assert "(checked: manifest only, no config version admits client 0.1.0)" in none.stdout


def test_client_version_must_be_semver_and_not_with_all(s: Setup) -> None:
    bad = verify(s, "--client-version", "one")
    assert bad.exit_code == 2 and "--client-version" in bad.stderr
    both = verify(s, "--client-version", "1.0.0", "--all")
    assert both.exit_code == 2 and "not both" in both.stderr
    gone = verify(s, "--max-bundle-bytes", "10")
    assert gone.exit_code == 2 and "No such option" in gone.stderr


def test_max_archive_bytes_applies_to_the_archives_fetched(s: Setup) -> None:
    assert verify(s, "--max-archive-bytes", "100").exit_code == 0  # none fetched
    run = verify(s, "--max-archive-bytes", "100", "--all", "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R001"}
    assert "over the limit of 100" in findings_json(run)[0]["message"]


def test_extract_writes_every_archive_and_the_index(s: Setup) -> None:
    target = s.tmp / "extracted"
    run = verify(s, "--extract", target)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "(checked: all)" in run.stdout
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert written == ["index.json", "versions/v1.0.0/models/huggingface.json",
                       "versions/v2.0.0/models/huggingface.json",
                       "versions/v2.0.0/models/thebloke.json"]
    assert json.loads((target / "index.json").read_bytes()) == s.release.manifest.index
    assert (target / "versions/v2.0.0/models/thebloke.json").read_bytes() == \
        default_versions()[V2]["thebloke.json"]
    again = verify(s, "--extract", target)
    assert again.exit_code == 2 and "exists" in again.stderr


def test_extract_with_client_version_writes_that_archive_only(s: Setup) -> None:
    target = s.tmp / "one"
    assert verify(s, "--extract", target, "--client-version", "1.0.0").exit_code == 0
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == [
        "index.json", "versions/v1.0.0/models/huggingface.json"]


def test_a_rejected_archive_leaves_nothing_extracted(s: Setup) -> None:
    s.tamper(V2)  # the second archive: the first was already written when this one fails
    target = s.tmp / "extracted"
    run = verify(s, "--extract", target, "--format", "json")
    assert run.exit_code == 1 and rules_of(run) == {"R014"}
    assert not target.exists()
    assert sorted(p.name for p in s.tmp.iterdir()) == ["allowed_signers", "public"]


def test_extract_writes_one_archive_before_fetching_the_next(
        s: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    # What bounds verify's memory: an archive's files are on disk (and dropped) before the
    # next archive is read.
    seen: list[tuple[str, list[str]]] = []
    real_read = fetch.DirectorySource.read

    def read(self: fetch.DirectorySource, name: str, max_bytes: int) -> bytes:
        if name.endswith(".tar"):
            on_disk = sorted(p.name for p in s.tmp.rglob("*.json")
                             if "partial" in str(p) and p.parent.name == "models")
            seen.append((name, on_disk))
        return real_read(self, name, max_bytes)

    monkeypatch.setattr(fetch.DirectorySource, "read", read)
    assert verify(s, "--extract", s.tmp / "x").exit_code == 0
    assert [files for _, files in seen] == [[], ["huggingface.json"]]


def test_state_is_checked_and_recorded_and_left_alone_on_rejection(s: Setup) -> None:
    state = s.tmp / "state.json"
    second = s.kit.release({**default_versions(), V2: {"huggingface.json": model_doc(
        "newer", clients=("2.0.0", None))}}, version=2)
    second.write(s.out)
    assert verify(s, "--state", state).exit_code == 0
    assert load_state(state)["example.org/models"].bundle_version == 2
    before = state.read_bytes()
    rollback = verify(s, "--state", state, "--format", "json", source=s.out / "1.manifest.json")
    assert rollback.exit_code == 1 and rules_of(rollback) == {"R010"}
    assert findings_json(rollback)[0]["path"] == f"{s.out}/1.manifest.json"
    named = verify(s, "--state", state, "--manifest", "1.manifest.json", "--format", "json")
    assert named.exit_code == 1 and rules_of(named) == {"R010"}
    name, data = second.archive(V2)
    (s.out / name).write_bytes(data[:-1] + b"x")
    tampered = verify(s, "--state", state, "--all", "--format", "json")
    assert tampered.exit_code == 1 and rules_of(tampered) == {"R014"}
    assert state.read_bytes() == before


def test_a_rejected_archive_does_not_record_the_release(s: Setup) -> None:
    state = s.tmp / "state.json"
    s.tamper(V1)
    assert verify(s, "--state", state, "--all").exit_code == 1
    assert not state.exists()
    assert verify(s, "--state", state).exit_code == 0  # the manifest alone is fine
    assert state.exists()


def test_warn_expiring(s: Setup) -> None:
    assert verify(s, "--warn-expiring", "7").exit_code == 0
    soon = verify(s, "--warn-expiring", "40", "--format", "json")
    assert soon.exit_code == 1 and rules_of(soon) == {"R043"}


def test_corrupt_state_and_bad_signers_are_reported(s: Setup) -> None:
    state = s.tmp / "state.json"
    state.write_text("{broken")
    corrupt = verify(s, "--state", state, "--format", "json")
    assert corrupt.exit_code == 1 and rules_of(corrupt) == {"R023"}
    bad = s.tmp / "bad_signers"
    bad.write_text("p@x ssh-ed25519 !!!\n")
    run = cli("verify", s.out, "--allowed-signers", bad)
    assert run.exit_code == 2 and "line 1" in run.stderr
    missing = verify(s, source=s.tmp / "nowhere")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_a_missing_archive_is_an_io_error(s: Setup) -> None:
    name, _ = s.release.archive(V1)
    (s.out / name).unlink()
    assert verify(s).exit_code == 0
    run = verify(s, "--all")
    assert run.exit_code == 2 and name in run.stderr and "Traceback" not in run.stderr


@pytest.fixture
def served(s: Setup) -> Iterator[str]:
    with serve_folder(s.out) as url:
        yield url


def test_verify_over_http(s: Setup, served: str) -> None:
    ok = verify(s, "--all", "--state", s.tmp / "st.json", source=served)
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    named = verify(s, "--client-version", "2.0.0", source=served + "1.manifest.json")
    assert named.exit_code == 0 and "(checked: v2.0.0 for client 2.0.0)" in named.stdout
    missing = verify(s, source=served + "nothing-here/")
    assert missing.exit_code == 2 and "HTTP 404" in missing.stderr


def test_oversize_archive_over_http_is_cut_off(s: Setup, served: str) -> None:
    path = s.tamper(V1)
    path.write_bytes(path.read_bytes() + bytes(10 * 1024 * 1024))
    run = verify(s, "--all", "--format", "json", source=served)
    assert run.exit_code == 1 and rules_of(run) == {"R001"}
    assert findings_json(run)[0]["path"] == served + str(path.relative_to(s.out))  # one slash


def test_real_process_with_the_real_clock_rejects_an_expired_release(s: Setup) -> None:
    # The fixed release expired in 2030-01-31 only if the clock is past it; before 2030 it
    # is future-dated. Either way a real process (no pinned clock) rejects it, no traceback.
    run = s.verify("--format", "json")
    assert run.exit_code == 1 and rules_of(run) <= {"R012", "R013"}, run.stdout + run.stderr


def test_quiet_verify_prints_nothing_on_success(s: Setup) -> None:
    checked = verify(s, "--quiet", "--all")
    assert (checked.exit_code, checked.stdout) == (0, "")
    loud = verify(s)
    assert loud.exit_code == 0 and loud.stdout.startswith("verified ")


def test_json_output_keeps_stdout_a_report(s: Setup) -> None:
    run = verify(s, "--all", "--format", "json")
    assert run.exit_code == 0 and findings_json(run) == []
    assert "verified example.org/models" in run.stderr


# --- the state file ------------------------------------------------------------------------

def test_record_accepted_never_lowers(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    record_accepted(state, "r", AcceptedRelease(5, "a" * 64))
    record_accepted(state, "r", AcceptedRelease(3, "b" * 64))
    record_accepted(state, "q", AcceptedRelease(1, "c" * 64))
    assert load_state(state) == {"r": AcceptedRelease(5, "a" * 64),
                                 "q": AcceptedRelease(1, "c" * 64)}


def test_record_accepted_loses_nothing_between_processes(tmp_path: Path) -> None:
    """Two clients sharing a state file: every repository either one records survives."""
    state = tmp_path / "s.json"
    code = ("import sys; from pathlib import Path; "
            "from repo_tools.release.state import record_accepted\n"
            "from repo_tools.release.verify import AcceptedRelease\n"
            "for i in range(60):\n"
            "    record_accepted(Path(sys.argv[1]), f'{sys.argv[2]}-{i}', "
            "AcceptedRelease(i, 'a' * 64))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(state), name])
             for name in ("one", "two")]
    assert [proc.wait(timeout=120) for proc in procs] == [0, 0]
    assert set(load_state(state)) == {f"{name}-{i}" for name in ("one", "two")
                                      for i in range(60)}


# --- allowed_signers mistakes ----------------------------------------------------------------

@pytest.mark.parametrize("stamp", ["20241301", "00000101", "20240132", "202401011260",
                                   "19600101"])
def test_bad_timestamp_names_file_line_and_form(s: Setup, stamp: str) -> None:
    signers = s.tmp / "signers"
    signers.write_text("# trusted release keys\n" + allowed_line(
        s.kit.key, options=f'valid-after="{stamp}",namespaces="{sshsig.NAMESPACE}"'))
    run = cli("verify", s.out, "--allowed-signers", signers)
    assert run.exit_code == 2
    assert f"{signers}, line 2: valid-after=\"{stamp}\"" in run.stderr
    assert "YYYYMMDD[HHMM[SS]][Z]" in run.stderr


def test_bad_timestamp_in_a_real_process_is_no_traceback(s: Setup) -> None:
    signers = s.tmp / "signers"
    signers.write_text(allowed_line(s.kit.key, options='valid-before="20241301"'))
    run = run_tool("verify", s.out, "--allowed-signers", signers, cwd=s.tmp)
    assert run.exit_code == 2 and "Traceback" not in run.stderr
    assert "line 1" in run.stderr and "month 13" in run.stderr


def test_the_public_key_file_says_what_to_pass(s: Setup) -> None:
    tmp = s.tmp
    assert cli("keygen", tmp / "release-key", "--principal", PRINCIPAL).exit_code == 0
    run = cli("verify", s.out, "--allowed-signers", tmp / "release-key.pub")
    assert run.exit_code == 2
    assert f"{tmp / 'release-key.pub'}, line 1: this is a bare public key" in run.stderr
    assert f'namespaces="{sshsig.NAMESPACE}"' in run.stderr
    assert "KEY.allowed_signers" in run.stderr
    assert f"use --allowed-signers {tmp / 'release-key.allowed_signers'}" in run.stderr
    # the line it suggests is the very line keygen wrote
    assert (tmp / "release-key.allowed_signers").read_text().strip() in run.stderr
    # a .pub with no allowed_signers file beside it still gets the explanation
    (tmp / "other.pub").write_text(sshsig.public_key_line(s.kit.key.public_key()) + "\n")
    run = cli("verify", s.out, "--allowed-signers", tmp / "other.pub")
    assert run.exit_code == 2 and "bare public key" in run.stderr
    assert "PRINCIPAL namespaces=" in run.stderr and "use --allowed-signers" not in run.stderr


def test_an_index_offering_a_config_version_without_archive_is_rejected(s: Setup) -> None:
    # A client it selects would get no models at all: release refuses it (I002), and a
    # verifier rejects such a manifest whatever the client version.
    index = {"versions": {**s.release.manifest.index["versions"], "v3.0.0": {
        "min_client_version": "3.0.0", "max_client_version": None}}}
    s.kit.release(version=2, index=index).write(s.out)
    run = verify(s, "--client-version", "3.1.0")
    assert run.exit_code == 1, run.stdout + run.stderr
    assert "R007 the index lists 'v3.0.0', which has no archive" in run.stdout


@pytest.mark.parametrize("url", ["http://example.invalid:port/", "http://[::1/"])
def test_a_malformed_url_is_a_usage_error_not_a_traceback(s: Setup, url: str) -> None:
    run = s.verify(source=url)
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "not a valid http(s) URL" in run.stderr  # says what is wrong


def test_extract_of_a_release_by_an_untrusted_key_creates_nothing(s: Setup) -> None:
    stranger = new_kit()
    stranger.release().write(s.out)  # same layout, signed by a key nobody trusts
    target = s.tmp / "extracted"
    run = verify(s, "--extract", target, "--format", "json")
    assert run.exit_code == 1, run.stdout + run.stderr
    assert rules_of(run) == {"R005"}
    assert sorted(p.name for p in s.tmp.iterdir()) == ["allowed_signers", "public"]


def test_a_planted_signing_key_appears_in_no_verify_output(s: Setup) -> None:
    """The release key's private file, planted wherever verify reads text (allowed_signers,
    state, signature, the release folder, an archive member), never comes back in its
    text, JSON or SARIF output: not the file, not one of its base64 lines."""
    pem = signing.private_key_pem(s.kit.key, None)
    raw = s.kit.key.private_bytes(serialization.Encoding.Raw,
                                  serialization.PrivateFormat.Raw,
                                  serialization.NoEncryption())
    body = [line for line in pem.splitlines() if b"-----" not in line]
    forms = [pem, raw, raw.hex().encode(), base64.b64encode(raw), *body]
    key = s.tmp / "id_ed25519"
    key.write_bytes(pem)
    body_only = s.tmp / "body_lines"
    body_only.write_bytes(b"\n".join(body) + b"\n")
    (s.out / "id_ed25519").write_bytes(pem)  # beside the manifest of a good release
    (s.out / "id_ed25519.sig").write_bytes(pem)
    as_signature = s.release.write(s.tmp / "key_as_signature")
    (as_signature / "manifest.json.sig").write_bytes(pem)
    armoured = s.release.write(s.tmp / "key_in_armour")
    (armoured / "manifest.json.sig").write_bytes(
        b"-----BEGIN SSH SIGNATURE-----\n" + b"\n".join(body) + b"\n-----END SSH SIGNATURE-----\n")
    versions = default_versions()
    versions[V2]["thebloke.json"] = pem  # signed: the release vouches for a key as a file
    as_member = s.kit.release(versions).write(s.tmp / "key_as_member")
    cases: list[tuple[int, tuple[str | Path, ...]]] = [
        (2, (s.out, "--allowed-signers", key)),
        (2, (s.out, "--allowed-signers", body_only)),
        (1, (s.out, "--allowed-signers", s.signers, "--state", key)),
        (0, (s.out, "--allowed-signers", s.signers, "--all")),
        (1, (s.out, "--allowed-signers", s.signers, "--manifest", "id_ed25519")),
        (1, (as_signature, "--allowed-signers", s.signers)),
        (1, (armoured, "--allowed-signers", s.signers)),
        (0, (as_member, "--allowed-signers", s.signers, "--all")),
    ]
    texts = []
    for expected, args in cases:
        for fmt in ((), ("--format", "json"), ("--format", "sarif")):
            run = cli("verify", *args, *fmt)
            assert run.exit_code == expected, (args, fmt, run.stdout + run.stderr)
            texts.append((run.stdout + run.stderr).encode())
    extracted = verify(s, "--extract", s.tmp / "x", source=as_member)
    texts.append((extracted.stdout + extracted.stderr).encode())
    assert (s.tmp / "x/versions" / V2 / "models/thebloke.json").read_bytes() == pem
    for text in texts:
        for form in forms:
            assert form not in text
        for line in body:  # nor case-folded
            assert line.lower() not in text.lower()
