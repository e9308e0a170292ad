"""SSHSIG signing and verification, cross-checked against the real OpenSSH ssh-keygen."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.release import signing, sshsig
from repo_tools.release.errors import VerificationError
from tests.support.release_helpers import (
    PRINCIPAL,
    SSH_KEYGEN,
    allowed_line,
    needs_ssh_keygen,
    write_ssh_key,
)

KEY = Ed25519PrivateKey.generate()
SIGNERS = sshsig.parse_allowed_signers(allowed_line(KEY))
MESSAGE = b'{"bundle_version":1}\n'


def ssh_keygen(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
               check: bool = True) -> subprocess.CompletedProcess[bytes]:
    assert SSH_KEYGEN is not None
    return subprocess.run([SSH_KEYGEN, *args], input=stdin, capture_output=True, check=check,
                          env={**os.environ, **(env or {})}, timeout=60)


def keygen_sign(tmp_path: Path, key_path: Path, message: bytes, namespace: str,
                env: dict[str, str] | None = None) -> bytes:
    data = tmp_path / "message"
    data.write_bytes(message)
    sig = tmp_path / "message.sig"
    sig.unlink(missing_ok=True)
    ssh_keygen("-Y", "sign", "-f", str(key_path), "-n", namespace, str(data),
               stdin=b"", env=env)
    return sig.read_bytes()


def keygen_verify(tmp_path: Path, message: bytes, signature: bytes, allowed: str,
                  namespace: str = sshsig.NAMESPACE,
                  principal: str = PRINCIPAL) -> subprocess.CompletedProcess[bytes]:
    (tmp_path / "allowed").write_text(allowed)
    (tmp_path / "sig").write_bytes(signature)
    return ssh_keygen("-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", principal, "-n",
                      namespace, "-s", str(tmp_path / "sig"), stdin=message, check=False)


# --- against the real ssh-keygen ----------------------------------------------------------

@needs_ssh_keygen
def test_signature_is_byte_identical_to_ssh_keygen(tmp_path: Path) -> None:
    key_path = write_ssh_key(tmp_path / "id", KEY)
    assert signing.sign(MESSAGE, KEY) == keygen_sign(tmp_path, key_path, MESSAGE,
                                                    sshsig.NAMESPACE)


@needs_ssh_keygen
def test_ssh_keygen_verifies_our_signature_and_rejects_the_wrong_namespace(
        tmp_path: Path) -> None:
    signature = signing.sign(MESSAGE, KEY)
    good = keygen_verify(tmp_path, MESSAGE, signature, allowed_line(KEY))
    assert good.returncode == 0, good.stderr
    assert b"Good" in good.stdout
    wrong = keygen_verify(tmp_path, MESSAGE, signature, allowed_line(KEY), namespace="git")
    assert wrong.returncode != 0
    tampered = keygen_verify(tmp_path, MESSAGE + b" ", signature, allowed_line(KEY))
    assert tampered.returncode != 0


@needs_ssh_keygen
def test_we_accept_ssh_keygen_signatures_of_a_key_it_made(tmp_path: Path) -> None:
    ssh_keygen("-q", "-t", "ed25519", "-N", "", "-C", "k", "-f", str(tmp_path / "k"))
    signature = keygen_sign(tmp_path, tmp_path / "k", MESSAGE, sshsig.NAMESPACE)
    allowed = f"{PRINCIPAL} {(tmp_path / 'k.pub').read_text()}"
    signer = sshsig.verify(MESSAGE, signature, sshsig.parse_allowed_signers(allowed))
    assert signer.principals == PRINCIPAL
    assert signing.load_private_key(tmp_path / "k").public_key() is not None


@pytest.fixture
def askpass(tmp_path: Path) -> dict[str, str]:
    script = tmp_path / "askpass.sh"
    script.write_text("#!/bin/sh\necho correct-horse\n")
    script.chmod(0o700)
    return {"SSH_ASKPASS": str(script), "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ""}


@needs_ssh_keygen
def test_delegated_signing_with_a_passphrase_key(tmp_path: Path, askpass: dict[str, str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ssh_keygen("-q", "-t", "ed25519", "-N", "correct-horse", "-C", "k", "-f",
               str(tmp_path / "k"))
    for name, value in askpass.items():
        monkeypatch.setenv(name, value)
    signature = signing.sign_with_ssh_keygen(MESSAGE, tmp_path / "k")
    allowed = f"{PRINCIPAL} {(tmp_path / 'k.pub').read_text()}"
    sshsig.verify(MESSAGE, signature, sshsig.parse_allowed_signers(allowed))


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real ssh-agent on a socket in tmp_path, stopped by its pid afterwards."""
    sock = tmp_path / "agent.sock"
    proc = subprocess.run(["ssh-agent", "-s", "-a", str(sock)], capture_output=True,
                          text=True, check=True)
    match = re.search(r"SSH_AGENT_PID=(\d+)", proc.stdout)
    assert match is not None
    pid = int(match.group(1))
    try:
        yield {"SSH_AUTH_SOCK": str(sock)}
    finally:
        os.kill(pid, 15)


@needs_ssh_keygen
def test_delegated_signing_through_ssh_agent(tmp_path: Path, agent: dict[str, str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    key_path = write_ssh_key(tmp_path / "agentkey", KEY)
    monkeypatch.setenv("SSH_AUTH_SOCK", agent["SSH_AUTH_SOCK"])
    subprocess.run(["ssh-add", "-q", str(key_path)], check=True, capture_output=True)
    key_path.unlink()  # only the agent holds the private key now
    signature = signing.sign_with_ssh_keygen(MESSAGE, tmp_path / "agentkey.pub")
    assert sshsig.verify(MESSAGE, signature, SIGNERS).principals == PRINCIPAL


@needs_ssh_keygen
def test_delegated_signing_reports_failure(tmp_path: Path) -> None:
    with pytest.raises(signing.SigningKeyError, match="ssh-keygen -Y sign failed"):
        signing.sign_with_ssh_keygen(MESSAGE, tmp_path / "missing")


# --- our verifier ----------------------------------------------------------------------------

@given(message=st.binary(max_size=300), position=st.integers(min_value=0))
def test_round_trip_and_any_changed_byte_is_rejected(message: bytes, position: int) -> None:
    signature = signing.sign(message, KEY)
    assert sshsig.verify(message, signature, SIGNERS).principals == PRINCIPAL
    changed = (message[:position % len(message)] + bytes([message[position % len(message)] ^ 1])
               + message[position % len(message) + 1:]) if message else b"x"
    with pytest.raises(VerificationError) as caught:
        sshsig.verify(changed, signature, SIGNERS)
    assert caught.value.code == "R006"


@given(namespace=st.text(alphabet="abcdefghijklmnopqrstuvwxyz@.-", min_size=1, max_size=30))
def test_other_namespaces_are_rejected(namespace: str) -> None:
    signature = signing.sign(MESSAGE, KEY, namespace)
    if namespace == sshsig.NAMESPACE:
        return
    with pytest.raises(VerificationError) as caught:
        sshsig.verify(MESSAGE, signature, SIGNERS)
    assert caught.value.code == "R004"


@given(garbage=st.binary(max_size=400))
def test_arbitrary_signature_bytes_never_crash(garbage: bytes) -> None:
    with pytest.raises(VerificationError) as caught:
        sshsig.verify(MESSAGE, garbage, SIGNERS)
    assert caught.value.code in {"R002", "R003", "R004", "R005", "R006"}


def test_allowed_signers_parsing() -> None:
    pub = sshsig.public_key_line(KEY.public_key())
    text = "\n".join([
        "# comment",
        "",
        f'a@x,b@x namespaces="git,repo-tools-*" {pub} comment words',
        f'c@x namespaces="*,!repo-tools-release@v1" {pub}',
        f"d@x cert-authority {pub}",
        "e@x ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7",
        f'f@x valid-after="20990101",valid-before="21000101Z" {pub}',
    ])
    signers = sshsig.parse_allowed_signers(text)
    assert [s.principals for s in signers] == ["a@x,b@x", "c@x", "f@x"]
    assert signers[0].allows_namespace(sshsig.NAMESPACE)
    assert not signers[0].allows_namespace("file")
    assert not signers[1].allows_namespace(sshsig.NAMESPACE)
    assert signers[1].allows_namespace("file")
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert not signers[2].valid_at(now)
    assert sshsig.verify(MESSAGE, signing.sign(MESSAGE, KEY), signers, now=now).principals \
        == "a@x,b@x"


@pytest.mark.parametrize("line", [
    "only-principal",
    "p@x ssh-ed25519 !!!notbase64",
    'p@x namespaces="unterminated ssh-ed25519 AAAA',
    "p@x bogus-option ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",
    "p@x ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",  # a 0-byte... truncated key
    'p@x valid-before="tomorrow" ssh-ed25519 AAAA',
])
def test_malformed_allowed_signers_lines_are_reported(line: str) -> None:
    with pytest.raises(sshsig.AllowedSignersError, match="line 1"):
        sshsig.parse_allowed_signers(line)


@pytest.mark.parametrize(("stamp", "why"), [
    ("20241301", "has month 13, not 01-12"),
    ("00000101", "in the year 0, before 1970"),
    ("20240132", "has day 32, not 01-31"),
    ("202401012400", "has hour 24, not 00-23"),
    ("202401011260", "has minute 60, not 00-59"),
    ("2024010112", "is not a timestamp"),  # 10 digits
    ("\uff12\uff10\uff12\uff14\uff10\uff11\uff10\uff11", "is not a timestamp"),  # fullwidth
    ("19700101Z", "not after 1970-01-01"),  # ssh-keygen refuses the epoch and earlier too
])
def test_bad_timestamps_are_allowed_signers_errors(stamp: str, why: str) -> None:
    pub = sshsig.public_key_line(KEY.public_key())
    for option in ("valid-after", "valid-before"):
        with pytest.raises(sshsig.AllowedSignersError) as caught:
            sshsig.parse_allowed_signers(f'# keys\np@x {option}="{stamp}" {pub}\n')
        message = str(caught.value)
        assert message.startswith(f'allowed signers line 2: {option}="{stamp}"')
        assert why in message and "YYYYMMDD[HHMM[SS]][Z]" in message


@given(st.from_regex(r"[0-9]{8}([0-9]{4}([0-9]{2})?)?[Zz]?", fullmatch=True))
def test_any_digit_timestamp_parses_or_is_a_parse_error(stamp: str) -> None:
    pub = sshsig.public_key_line(KEY.public_key())
    try:
        signers = sshsig.parse_allowed_signers(f'p@x valid-after="{stamp}" {pub}')
    except sshsig.AllowedSignersError as exc:
        assert "line 1" in str(exc)
    else:
        assert signers[0].valid_after is not None and signers[0].valid_after.tzinfo is not None


def test_good_timestamps_still_parse() -> None:
    pub = sshsig.public_key_line(KEY.public_key())
    text = "\n".join(f'p@x valid-after="{stamp}" {pub}' for stamp in (
        "20240229", "202402291230", "20240229123059", "20240229Z", "20240229123059z"))
    after = [s.valid_after for s in sshsig.parse_allowed_signers(text)]
    assert after[3] == dt.datetime(2024, 2, 29, tzinfo=dt.UTC)
    assert after[4] == dt.datetime(2024, 2, 29, 12, 30, 59, tzinfo=dt.UTC)
    assert all(a is not None and a.tzinfo is not None for a in after)
    # As OpenSSH does, a day past the month's end and second 60-61 roll over.
    rolled = sshsig.parse_allowed_signers(f'p@x valid-after="20230229Z",valid-before='
                                          f'"20231231235961Z" {pub}')[0]
    assert rolled.valid_after == dt.datetime(2023, 3, 1, tzinfo=dt.UTC)
    assert rolled.valid_before == dt.datetime(2024, 1, 1, 0, 0, 1, tzinfo=dt.UTC)


@needs_ssh_keygen
@pytest.mark.parametrize("stamp", ["20240101Z", "20240101z", "202401011230Z", "20241301Z",
                                   "20230229Z", "20230231Z", "20240132Z", "20240100Z",
                                   "202401012400Z", "202401012360Z", "20240101235961Z",
                                   "2024010112Z", "00000101Z", "19700101Z", "19700101000001Z",
                                   "99991231Z"])
def test_timestamps_are_read_as_ssh_keygen_reads_them(tmp_path: Path, stamp: str) -> None:
    # Same verdict as OpenSSH on each line: ssh-keygen refuses a line with a bad time.
    line = allowed_line(KEY, options=f'valid-after="{stamp}"')
    (tmp_path / "signers").write_text(line)
    (tmp_path / "m").write_bytes(MESSAGE)
    (tmp_path / "m.sig").write_bytes(signing.sign(MESSAGE, KEY))
    proc = ssh_keygen("-Y", "verify", "-f", str(tmp_path / "signers"), "-I", PRINCIPAL, "-n",
                      sshsig.NAMESPACE, "-s", str(tmp_path / "m.sig"),
                      "-Overify-time=99991231235959Z", stdin=MESSAGE, check=False)
    try:
        sshsig.parse_allowed_signers(line)
        ours = True
    except sshsig.AllowedSignersError:
        ours = False
    assert ours == (proc.returncode == 0), proc.stderr


def test_a_bare_public_key_line_says_what_an_allowed_signers_line_is() -> None:
    pub = sshsig.public_key_line(KEY.public_key())
    for text, principal in ((f"{pub} me@example.org\n", "me@example.org"),
                            (f"{pub}\n", "PRINCIPAL")):
        with pytest.raises(sshsig.AllowedSignersError) as caught:
            sshsig.parse_allowed_signers(text)
        message = str(caught.value)
        assert message.startswith("allowed signers line 1: this is a bare public key")
        assert f'{principal} namespaces="repo-tools-release@v1" {pub}' in message
        assert "repo-tools keygen KEY" in message and "KEY.allowed_signers" in message
    # A principal that merely starts like a key type is still a principal.
    signers = sshsig.parse_allowed_signers(f"ssh-deploy@example.org {pub}\n"
                                           f'ssh-ci namespaces="{sshsig.NAMESPACE}" {pub}\n')
    assert [s.principals for s in signers] == ["ssh-deploy@example.org", "ssh-ci"]


def test_load_allowed_signers_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "signers"
    path.write_text(allowed_line(KEY) + 'p@x valid-after="20241301" ssh-ed25519 AAAA\n')
    with pytest.raises(sshsig.AllowedSignersError, match=f"^{re.escape(str(path))}, line 2: "):
        sshsig.load_allowed_signers(path)
    path.write_text(allowed_line(KEY))
    assert [s.principals for s in sshsig.load_allowed_signers(path)] == [PRINCIPAL]


# --- key loading -----------------------------------------------------------------------------

def test_load_plain_key(tmp_path: Path) -> None:
    key = signing.load_private_key(write_ssh_key(tmp_path / "k", KEY))
    assert signing.sign(MESSAGE, key) == signing.sign(MESSAGE, KEY)
    # A passphrase given for an unencrypted key is harmless.
    assert signing.load_private_key(tmp_path / "k", "ignored") is not None


def test_passphrase_key(tmp_path: Path) -> None:
    pytest.importorskip("bcrypt", reason="encrypted OpenSSH keys need the bcrypt package")
    path = write_ssh_key(tmp_path / "k", KEY, passphrase="s3cret")
    loaded = signing.load_private_key(path, "s3cret")
    assert signing.sign(MESSAGE, loaded) == signing.sign(MESSAGE, KEY)
    with pytest.raises(signing.SigningKeyError, match="passphrase-protected"):
        signing.load_private_key(path)
    with pytest.raises(signing.SigningKeyError, match="wrong passphrase") as caught:
        signing.load_private_key(path, "wrong")
    assert "s3cret" not in str(caught.value) and "wrong" in str(caught.value)


@needs_ssh_keygen
def test_non_ed25519_key_is_refused(tmp_path: Path) -> None:
    ssh_keygen("-q", "-t", "ecdsa", "-N", "", "-f", str(tmp_path / "ec"))
    with pytest.raises(signing.SigningKeyError, match="not an Ed25519 key"):
        signing.load_private_key(tmp_path / "ec")


def test_unreadable_and_garbage_keys(tmp_path: Path) -> None:
    with pytest.raises(signing.SigningKeyError, match="cannot read"):
        signing.load_private_key(tmp_path / "nope")
    (tmp_path / "junk").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nzzzz\n")
    with pytest.raises(signing.SigningKeyError, match="not an OpenSSH private key"):
        signing.load_private_key(tmp_path / "junk")


def test_fingerprint_matches_ssh_keygen_format() -> None:
    blob = sshsig.public_key_blob(KEY.public_key())
    assert re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", sshsig.key_fingerprint(blob))
