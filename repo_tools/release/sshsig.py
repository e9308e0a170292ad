"""OpenSSH SSHSIG signatures (PROTOCOL.sshsig) with Ed25519 keys: the format, verifying,
and allowed_signers files.

Verification is our own strict implementation: it never shells out, so a client needs no
OpenSSH. Signing (private keys, `ssh-keygen -Y sign`) lives in `repo_tools.release.signing`,
which a verifier never imports.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import fnmatch
import hashlib
import re
import struct
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from repo_tools.release.errors import VerificationError
from repo_tools.rules import release as rules

# The namespace binds a signature to its purpose, so that a git commit signature made with
# the same key can never pass as a release signature (and the other way round).
NAMESPACE = "repo-tools-release@v1"

MAGIC = b"SSHSIG"
SIG_VERSION = 1
KEY_TYPE = "ssh-ed25519"
HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
_WRAP = 70  # what ssh-keygen emits; any wrapping is accepted on input


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


class _Reader:
    """SSH wire-format reader that refuses short reads and, at the end, leftover bytes."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def _fail(self, why: str) -> VerificationError:
        return VerificationError(rules.BAD_SIGNATURE_FORMAT, f"{self.what}: {why}")

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise self._fail("truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self.raw(4))[0]
        return value

    def string(self) -> bytes:
        return self.raw(self.uint32())

    def text(self) -> str:
        try:
            return self.string().decode("utf-8")
        except UnicodeDecodeError:
            raise self._fail("a text field is not UTF-8") from None

    def done(self) -> None:
        if self.pos != len(self.data):
            raise self._fail(f"{len(self.data) - self.pos} unexpected trailing bytes")


def public_key_blob(key: Ed25519PublicKey) -> bytes:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return ssh_string(KEY_TYPE.encode()) + ssh_string(raw)


def public_key_line(key: Ed25519PublicKey) -> str:
    """`ssh-ed25519 AAAA...`, as in a .pub or allowed_signers file."""
    return f"{KEY_TYPE} {base64.b64encode(public_key_blob(key)).decode()}"


def signed_data(message: bytes, namespace: str, hash_alg: str = "sha512",
                reserved: bytes = b"") -> bytes:
    digest = HASHES[hash_alg](message).digest()
    return (MAGIC + ssh_string(namespace.encode()) + ssh_string(reserved)
            + ssh_string(hash_alg.encode()) + ssh_string(digest))


def armor(blob: bytes) -> bytes:
    encoded = base64.b64encode(blob).decode()
    lines = [encoded[i:i + _WRAP] for i in range(0, len(encoded), _WRAP)]
    return "\n".join([BEGIN, *lines, END, ""]).encode()


# --- parsing and verification -------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class Signature:
    public_key: bytes  # the wire-format key blob
    namespace: str
    reserved: bytes
    hash_alg: str
    key_type: str
    signature: bytes


def dearmor(armored: bytes) -> bytes:
    """The binary blob of an armored signature; strict about everything but line wrapping."""
    def fail(why: str) -> VerificationError:
        return VerificationError(rules.BAD_SIGNATURE_FORMAT, f"signature file: {why}")

    try:
        text = armored.decode("ascii")
    except UnicodeDecodeError:
        raise fail("not ASCII text") from None
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != BEGIN:
        raise fail(f"does not start with {BEGIN}")
    if len(lines) < 2 or lines[-1] != END:
        raise fail(f"does not end with {END} (truncated, or trailing data)")
    body = "".join(lines[1:-1])
    try:
        blob = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise fail("the base64 body is corrupt or truncated") from None
    if base64.b64encode(blob).decode("ascii") != body:
        # Non-zero padding bits: one blob must have one encoding.
        raise fail("the base64 body is not canonically encoded")
    return blob


def parse_signature(armored: bytes) -> Signature:
    reader = _Reader(dearmor(armored), "signature")
    if reader.raw(len(MAGIC)) != MAGIC:
        raise VerificationError(rules.BAD_SIGNATURE_FORMAT, "signature: not an SSHSIG blob")
    version = reader.uint32()
    if version != SIG_VERSION:
        raise VerificationError(rules.BAD_SIGNATURE_FORMAT,
                                f"signature: SSHSIG version {version} is not supported")
    public_key = reader.string()
    namespace = reader.text()
    reserved = reader.string()
    hash_alg = reader.text()
    sig_reader = _Reader(reader.string(), "signature blob")
    reader.done()
    key_type = sig_reader.text()
    signature = sig_reader.string()
    sig_reader.done()
    return Signature(public_key, namespace, reserved, hash_alg, key_type, signature)


def _ed25519_key(blob: bytes, what: str) -> Ed25519PublicKey:
    reader = _Reader(blob, what)
    key_type = reader.text()
    if key_type != KEY_TYPE:
        raise VerificationError(rules.UNSUPPORTED_ALGORITHM,
                                f"{what}: key type {key_type!r} is not {KEY_TYPE}")
    raw = reader.string()
    reader.done()
    if len(raw) != 32:
        raise VerificationError(rules.BAD_SIGNATURE_FORMAT, f"{what}: Ed25519 key is not 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclasses.dataclass(frozen=True, slots=True)
class AllowedSigner:
    principals: str
    key_type: str
    key_blob: bytes
    namespaces: tuple[str, ...] | None = None
    valid_after: dt.datetime | None = None
    valid_before: dt.datetime | None = None
    line: int = 0

    def allows_namespace(self, namespace: str) -> bool:
        if self.namespaces is None:
            return True
        negated = [p[1:] for p in self.namespaces if p.startswith("!")]
        positive = [p for p in self.namespaces if not p.startswith("!")]
        if any(fnmatch.fnmatchcase(namespace, p) for p in negated):
            return False
        return any(fnmatch.fnmatchcase(namespace, p) for p in positive)

    def valid_at(self, now: dt.datetime) -> bool:
        if self.valid_after is not None and now < self.valid_after:
            return False
        return not (self.valid_before is not None and now > self.valid_before)


class AllowedSignersError(ValueError):
    """The allowed_signers text is malformed (a usage error, not a rejected release)."""


def _split_fields(line: str) -> list[str]:
    """Split on blanks outside double quotes, as OpenSSH's option parser does."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
            current.append(char)
        elif char in " \t" and not quoted:
            if current:
                fields.append("".join(current))
                current = []
        else:
            current.append(char)
    if quoted:
        raise AllowedSignersError("unterminated quote")
    if current:
        fields.append("".join(current))
    return fields


def _split_options(options: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in options:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


TIMESTAMP_FORM = ("YYYYMMDD[HHMM[SS]][Z] (local time, or UTC with a final Z), e.g. 20250131 "
                  "or 20250131235959Z")
_TIMESTAMP = re.compile(
    r"([0-9]{4})([0-9]{2})([0-9]{2})(?:([0-9]{2})([0-9]{2})([0-9]{2})?)?([Zz]?)")


def _timestamp(option: str, value: str) -> dt.datetime:
    """A valid-after/valid-before time, read as OpenSSH reads it; AllowedSignersError if bad.

    OpenSSH (strptime, then timegm or mktime) takes day 01-31 in any month and second
    00-61, and rolls them over (20230229 is 1 March 2023); it refuses month 13, day 32,
    hour 24, minute 60 and any time not after the epoch. So does this.
    """
    def bad(why: str) -> AllowedSignersError:
        return AllowedSignersError(f'{option}="{value}" {why}; a timestamp is {TIMESTAMP_FORM}')

    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise bad("is not a timestamp")
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups()[:6])
    for name, number, low, high in (("month", month, 1, 12), ("day", day, 1, 31),
                                    ("hour", hour, 0, 23), ("minute", minute, 0, 59),
                                    ("second", second, 0, 61)):
        if not low <= number <= high:
            raise bad(f"has {name} {number:02d}, not {low:02d}-{high:02d}")
    if year < 1970:
        raise bad(f"is in the year {year}, before 1970")
    try:
        parsed = dt.datetime(year, month, 1) + dt.timedelta(
            days=day - 1, hours=hour, minutes=minute, seconds=second)
        # OpenSSH reads timestamps without Z as local time.
        when = parsed.replace(tzinfo=dt.UTC) if match.group(7) else parsed.astimezone()
    except (OverflowError, ValueError):  # past the end of year 9999
        when = dt.datetime.max.replace(tzinfo=dt.UTC)
    if when <= _EPOCH:  # ssh-keygen refuses these too
        raise bad("is not after 1970-01-01 00:00:00 UTC")
    return when


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _looks_like_key_type(field: str) -> bool:
    return field.startswith(("ssh-", "ecdsa-", "sk-", "rsa-", "webauthn-"))


ALLOWED_SIGNERS_FORM = f'PRINCIPAL namespaces="{NAMESPACE}" {KEY_TYPE} AAAA...'


def _is_key_of_type(key_type: str, key_b64: str) -> bool:
    """Whether key_b64 is an SSH public key blob of key_type (`ssh-ed25519 AAAAC3...`)."""
    try:
        blob = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    name = key_type.encode("utf-8", "replace")
    return blob[:4 + len(name)] == ssh_string(name)


def _bare_key_problem(fields: list[str]) -> str | None:
    """What to say when a line is a public key on its own (a .pub file), not a signer."""
    if len(fields) < 2 or not _is_key_of_type(fields[0], fields[1]):
        return None
    comment = fields[2] if len(fields) > 2 else ""
    principal = comment if comment and not any(c in comment for c in '"#') else "PRINCIPAL"
    example = f'{principal} namespaces="{NAMESPACE}" {fields[0]} {fields[1]}'
    return ("this is a bare public key (a .pub file's line), not an allowed_signers line; an "
            "allowed_signers line names who may sign, and for which namespace, before the "
            f"key: {example} (`repo-tools keygen KEY` writes that line to "
            "KEY.allowed_signers)")


def parse_allowed_signers(text: str, *, source: str | None = None) -> list[AllowedSigner]:
    """Parse an allowed_signers file (ssh-keygen(1) ALLOWED SIGNERS).

    Lines for certificate authorities and for key types other than Ed25519 are skipped:
    they can never match a signature this tool accepts. A malformed line raises
    AllowedSignersError naming the line (and `source`, the file, when given).
    """
    where = f"{source}, line" if source is not None else "allowed signers line"
    signers: list[AllowedSigner] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            fields = _split_fields(line)
            bare = _bare_key_problem(fields)
            if bare is not None:
                raise AllowedSignersError(bare)
            if len(fields) < 3:
                raise AllowedSignersError("expected principals, [options,] key type and key, "
                                          f"as in {ALLOWED_SIGNERS_FORM}")
            principals, rest = fields[0], fields[1:]
            options: list[str] = []
            if not _looks_like_key_type(rest[0]):
                options = _split_options(rest[0])
                rest = rest[1:]
            if len(rest) < 2:
                raise AllowedSignersError(f"missing key type or key, as in {ALLOWED_SIGNERS_FORM}")
            key_type, key_b64 = rest[0], rest[1]
            signer = _signer_from(principals, options, key_type, key_b64, number)
        except AllowedSignersError as exc:
            raise AllowedSignersError(f"{where} {number}: {exc}") from None
        if signer is not None:
            signers.append(signer)
    return signers


def load_allowed_signers(path: Path) -> list[AllowedSigner]:
    """parse_allowed_signers of a file; its errors name the file. OSError and
    UnicodeDecodeError when it cannot be read as UTF-8 text."""
    return parse_allowed_signers(path.read_text("utf-8"), source=str(path))


def _signer_from(principals: str, options: list[str], key_type: str, key_b64: str,
                 number: int) -> AllowedSigner | None:
    namespaces: tuple[str, ...] | None = None
    valid_after = valid_before = None
    for option in options:
        name, _, value = option.partition("=")
        name = name.lower()
        value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
        if name == "cert-authority":
            return None
        if name == "namespaces":
            namespaces = tuple(p.strip() for p in value.split(",") if p.strip())
        elif name == "valid-after":
            valid_after = _timestamp(name, value)
        elif name == "valid-before":
            valid_before = _timestamp(name, value)
        else:
            raise AllowedSignersError(f"unknown option {name!r}")
    try:
        blob = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise AllowedSignersError("the key is not valid base64") from None
    if key_type != KEY_TYPE:
        return None
    try:
        _ed25519_key(blob, "allowed signer")
    except VerificationError as exc:
        raise AllowedSignersError(exc.message) from None
    return AllowedSigner(principals, key_type, blob, namespaces, valid_after, valid_before,
                         number)


def verify(message: bytes, armored: bytes, signers: Sequence[AllowedSigner], *,
           namespace: str = NAMESPACE, now: dt.datetime | None = None) -> AllowedSigner:
    """Check an armored SSHSIG over message; return the allowed signer whose key made it.

    Raises VerificationError with R002-R006. Run this before parsing the message at all.
    """
    sig = parse_signature(armored)
    if sig.namespace != namespace:
        raise VerificationError(rules.WRONG_NAMESPACE,
                                f"signature namespace is {sig.namespace!r}, expected "
                                f"{namespace!r}")
    if sig.hash_alg not in HASHES:
        raise VerificationError(rules.UNSUPPORTED_ALGORITHM,
                                f"signature hash algorithm {sig.hash_alg!r} is not supported")
    public_key = _ed25519_key(sig.public_key, "signature key")
    if sig.key_type != KEY_TYPE:
        raise VerificationError(rules.UNSUPPORTED_ALGORITHM,
                                f"signature type {sig.key_type!r} is not {KEY_TYPE}")
    if len(sig.signature) != 64:
        raise VerificationError(rules.BAD_SIGNATURE_FORMAT,
                                "signature: an Ed25519 signature is 64 bytes")
    matching = [s for s in signers if s.key_blob == sig.public_key]
    fingerprint = key_fingerprint(sig.public_key)
    if not matching:
        raise VerificationError(rules.UNTRUSTED_KEY,
                                f"signing key {fingerprint} is not in the allowed signers")
    when = now or dt.datetime.now(dt.UTC)
    usable = [s for s in matching if s.allows_namespace(namespace) and s.valid_at(when)]
    if not usable:
        raise VerificationError(rules.UNTRUSTED_KEY,
                                f"signing key {fingerprint} is listed but not allowed for "
                                f"namespace {namespace!r} at this time")
    try:
        public_key.verify(sig.signature,
                          signed_data(message, sig.namespace, sig.hash_alg, sig.reserved))
    except InvalidSignature:
        raise VerificationError(rules.BAD_SIGNATURE,
                                "the signature does not match the manifest bytes") from None
    return usable[0]


def key_fingerprint(blob: bytes) -> str:
    """SHA256:... as `ssh-keygen -l` prints it."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"
