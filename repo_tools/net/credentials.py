"""Credentials for private hosts, matched to the exact origin of each request.

Two places, read once per run:

* tokens: `REPO_TOOLS_TOKENS` (inline) and the file named by `REPO_TOOLS_TOKENS_FILE`,
  each a list of `ORIGIN=TOKEN` separated by white space or new lines (`#` starts a
  comment in the file). ORIGIN is `host`, `host:port`, or `scheme://host[:port]`; without
  a scheme it means https, without a port the scheme's default. A token is sent as
  `Authorization: Bearer TOKEN` only to that scheme, host and port.
* `~/.netrc` (or `$NETRC`): a `machine` entry by its exact host name, as curl and
  requests read it (netrc has no scheme or port); a `default` entry is never used, since
  it would hand the login to every host a redirect leads to.

The old `REPO_TOOLS_TOKEN_<HOST>` variables are no longer read: their names map several
hosts to one variable (`files.example.com`, `files-example.com` and `files.example_com`
all became `..._FILES_EXAMPLE_COM`), so a look-alike host could receive the token.
`ignored_variables()` names any that are still set, so the CLI can say so.

An application can add its own, matched the same way: `Credentials(tokens={ORIGIN:
TOKEN}, headers={ORIGIN: {NAME: VALUE}})`; its tokens win over the environment's for the
same origin, and its headers go to that origin only (a redirect elsewhere never gets them).
"""

from __future__ import annotations

import base64
import netrc
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

TOKENS_VARIABLE = "REPO_TOOLS_TOKENS"
TOKENS_FILE_VARIABLE = "REPO_TOOLS_TOKENS_FILE"
LEGACY_PREFIX = "REPO_TOOLS_TOKEN_"

Origin = tuple[str, str, int]  # scheme, host (lower case, IDNA), port
_T = TypeVar("_T")


class CredentialsError(Exception):
    """A credentials source exists but cannot be used (the message never quotes a secret)."""


def _ascii_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, or None."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return None
    return scheme, _ascii_host(host), port or (443 if scheme == "https" else 80)


def parse_origin(text: str) -> Origin | None:
    """An ORIGIN of the tokens list, or None when it is not one."""
    if "://" not in text:
        text = "https://" + text
    origin = origin_of(text)
    if origin is None:
        return None
    parts = urlsplit(text)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    return origin


def parse_tokens(text: str, where: str) -> dict[Origin, str]:
    """`ORIGIN=TOKEN` items; CredentialsError naming the item's position, never its token."""
    tokens: dict[Origin, str] = {}
    words = [w for line in text.splitlines() for w in line.split("#", 1)[0].split()]
    for number, word in enumerate(words, 1):
        origin_text, sep, token = word.partition("=")
        origin = parse_origin(origin_text) if sep else None
        if origin is None or not token:
            raise CredentialsError(
                f"{where}: item {number} is not ORIGIN=TOKEN (ORIGIN is host, host:port or "
                "https://host[:port])")
        if origin in tokens:
            raise CredentialsError(f"{where}: {origin_text} is given twice")
        tokens[origin] = token
    return tokens


def default_netrc_path(env: Mapping[str, str]) -> Path:
    if env.get("NETRC"):
        return Path(env["NETRC"])
    return Path.home() / ".netrc"


class Credentials:
    """Who gets which Authorization header. `Credentials(env={})` has none."""

    def __init__(self, env: Mapping[str, str] | None = None,
                 netrc_path: Path | None = None, *,
                 tokens: Mapping[str, str] | None = None,
                 headers: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self._netrc_path = netrc_path if netrc_path is not None else default_netrc_path(
            self._env)
        self._tokens = {**self._load_tokens(), **_by_origin(tokens or {}, "tokens")}
        self._headers = {origin: dict(values) for origin, values in
                         _by_origin(headers or {}, "headers").items()}
        for values in self._headers.values():
            for name, value in values.items():
                if not (name.isprintable() and value.isprintable()) or ":" in name:
                    raise CredentialsError(f"headers: {name!r} is not a header name with a "
                                           "one-line value")
        self._netrc = self._load_netrc()

    def __repr__(self) -> str:
        return f"Credentials({len(self._tokens)} token(s), {len(self._headers)} header set(s))"

    def _load_tokens(self) -> dict[Origin, str]:
        tokens = parse_tokens(self._env.get(TOKENS_VARIABLE, ""), TOKENS_VARIABLE)
        file_name = self._env.get(TOKENS_FILE_VARIABLE)
        if file_name:
            try:
                text = Path(file_name).read_text("utf-8")
            except (OSError, UnicodeError) as exc:
                reason = getattr(exc, "strerror", None) or "not UTF-8 text"
                raise CredentialsError(f"cannot read {file_name} ({TOKENS_FILE_VARIABLE}): "
                                       f"{reason}") from None
            for origin, token in parse_tokens(text, file_name).items():
                tokens.setdefault(origin, token)
        return tokens

    def _load_netrc(self) -> netrc.netrc | None:
        if not self._netrc_path.is_file():
            return None
        try:
            return netrc.netrc(str(self._netrc_path))
        except netrc.NetrcParseError as exc:
            # exc.msg can quote the offending token, which may be a password.
            raise CredentialsError(
                f"cannot use {self._netrc_path}: parse error at line {exc.lineno} "
                "(or it is readable by other users)") from None
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not readable text"
            raise CredentialsError(f"cannot read {self._netrc_path}: {reason}") from None

    def headers_for(self, url: str) -> dict[str, str]:
        """The Authorization header and the application's headers for url's exact origin,
        or nothing."""
        origin = origin_of(url)
        if origin is None:
            return {}
        found = dict(self._headers.get(origin, {}))
        token = self._tokens.get(origin)
        if token:
            found["Authorization"] = f"Bearer {token}"
        elif self._netrc is not None:
            host = origin[1]
            entry = self._netrc.hosts.get(host) if host != "default" else None
            if entry is not None:
                login, _account, password = entry
                raw = f"{login}:{password or ''}".encode()
                found["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        return found

    def ignored_variables(self) -> list[str]:
        """Old per-host token variables that are set but no longer read."""
        return sorted(k for k in self._env if k.startswith(LEGACY_PREFIX) and self._env[k])

    def secrets(self) -> set[str]:
        """Every credential value this run could send, in the forms it could appear in."""
        found = set(self._tokens.values())
        found |= {v for values in self._headers.values() for v in values.values()}
        found |= {v for k, v in self._env.items() if k.startswith(LEGACY_PREFIX) and v}
        if self._netrc is not None:
            for login, _account, password in self._netrc.hosts.values():
                if password:
                    found.add(password)
                    found.add(base64.b64encode(f"{login}:{password}".encode()).decode())
        return {s for s in found if len(s) >= 4}

    def hint(self, url: str) -> str:
        origin = origin_of(url)
        if origin is None:
            return f"set {TOKENS_VARIABLE} or add the host to {self._netrc_path}"
        scheme, host, port = origin
        default = 443 if scheme == "https" else 80
        shown = (host if scheme == "https" else f"{scheme}://{host}") + (
            "" if port == default else f":{port}")
        return (f"set {TOKENS_VARIABLE}='{shown}=TOKEN' or add the host to "
                f"{self._netrc_path}")


def _by_origin(items: Mapping[str, _T], where: str) -> dict[Origin, _T]:
    """items keyed by ORIGIN text (as in the tokens list), keyed by the parsed origin."""
    parsed: dict[Origin, _T] = {}
    for text, value in items.items():
        origin = parse_origin(text)
        if origin is None:
            raise CredentialsError(f"{where}: {text!r} is not an ORIGIN (host, host:port or "
                                   "https://host[:port])")
        if origin in parsed:
            raise CredentialsError(f"{where}: {text} is given twice")
        parsed[origin] = value
    return parsed


def scrub(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
