"""Credentials for private hosts: an environment variable per host, else ~/.netrc.

Credentials are only ever attached to a request for the very host they belong to (so a
redirect to a CDN never carries them), and their values are known to `secrets()` so the
caller can scrub anything it prints.
"""

from __future__ import annotations

import base64
import netrc
import os
import re
from collections.abc import Mapping
from pathlib import Path

ENV_PREFIX = "REPO_TOOLS_TOKEN_"


class CredentialsError(Exception):
    """The netrc file exists but cannot be used (its message never quotes the file)."""


def env_var_for_host(host: str) -> str:
    """REPO_TOOLS_TOKEN_ + the host in upper case with every other character as `_`."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", host.upper())


def default_netrc_path(env: Mapping[str, str]) -> Path:
    if env.get("NETRC"):
        return Path(env["NETRC"])
    return Path.home() / ".netrc"


class Credentials:
    def __init__(self, env: Mapping[str, str] | None = None, netrc_path: Path | None = None):
        self._env = dict(os.environ if env is None else env)
        self._netrc_path = netrc_path if netrc_path is not None else default_netrc_path(
            self._env)
        self._netrc = self._load_netrc()

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
        except OSError as exc:
            raise CredentialsError(f"cannot read {self._netrc_path}: {exc.strerror}") from None

    def headers_for(self, host: str | None) -> dict[str, str]:
        """The Authorization header for host, or nothing."""
        if not host:
            return {}
        token = self._env.get(env_var_for_host(host))
        if token:
            return {"Authorization": f"Bearer {token}"}
        if self._netrc is not None:
            # Only a machine named in netrc gets its credentials: a `default` entry would
            # hand them to every host a redirect leads to.
            entry = self._netrc.hosts.get(host) if host != "default" else None
            if entry is not None:
                login, _account, password = entry
                raw = f"{login}:{password or ''}".encode()
                return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
        return {}

    def secrets(self) -> set[str]:
        """Every credential value this run could send, in the forms it could appear in."""
        found = {v for k, v in self._env.items() if k.startswith(ENV_PREFIX) and v}
        if self._netrc is not None:
            for login, _account, password in self._netrc.hosts.values():
                if password:
                    found.add(password)
                    found.add(base64.b64encode(f"{login}:{password}".encode()).decode())
        return {s for s in found if len(s) >= 4}

    def hint(self, host: str | None) -> str:
        return (f"set {env_var_for_host(host or '')} or add the host to "
                f"{self._netrc_path}")


def scrub(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
