"""Making SSHSIG release signatures: private keys (OpenSSH format, optionally encrypted),
signing in process, or delegating to `ssh-keygen -Y sign` (ssh-agent, FIDO keys).

Signatures made here are byte-identical to `ssh-keygen -Y sign` (Ed25519 is
deterministic), and `ssh-keygen -Y verify` accepts them. The format and verification are
`repo_tools.release.sshsig`'s.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from repo_tools import DISTRIBUTION
from repo_tools.release.sshsig import (
    KEY_TYPE,
    MAGIC,
    NAMESPACE,
    SIG_VERSION,
    armor,
    public_key_blob,
    signed_data,
    ssh_string,
)


class SigningKeyError(Exception):
    """The signing key cannot be used (missing passphrase, wrong type, unreadable)."""


def sign(message: bytes, key: Ed25519PrivateKey, namespace: str = NAMESPACE) -> bytes:
    """An armored SSHSIG signature of message, as `ssh-keygen -Y sign -n namespace` makes."""
    signature = key.sign(signed_data(message, namespace))
    blob = (MAGIC + struct.pack(">I", SIG_VERSION) + ssh_string(public_key_blob(key.public_key()))
            + ssh_string(namespace.encode()) + ssh_string(b"") + ssh_string(b"sha512")
            + ssh_string(ssh_string(KEY_TYPE.encode()) + ssh_string(signature)))
    return armor(blob)


def load_private_key(path: Path, passphrase: str | None = None) -> Ed25519PrivateKey:
    """An OpenSSH-format Ed25519 private key; SigningKeyError (never showing key bytes) if not.

    Encrypted keys need the `bcrypt` package (cryptography's KDF for OpenSSH keys).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read signing key {path}: {exc.strerror}") from None
    password = passphrase.encode() if passphrase else None
    try:
        key = serialization.load_ssh_private_key(data, password=password)
    except TypeError:
        if password is not None:  # a passphrase for an unencrypted key is harmless
            return load_private_key(path, None)
        raise SigningKeyError(f"signing key {path} is passphrase-protected: set "
                              "REPO_TOOLS_KEY_PASSPHRASE, pass --passphrase-prompt, or use "
                              "--signer ssh-keygen") from None
    except UnsupportedAlgorithm:
        raise SigningKeyError(f"signing key {path} is encrypted and the `bcrypt` package is "
                              f"not installed: pip install '{DISTRIBUTION}[release]', or use "
                              "--signer ssh-keygen") from None
    except ValueError as exc:
        reason = "wrong passphrase" if "checksum" in str(exc) else "not an OpenSSH private key"
        raise SigningKeyError(f"cannot load signing key {path}: {reason}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"signing key {path} is not an Ed25519 key; create one with "
                        "`repo-tools keygen` or `ssh-keygen -t ed25519`")
    return key


def sign_with_ssh_keygen(message: bytes, key_path: Path, namespace: str = NAMESPACE) -> bytes:
    """Delegate signing to `ssh-keygen -Y sign`: ssh-agent, FIDO and passphrase prompts work.

    key_path may be a private key, or a public key whose private half is in ssh-agent.
    """
    exe = shutil.which("ssh-keygen")
    if exe is None:
        raise SigningKeyError("--signer ssh-keygen needs OpenSSH's ssh-keygen on PATH")
    with tempfile.TemporaryDirectory(prefix="repo-tools-sign-") as tmp:
        data = Path(tmp) / "manifest"
        data.write_bytes(message)
        proc = subprocess.run(
            [exe, "-Y", "sign", "-f", str(key_path), "-n", namespace, str(data)],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=False)
        sig_path = Path(tmp) / "manifest.sig"
        if proc.returncode != 0 or not sig_path.exists():
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SigningKeyError("ssh-keygen -Y sign failed: " + (detail[-1] if detail else
                                                            f"exit {proc.returncode}"))
        return sig_path.read_bytes()


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey, passphrase: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
        else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             encryption)
