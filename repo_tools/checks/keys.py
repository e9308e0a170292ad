"""R037: private-key material in what a release would publish, found whatever the line
endings or surrounding text, and described without ever quoting the key."""

from __future__ import annotations

import dataclasses
import re
from typing import BinaryIO

from repo_tools.findings import Finding, finding
from repo_tools.rules import release as rules

_KEY_MARKER = re.compile(
    rb"(?P<openssh>-----BEGIN[ \t]+OPENSSH[ \t]+PRIVATE[ \t]+KEY-----)"
    rb"|(?P<pem>-----BEGIN[ \t]+(?:[A-Z0-9]{1,24}[ \t]+){0,4}PRIVATE[ \t]+KEY(?:[ \t]+BLOCK)?-----)"
    # base64 of "openssh-key-v1\0", how every OpenSSH private key body starts: a key
    # pasted without its BEGIN/END lines is still found.
    rb"|(?P<body>b3BlbnNzaC1rZXktdjE)"
    rb"|(?P<putty>PuTTY-User-Key-File-[0-9]{1,3}:)")
_KEY_WORDS = (b"PRIVATE", b"b3BlbnNzaC1rZXktdjE", b"PuTTY-User-Key-File-")  # one in each marker
_KEY_TEXT = tuple(word.decode() for word in _KEY_WORDS)
_KINDS = {"openssh": "an OpenSSH private key", "pem": "a PEM private key",
          "body": "the body of an OpenSSH private key", "putty": "a PuTTY private key"}
_OVERLAP = 256  # longer than any marker, so one split across two reads is still found
_CHUNK = 1 << 16  # small reads: most files are a few KiB, and a big buffer costs per file


@dataclasses.dataclass(frozen=True, slots=True)
class KeyMaterial:
    kind: str  # e.g. "an OpenSSH private key"; never the key's bytes
    line: int  # where the first marker starts, counting LF line ends (CRLF counts once)
    column: int


def private_key_material(data: bytes) -> KeyMaterial | None:
    """The first private key in data, whatever its line endings or surrounding text."""
    # Substring tests are fast scans; the regex alone would try every byte of every file.
    if not any(word in data for word in _KEY_WORDS):
        return None
    match = _KEY_MARKER.search(data)
    if match is None or match.lastgroup is None:
        return None
    start = match.start()
    line_start = data.rfind(b"\n", 0, start) + 1
    column = len(data[line_start:start].decode("utf-8", "replace")) + 1
    return KeyMaterial(_KINDS[match.lastgroup], data.count(b"\n", 0, start) + 1, column)


def scan_for_private_key(handle: BinaryIO) -> KeyMaterial | None:
    """private_key_material over a stream, in bounded memory (any file size)."""
    carry = b""
    lines_before = 0  # line ends in everything read before `carry`
    while True:
        chunk = handle.read(_CHUNK)
        data = carry + chunk if carry else chunk
        found = private_key_material(data)
        if found is not None:
            return dataclasses.replace(found, line=lines_before + found.line)
        if len(chunk) < _CHUNK:  # the end of the file
            return None
        keep = min(len(data), _OVERLAP)
        lines_before += data.count(b"\n", 0, len(data) - keep)
        carry = data[len(data) - keep:]


def key_findings(text: str, shown: str) -> list[Finding]:
    """R037 for a file's text already read (validate's pass over a model file)."""
    if not any(word in text for word in _KEY_TEXT):
        return []
    key = private_key_material(text.encode("utf-8", "surrogatepass"))
    if key is None:
        return []
    return [finding(rules.PRIVATE_KEY_MATERIAL, shown, private_key_message(key),
                    line=key.line, column=key.column)]


def private_key_message(key: KeyMaterial) -> str:
    return (f"holds {key.kind} (line {key.line}); a release refuses to publish it. Remove "
            "the key from the repository and treat it as leaked, since git history keeps "
            "it: make a new one with `repo-tools keygen` and keep it outside the repo")
