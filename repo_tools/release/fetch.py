"""Reading published release files from a folder or an http(s) base URL, with size caps.

Kept apart from verification: `verify.py` decides on bytes, this only gets them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from repo_tools.release.errors import VerificationError
from repo_tools.rules import release as rules

_CHUNK = 64 * 1024


class FetchError(Exception):
    """The file could not be fetched at all (missing, network, permission): not a finding."""


class Source(Protocol):
    def read(self, name: str, max_bytes: int) -> bytes:
        """The file's bytes; VerificationError (R001) past max_bytes, FetchError if absent."""
        ...

    def describe(self) -> str: ...


def _oversize(name: str, max_bytes: int) -> VerificationError:
    return VerificationError(rules.OVERSIZE, f"{name} is larger than the limit of {max_bytes} "
                             "bytes", name)


class DirectorySource:
    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def read(self, name: str, max_bytes: int) -> bytes:
        path = self.root / name
        try:
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except FileNotFoundError:
            raise FetchError(f"{path} does not exist") from None
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror}") from None
        if len(data) > max_bytes:
            raise _oversize(name, max_bytes)
        return data


class HttpSource:
    """Files under a base URL; a body is streamed and cut off past its cap (endless data)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout

    def describe(self) -> str:
        from repo_tools.probe.targets import redact_url

        return redact_url(self.base_url)

    def read(self, name: str, max_bytes: int) -> bytes:
        import requests  # only the network path pays for it

        from repo_tools.probe.targets import redact_url

        url = self.base_url + name
        shown = redact_url(url)
        try:
            with requests.get(url, stream=True, timeout=self.timeout,
                              headers={"Accept-Encoding": "identity"}) as response:
                if response.status_code != 200:
                    raise FetchError(f"{shown}: HTTP {response.status_code}")
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise _oversize(name, max_bytes)
                chunks: list[bytes] = []
                total = 0
                for chunk in response.iter_content(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise _oversize(name, max_bytes)
                    chunks.append(chunk)
        except requests.RequestException as exc:
            raise FetchError(f"{shown}: {type(exc).__name__}") from None
        return b"".join(chunks)


def open_source(location: str) -> Source:
    if location.startswith(("http://", "https://")):
        return HttpSource(location)
    return DirectorySource(Path(location))
