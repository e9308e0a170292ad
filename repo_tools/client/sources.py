"""Where a client gets the remote configuration: a signed release folder (by URL or path)
or a git repository, and how each is verified before anything in it is used.

A `BundleSource` is a folder published by `repo-tools release` (`manifest.json`, its
`.sig`, and `<sha256>.tar`, one archive per config version). The client verifies the
manifest first (`repo_tools.release.verify.verify_manifest`), picks its config version from
the signed index, and then reads that version's archive only, capped at its signed size and
verified (`verify_archive`). Archives are named by their content, so they are kept in the
client's archive cache by hash, and an archive the client holds already (as models in its
last known good config, or as a file in that cache) is never fetched again.

A `GitSource` (the design doc's `repo_url` / `branch` / `config_path` / `auth_token`) is
cloned with git itself (`--depth 1`). git gives no signature of its own, so:

* when `config_path` holds a release folder (`manifest.json` + `manifest.json.sig`, i.e.
  the maintainers commit `repo-tools release --out <config_path>`), it is verified exactly
  like a `BundleSource`: signature, rollback, expiry, its config version's archive;
* otherwise `config_path` must hold a plain checkout (index.json and versions/), which is
  accepted only when the application opts in (`ClientConfig.allow_unsigned_git`), with
  validation only; without the opt-in it is rejected (C002).

The token goes to git through the environment, never on the command line or in the URL:
`GIT_CONFIG_*` entries give git a credential helper for the repository's origin only
(scheme, host and port), which prints the token from a variable that only the git
subprocess gets. git asks for it after that origin answers 401, so the token is sent as
HTTP basic authentication to that origin and never to another host, even when git follows
a redirect there. It is scrubbed from any git output that is logged.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import enum
import hashlib
import logging
import os
import stat
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from repo_tools import repo as repo_layout
from repo_tools import schemas
from repo_tools.atomic import write_atomic
from repo_tools.client.errors import ClientError
from repo_tools.client.options import ClientConfig
from repo_tools.net.conditional import Validators
from repo_tools.net.deadline import Deadline
from repo_tools.release import sshsig
from repo_tools.release.errors import VerificationError
from repo_tools.release.fetch import DirectorySource, FetchError, Source, locate
from repo_tools.release.manifest import INDEX_PATH, MANIFEST_NAME, VersionArchive, signature_name
from repo_tools.release.verify import (
    AcceptedRelease,
    archive_limit,
    verify_archive,
    verify_manifest,
)
from repo_tools.rules import client as rules
from repo_tools.rules import release as release_rules

if TYPE_CHECKING:
    from repo_tools.net.transport import Transport

log = logging.getLogger("repo_tools.client")

# The client's pick of a config version from a verified index (index.json's value); None
# when none admits it, or the index has no usable `versions` (the caller then says why).
Chooser = Callable[[Mapping[str, Any]], "str | None"]


class RemoteFailure(ClientError):
    """The remote cannot be used this time; `rule` is C001 or C002, `message` is safe to log."""


@dataclasses.dataclass(frozen=True, slots=True)
class Origin:
    """Where a configuration came from (no secrets: URLs are shown without credentials)."""

    kind: str  # "bundle" or "git"
    location: str
    signed: bool
    repository: str | None = None
    bundle_version: int | None = None
    manifest_sha256: str | None = None

    def describe(self) -> str:
        if self.bundle_version is None:
            return f"{self.kind} {self.location} (unsigned)"
        return f"{self.repository} bundle_version {self.bundle_version} from {self.location}"

    @property
    def accepted(self) -> AcceptedRelease | None:
        if self.bundle_version is None or self.manifest_sha256 is None:
            return None
        return AcceptedRelease(self.bundle_version, self.manifest_sha256)


class RemoteCheck(enum.StrEnum):
    """How a load that used the remote learned that its release is current.

    DOWNLOADED: the manifest was new (or not known), so its signature was fetched, and the
        archive of the client's config version unless the client held that very archive.
    NOT_MODIFIED: the server answered the conditional request with 304 Not Modified.
    UNCHANGED: the server answered 200 with the very manifest bytes already stored (a
        server that ignores conditional requests).
    NOT_DUE: no request at all: the stored release was confirmed less than
        `ClientConfig.refresh_interval` seconds ago.
    Apart from DOWNLOADED, nothing but the manifest was requested (NOT_DUE: nothing), and
    the stored manifest passed every check of a fresh one again (signature against today's
    allowed signers, repository, rollback, expiry). The one exception: an application
    update that selects a config version the client holds no archive of fetches that
    archive, whatever the check."""

    DOWNLOADED = "downloaded"
    NOT_MODIFIED = "not-modified"
    UNCHANGED = "unchanged"
    NOT_DUE = "not-due"


@dataclasses.dataclass(frozen=True, slots=True)
class ManifestCopy:
    """A verified release's signed manifest as it was fetched, kept with the last known
    good config so that a later load can ask for it conditionally, tell that it is
    unchanged, and check it again, without fetching the signature or any archive.

    locator: where it was fetched (`Source.locator`: no credentials, no query); its
        validators are only ever sent back there."""

    locator: str
    manifest: bytes
    signature: bytes
    validators: Validators = dataclasses.field(default_factory=Validators)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.manifest).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class FetchedRemote:
    """The verified files (path -> bytes: index.json and the model files of the config
    versions read) and their origin.

    release: the signed manifest they came from (None: an unsigned git checkout).
    check: how the release was found current. Whatever it is, `files` holds index.json
        (NOT_DUE: nothing; the caller has its config) and the model files of the chosen
        config version, unless the caller held them already (`held`).
    archives: config version -> SHA-256 of its archive, for each config version chosen
        from a signed release (read now or held).
    held: the chosen config versions whose archive is one `FetchContext.held` named: not
        read again, the caller has their models."""

    files: Mapping[str, bytes]
    origin: Origin
    release: ManifestCopy | None = None
    check: RemoteCheck = RemoteCheck.DOWNLOADED
    archives: Mapping[str, str] = dataclasses.field(default_factory=dict)
    held: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class FetchContext:
    """What verification needs: the trusted keys, the rollback state, a fixed `now`; and
    what fetching needs: the transport and the deadline of the whole load (None: a
    transport from the config, and the config's load_timeout from now), and the release
    the client already holds (`previous`: asked for conditionally, and not fetched again
    when the manifest is unchanged).

    choose: picks the one config version to read from the verified index (None: read
        every config version, as `resolve --bundle` does).
    held: config version -> archive SHA-256 whose verified models the caller has already
        (its last known good config): such an archive is not read again.
    archive_cache: a folder where downloaded archives are kept as `<sha256>.tar` and
        looked for before downloading (None: no cache)."""

    allowed_signers: Sequence[sshsig.AllowedSigner]
    state: Mapping[str, AcceptedRelease]
    now: dt.datetime
    config: ClientConfig
    transport: Transport | None = None
    deadline: Deadline | None = None
    previous: ManifestCopy | None = None  # the last known good config's release
    choose: Chooser | None = None
    held: Mapping[str, str] = dataclasses.field(default_factory=dict)
    archive_cache: Path | None = None


class RemoteSource(Protocol):
    def describe(self) -> str: ...

    def fetch(self, context: FetchContext) -> FetchedRemote:
        """The verified remote; RemoteFailure when it is unreachable or fails a check."""
        ...


def verify_release_folder(source: Source, context: FetchContext, *, kind: str,
                          manifest_name: str = MANIFEST_NAME) -> FetchedRemote:
    """Fetch and verify a published release folder, as `repo-tools verify` does; but when
    the manifest is the one `context.previous` holds (304, or the same bytes), nothing else
    is fetched and that stored manifest is checked again instead."""
    shown = source.describe()
    not_modified = False
    try:
        reply = source.read_if_changed(manifest_name,
                                       context.config.verify_limits.max_manifest_bytes,
                                       _validators_for(source.locator(manifest_name),
                                                       context.previous))
        not_modified = reply.not_modified
        copy, check = _manifest_copy(source, manifest_name, reply.data, reply.validators,
                                     context)
        try:
            return _verify(source, copy, check, context, kind)
        except VerificationError as exc:
            if check is RemoteCheck.DOWNLOADED or exc.rule not in _SIGNATURE_RULES:
                raise
        # The stored signature no longer verifies (the application trusts other keys
        # now): the same manifest may have been signed again; its current signature decides.
        signature = source.read(signature_name(manifest_name),
                                context.config.verify_limits.max_signature_bytes)
        return _verify(source, dataclasses.replace(copy, signature=signature), check,
                       context, kind)
    except FetchError as exc:
        raise RemoteFailure(rules.REMOTE_UNREACHABLE, str(exc)) from None
    except VerificationError as exc:
        where = f"{shown}/{exc.path}" if exc.path else shown
        # A 304 vouches for the stored manifest, and it must pass every check again.
        note = " (the stored manifest: the server answered 304 Not Modified)" if (
            not_modified) else ""
        raise RemoteFailure(rules.REMOTE_REJECTED,
                            f"{exc.code} {exc.rule.name}: {exc.message} ({where}){note}"
                            ) from None


def check_stored(release: ManifestCopy, origin: Origin, context: FetchContext) -> FetchedRemote:
    """The stored release, checked again as a fetched one would be (signature against
    today's allowed signers, repository, rollback, expiry), without any request; for a
    load within `ClientConfig.refresh_interval`. RemoteFailure (C002) when it fails."""
    try:
        verify_manifest(release.manifest, release.signature, context.allowed_signers,
                        now=context.now, state=context.state,
                        repository=context.config.repository,
                        limits=context.config.verify_limits)
    except VerificationError as exc:
        raise RemoteFailure(rules.REMOTE_REJECTED,
                            f"{exc.code} {exc.rule.name}: {exc.message} (the stored "
                            f"manifest of {origin.location})") from None
    return FetchedRemote({}, origin, release, RemoteCheck.NOT_DUE)


_SIGNATURE_RULES = frozenset({release_rules.BAD_SIGNATURE_FORMAT,
                              release_rules.UNSUPPORTED_ALGORITHM, release_rules.WRONG_NAMESPACE,
                              release_rules.UNTRUSTED_KEY, release_rules.BAD_SIGNATURE})


def _validators_for(locator: str, previous: ManifestCopy | None) -> Validators:
    """The stored validators, only for the very manifest they were sent with."""
    if previous is None or previous.locator != locator:
        return Validators()
    return previous.validators


def _manifest_copy(source: Source, manifest_name: str, data: bytes | None,
                   validators: Validators, context: FetchContext
                   ) -> tuple[ManifestCopy, RemoteCheck]:
    """The manifest to verify, and how it was found: the stored copy on 304 or when the
    bytes are the same (no signature request: the stored one signs these very bytes),
    else the new bytes with their signature, fetched now."""
    previous = context.previous
    locator = source.locator(manifest_name)
    if data is None:
        assert previous is not None  # a 304 answers only a conditional request
        # A 304 may leave out validators it does not change (RFC 9110 15.4.5).
        kept = Validators(validators.etag or previous.validators.etag,
                          validators.last_modified or previous.validators.last_modified)
        return dataclasses.replace(previous, validators=kept), RemoteCheck.NOT_MODIFIED
    if previous is not None and hashlib.sha256(data).hexdigest() == previous.sha256:
        return (ManifestCopy(locator, data, previous.signature, validators),
                RemoteCheck.UNCHANGED)
    signature = source.read(signature_name(manifest_name),
                            context.config.verify_limits.max_signature_bytes)
    return ManifestCopy(locator, data, signature, validators), RemoteCheck.DOWNLOADED


def _verify(source: Source, copy: ManifestCopy, check: RemoteCheck, context: FetchContext,
            kind: str) -> FetchedRemote:
    """The manifest's checks, then the archive of the config version the client chooses
    from its index (every archive without a chooser), unless the client holds it."""
    limits = context.config.verify_limits
    checked = verify_manifest(copy.manifest, copy.signature, context.allowed_signers,
                              now=context.now, state=context.state,
                              repository=context.config.repository, limits=limits)
    manifest = checked.manifest
    origin = Origin(kind, source.describe(), True, manifest.repository,
                    manifest.bundle_version, checked.manifest_sha256)
    if context.choose is None:
        chosen: Sequence[VersionArchive] = manifest.versions
    else:
        # The manifest parser guarantees an archive for every config version the index
        # lists; `choose` gives None when no version admits this client.
        choice = context.choose(manifest.index)
        found = None if choice is None else manifest.archive_of(choice)
        chosen = () if found is None else (found,)
    files = {INDEX_PATH: manifest.index_bytes()}
    archives: dict[str, str] = {}
    held: list[str] = []
    for archive in chosen:
        archives[archive.config_version] = archive.sha256
        if context.held.get(archive.config_version) == archive.sha256:
            held.append(archive.config_version)
            continue
        files.update(read_archive(source, archive, context))
    return FetchedRemote(files, origin, copy, check, archives, tuple(held))


def read_archive(source: Source, archive: VersionArchive,
                 context: FetchContext) -> dict[str, bytes]:
    """One config version's archive, verified (path -> bytes of its model files): from the
    archive cache when it holds a copy that verifies, else fetched (capped at its signed
    size, with the transport's retries, inside the load's deadline) and then cached."""
    limits = context.config.verify_limits
    # A local folder (or a git clone) holds its archives already: nothing to save.
    cache = None if isinstance(source, DirectorySource) else context.archive_cache
    path = None if cache is None else cache / f"{archive.sha256}.tar"
    if path is not None:
        cached = _read_cached(path, archive)
        if cached is not None:
            try:
                files = verify_archive(archive, cached, limits=limits)
                with contextlib.suppress(OSError):
                    os.utime(path)  # "used last", for the cache's pruning
                return files
            except VerificationError as exc:
                # Its name promises content it no longer has: drop it and fetch anew.
                log.info("the cached %s is damaged (%s); fetching it again", path, exc.message)
                with contextlib.suppress(OSError):  # the download below replaces it anyway
                    path.unlink(missing_ok=True)
    data = source.read(archive.name, archive_limit(archive, limits))
    files = verify_archive(archive, data, limits=limits)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
        except OSError as exc:  # the cache only saves a download next time
            log.info("could not keep %s in the archive cache: %s", archive.name, exc)
    return files


def _read_cached(path: Path, archive: VersionArchive) -> bytes | None:
    """The cached archive's bytes when the file has the signed size (else None: a file of
    another size cannot verify, and need not be read)."""
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size != archive.size:
                return None
            return handle.read(archive.size + 1)
    except OSError:
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class BundleSource:
    """A release folder published by `repo-tools release`: an http(s) URL of the folder (or
    of its manifest), or a local directory."""

    location: str

    def describe(self) -> str:
        return locate(self.location)[0].describe()

    def fetch(self, context: FetchContext) -> FetchedRemote:
        config = context.config
        transport = context.transport or client_transport(config)
        deadline = context.deadline or load_deadline(config)
        source, name = locate(self.location, transport=transport, deadline=deadline,
                              fetch_timeout=config.fetch_timeout)
        return verify_release_folder(source, context, kind="bundle", manifest_name=name)


def client_transport(config: ClientConfig) -> Transport:
    """The transport for a client's requests; RemoteFailure when the environment's
    credentials cannot be read."""
    from repo_tools.net.credentials import Credentials, CredentialsError
    from repo_tools.net.transport import Transport

    credentials = config.credentials
    if credentials is None:
        try:
            credentials = Credentials()
        except CredentialsError as exc:
            raise RemoteFailure(rules.REMOTE_UNREACHABLE, str(exc)) from None
    return Transport(config.network, credentials, user_agent="repo-tools-client")


def load_deadline(config: ClientConfig) -> Deadline:
    return Deadline(config.load_timeout, name="the load time limit (ClientConfig.load_timeout)")


def _relative_problem(value: str) -> str | None:
    if value.startswith("/") or "\\" in value:
        return "must be a relative path with '/' separators"
    if any(part in ("..",) for part in value.split("/")):
        return "must not contain '..'"
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class GitSource:
    """The design doc's remote configuration source, fetched with git.

    `auth_token` is sent as HTTP basic authentication (user `x-access-token`, the token as
    password: what GitHub, GitLab and Gitea accept for tokens) to the origin of an http(s)
    `repo_url` only, when it asks (see `git_environment`); it is excluded from `repr` and
    never logged.
    """

    repo_url: str
    branch: str = "main"
    config_path: str = ""
    auth_token: str | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.repo_url)
        # ssh://git@host/... names a login, not a secret; a password or an http user is one
        if parts.password is not None or (parts.scheme in ("http", "https")
                                          and parts.username is not None):
            raise ValueError("repo_url must not carry credentials; pass the token as "
                             "auth_token")
        if parts.scheme in ("http", "https") and (parts.query or parts.fragment):
            # A token in the query would reach git's argv and its error messages.
            raise ValueError("repo_url must not have a query or fragment; pass a token as "
                             "auth_token")
        problem = _relative_problem(self.config_path)
        if problem is not None:
            raise ValueError(f"config_path {problem}")
        if not self.branch or self.branch.startswith("-"):
            raise ValueError("branch must be a branch name")
        if self.auth_token is not None and not self.auth_token.isprintable():
            # A line break would add lines of its own to the credential helper's answer.
            raise ValueError("auth_token must be one line of printable characters")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GitSource:
        """A source from the remote-source object (schemas/remote_source.schema.json);
        ValueError naming the first problem (never the token's value)."""
        errors = sorted(schemas.validator(schemas.REMOTE_SOURCE).iter_errors(dict(data)),
                        key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "the source"
            raise ValueError(f"invalid remote source: {where}: {errors[0].validator} check "
                             "failed")
        return cls(data["repo_url"], data.get("branch", "main"), data.get("config_path", ""),
                   data.get("auth_token"))

    def describe(self) -> str:
        parts = urlsplit(self.repo_url)
        shown = parts._replace(query="", fragment="").geturl() if parts.scheme else self.repo_url
        suffix = f":{self.config_path}" if self.config_path else ""
        return f"{shown}#{self.branch}{suffix}"

    def fetch(self, context: FetchContext) -> FetchedRemote:
        with tempfile.TemporaryDirectory(prefix="repo-tools-git-") as tmp:
            checkout = Path(tmp) / "checkout"
            # git runs inside the load's time limit too (a clone has no deadline of its own).
            deadline = context.deadline or load_deadline(context.config)
            if deadline.expired():
                raise RemoteFailure(rules.REMOTE_UNREACHABLE,
                                    f"{deadline.name} ran out before the clone")
            self._clone(checkout, deadline.bound(context.config.git_timeout))
            root = checkout / self.config_path if self.config_path else checkout
            if (root / MANIFEST_NAME).is_file():
                fetched = verify_release_folder(DirectorySource(root), context, kind="git")
                # The clone is temporary: where the release is kept is the repository.
                release = fetched.release and dataclasses.replace(
                    fetched.release, locator=f"{self.describe()}/{MANIFEST_NAME}")
                return dataclasses.replace(fetched, release=release, origin=dataclasses.replace(
                    fetched.origin, location=self.describe()))
            if not context.config.allow_unsigned_git:
                raise RemoteFailure(
                    rules.REMOTE_REJECTED,
                    f"{self.describe()} has no signed release ({MANIFEST_NAME} and its .sig) at "
                    f"config_path {self.config_path or '.'!r}; publish one with `repo-tools "
                    "release --out` there, or let the application opt in to unsigned git "
                    "sources (ClientConfig.allow_unsigned_git)")
            files = read_checkout(root, context.choose)
            if repo_layout.INDEX_FILE not in files:
                raise RemoteFailure(rules.REMOTE_UNREACHABLE,
                                    f"{self.describe()} has no index.json at config_path "
                                    f"{self.config_path or '.'!r}")
            return FetchedRemote(files, Origin("git", self.describe(), False))

    def _clone(self, target: Path, timeout: float) -> None:
        argv = ["git", "clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags",
                "--branch", self.branch, "--", self.repo_url, str(target)]
        try:
            proc = subprocess.run(argv, env=git_environment(os.environ, self.repo_url,
                                                            self.auth_token),
                                  capture_output=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, check=False)
        except FileNotFoundError:
            raise RemoteFailure(rules.REMOTE_UNREACHABLE, "git is not installed") from None
        except subprocess.TimeoutExpired:
            raise RemoteFailure(rules.REMOTE_UNREACHABLE,
                                f"git clone of {self.describe()} took longer than "
                                f"{timeout:g} s") from None
        if proc.returncode != 0:
            text = proc.stderr.decode("utf-8", "replace")
            lines = [line.strip() for line in scrub(text, self.auth_token).splitlines()
                     if line.strip()]
            detail = "; ".join(lines[-3:]) or f"exit status {proc.returncode}"
            raise RemoteFailure(rules.REMOTE_UNREACHABLE,
                                f"git clone of {self.describe()} failed: {detail}")


def scrub(text: str, secret: str | None) -> str:
    """text with the secret and its base64 form (as sent in the header) replaced."""
    if not secret:
        return text
    for form in (basic_credentials(secret), secret):
        text = text.replace(form, "***")
    return text


def basic_credentials(token: str) -> str:
    return base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")


_TRACE_VARIABLES = ("GIT_TRACE", "GIT_TRACE_CURL", "GIT_TRACE_PACKET", "GIT_CURL_VERBOSE",
                    "GIT_TRACE2", "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF")

TOKEN_VARIABLE = "REPO_TOOLS_GIT_TOKEN"

# git runs this as `sh -c '<helper> "$@"' <helper> get|store|erase`: the token is read from
# the environment, so no argv (what `ps` shows) ever holds it. printf, not echo: dash's
# echo would rewrite backslashes in a token.
_CREDENTIAL_HELPER = (
    "!f() { if test \"$1\" = get; then "
    f"printf 'username=x-access-token\\npassword=%s\\n' \"${TOKEN_VARIABLE}\"; fi; }}; f")


def _credential_origin(repo_url: str) -> str | None:
    """scheme://host[:port] of an http(s) repo_url (what the token is scoped to), or None
    for other URLs (ssh, file, scp-like), where a token has no use."""
    parts = urlsplit(repo_url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{scheme}://{parts.netloc}"


def git_environment(base: Mapping[str, str], repo_url: str,
                    token: str | None) -> dict[str, str]:
    """The environment for git: no prompts, no tracing (traces can print headers), and for
    an http(s) repo_url with a token, a credential helper scoped to the repository's
    origin, appended to any GIT_CONFIG_* entries the caller's environment already has.

    git asks the helper only after a 401 from a host matching the origin (scheme, host and
    port), so a redirect to another origin never gets the token; a pre-emptive header
    (`http.<url>.extraHeader`) would follow git's redirect to the new base URL. The
    helpers from the user's own config are reset first, so none of them is asked for, or
    told (store/erase), this token; the token itself is only in TOKEN_VARIABLE.
    """
    env = {k: v for k, v in base.items() if k not in _TRACE_VARIABLES and k != TOKEN_VARIABLE}
    env["GIT_TERMINAL_PROMPT"] = "0"
    origin = _credential_origin(repo_url)
    if token and origin is not None:
        count_text = env.get("GIT_CONFIG_COUNT", "0")
        count = int(count_text) if count_text.isdigit() else 0
        entries = [("credential.helper", ""),  # an empty value clears the list so far
                   (f"credential.{origin}.helper", _CREDENTIAL_HELPER)]
        for offset, (key, value) in enumerate(entries):
            env[f"GIT_CONFIG_KEY_{count + offset}"] = key
            env[f"GIT_CONFIG_VALUE_{count + offset}"] = value
        env["GIT_CONFIG_COUNT"] = str(count + len(entries))
        env[TOKEN_VARIABLE] = token
    return env


def read_checkout(root: Path, choose: Chooser | None = None) -> dict[str, bytes]:
    """index.json and versions/*/models/*.json under root, regular files only (a symlink
    in a checkout could point anywhere on the client's disk). With `choose`, only the
    model files of the config version it picks from the index are read."""
    files: dict[str, bytes] = {}
    inside = root.resolve()

    def read(path: Path) -> None:
        try:
            if not stat.S_ISREG(path.lstat().st_mode) or not path.resolve().is_relative_to(
                    inside):
                return
            files[path.relative_to(root).as_posix()] = path.read_bytes()
        except OSError:
            return

    read(root / repo_layout.INDEX_FILE)
    if choose is None:
        candidates = repo_layout.model_files(root)
    else:
        chosen = _checkout_choice(files.get(repo_layout.INDEX_FILE), choose)
        models = root / repo_layout.VERSIONS_DIR / chosen / repo_layout.MODELS_DIR \
            if chosen is not None else None
        candidates = [] if models is None or not models.is_dir() else sorted(
            p for p in models.iterdir() if p.name.endswith(".json"))
    for path in candidates:
        read(path)
    return files


def _checkout_choice(index: bytes | None, choose: Chooser) -> str | None:
    """The config version to read from a checkout's index.json; None when the index is not
    usable (parse_remote_files says why) or names a folder that could leave versions/."""
    from repo_tools.jsonfile import load_json_bytes

    if index is None:
        return None
    doc, _ = load_json_bytes(index, repo_layout.INDEX_FILE)
    if doc is None or not isinstance(doc.data, dict):
        return None
    chosen = choose(doc.data)
    if chosen is None or "/" in chosen or "\\" in chosen or chosen in (".", ".."):
        return None
    return chosen
