"""Reading published release files from a folder or an http(s) base URL, with size caps.

Kept apart from verification: `verify.py` decides on bytes, this only gets them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import MANIFEST_NAME
from repo_tools.rules import release as rules

if TYPE_CHECKING:
    from repo_tools.net.deadline import Deadline
    from repo_tools.net.transport import Transport


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
    """Files under a base URL, through the network layer: redirects checked hop by hop (no
    https -> http), retries, a total time limit per file (`fetch_timeout`, inside the
    caller's `deadline`), and a body cut off past its cap (endless data)."""

    def __init__(self, base_url: str, *, transport: Transport | None = None,
                 deadline: Deadline | None = None, fetch_timeout: float = 30.0) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._transport = transport
        self.deadline = deadline
        self.fetch_timeout = fetch_timeout

    def describe(self) -> str:
        from repo_tools.net.transport import redact_url

        # Without the slash, so `f"{describe()}/{name}"` reads right for every source.
        return redact_url(self.base_url).rstrip("/")

    def transport(self) -> Transport:
        if self._transport is None:
            from repo_tools.net.credentials import Credentials, CredentialsError
            from repo_tools.net.transport import Transport

            try:
                credentials = Credentials()
            except CredentialsError as exc:
                raise FetchError(str(exc)) from None
            self._transport = Transport(credentials=credentials, user_agent="repo-tools")
        return self._transport

    def read(self, name: str, max_bytes: int) -> bytes:
        from repo_tools.net.deadline import Deadline
        from repo_tools.net.transport import TOO_LARGE, NetworkError, redact_url

        url = self.base_url + name
        deadline = Deadline(self.fetch_timeout, parent=self.deadline)
        try:
            status, data = self.transport().get_bytes(url, max_bytes, deadline)
        except NetworkError as exc:
            if exc.kind == TOO_LARGE:
                raise _oversize(name, max_bytes) from None
            raise FetchError(str(exc)) from None
        if status != 200:
            raise FetchError(f"{redact_url(url)}: HTTP {status}")
        return data


def locate(location: str, *, manifest_name: str = MANIFEST_NAME,
           transport: Transport | None = None, deadline: Deadline | None = None,
           fetch_timeout: float = 30.0) -> tuple[Source, str]:
    """The release folder (an http(s) URL or a directory) and its manifest's name: a URL
    or path that names the manifest file itself (e.g. `7.manifest.json`) is split into
    its folder and file name; a folder has `manifest_name`."""
    if location.startswith(("http://", "https://")):
        # Plain string work: a malformed URL must fail when fetched, as a FetchError.
        if location.split("#", 1)[0].split("?", 1)[0].endswith(".json"):
            base, _, name = location.rpartition("/")
            return HttpSource(base, transport=transport, deadline=deadline,
                              fetch_timeout=fetch_timeout), name
        return HttpSource(location, transport=transport, deadline=deadline,
                          fetch_timeout=fetch_timeout), manifest_name
    path = Path(location)
    if path.is_file() or (path.suffix == ".json" and not path.is_dir()):
        return DirectorySource(path.parent), path.name
    return DirectorySource(path), manifest_name
