"""Reading published release files from a folder or an http(s) base URL, with size caps.

Kept apart from verification: `verify.py` decides on bytes, this only gets them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import MANIFEST_NAME
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

        # Without the slash, so `f"{describe()}/{name}"` reads right for every source.
        return redact_url(self.base_url).rstrip("/")

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


def locate(location: str, *, manifest_name: str = MANIFEST_NAME,
           timeout: float = 30.0) -> tuple[Source, str]:
    """The release folder (an http(s) URL or a directory) and its manifest's name: a URL
    or path that names the manifest file itself (e.g. `7.manifest.json`) is split into
    its folder and file name; a folder has `manifest_name`."""
    if location.startswith(("http://", "https://")):
        # Plain string work: a malformed URL must fail when fetched, as a FetchError.
        if location.split("#", 1)[0].split("?", 1)[0].endswith(".json"):
            base, _, name = location.rpartition("/")
            return HttpSource(base, timeout=timeout), name
        return HttpSource(location, timeout=timeout), manifest_name
    path = Path(location)
    if path.is_file() or (path.suffix == ".json" and not path.is_dir()):
        return DirectorySource(path.parent), path.name
    return DirectorySource(path), manifest_name
