"""Reading published release files from a folder or an http(s) base URL, with size caps.

Kept apart from verification: `verify.py` decides on bytes, this only gets them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from repo_tools.net.conditional import Validators
from repo_tools.release.errors import VerificationError
from repo_tools.release.manifest import MANIFEST_NAME
from repo_tools.rules import release as rules

if TYPE_CHECKING:
    from repo_tools.net.deadline import Deadline
    from repo_tools.net.transport import Transport


class FetchError(Exception):
    """The file could not be fetched at all (missing, network, permission): not a finding."""


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    """A file read on a condition: `data` None when the server answered 304 Not Modified
    (the validators sent still match), else the file's bytes; `validators` as the answer
    carried them (to send on the next read of the same file)."""

    data: bytes | None
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.data is None


class Source(Protocol):
    def read(self, name: str, max_bytes: int) -> bytes:
        """The file's bytes; VerificationError (R001) past max_bytes, FetchError if absent."""
        ...

    def read_if_changed(self, name: str, max_bytes: int, validators: Validators) -> Reply:
        """As `read`, but asking for the file only when it no longer matches validators
        (a source that cannot ask just reads it)."""
        ...

    def locator(self, name: str) -> str:
        """Where the file is, as it may be shown and stored (no credentials, no query):
        what a stored validator is kept for."""
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

    def read_if_changed(self, name: str, max_bytes: int, validators: Validators) -> Reply:
        # A file has no validators to compare; the caller compares the bytes.
        return Reply(self.read(name, max_bytes), Validators())

    def locator(self, name: str) -> str:
        return str(self.root / name)


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
        data = self._get(name, max_bytes, None).data
        assert data is not None  # only a conditional request is answered 304
        return data

    def read_if_changed(self, name: str, max_bytes: int, validators: Validators) -> Reply:
        return self._get(name, max_bytes, validators or None)

    def locator(self, name: str) -> str:
        from repo_tools.net.transport import redact_url

        return redact_url(self.base_url + name)

    def _get(self, name: str, max_bytes: int, validators: Validators | None) -> Reply:
        from repo_tools.net.deadline import Deadline
        from repo_tools.net.transport import TOO_LARGE, NetworkError, redact_url

        url = self.base_url + name
        deadline = Deadline(self.fetch_timeout, parent=self.deadline)
        try:
            fetched = self.transport().get(url, max_bytes, deadline, validators=validators)
        except NetworkError as exc:
            if exc.kind == TOO_LARGE:
                raise _oversize(name, max_bytes) from None
            raise FetchError(str(exc)) from None
        if fetched.status == 304 and validators is not None:
            return Reply(None, fetched.validators)
        if fetched.status != 200:
            raise FetchError(f"{redact_url(url)}: HTTP {fetched.status}")
        return Reply(fetched.body, fetched.validators)


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
