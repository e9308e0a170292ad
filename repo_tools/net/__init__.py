"""The network layer: one transport for probe, model downloads and release fetches.

`transport` (requests, retries, redirects, proxies, errors; imports urllib3, so import it
where a request is made, never on the hook path), `deadline` (overall time limits that
hold against trickling servers), `credentials` (tokens and netrc, by exact origin),
`limits` (the bounds, as data).
"""

from __future__ import annotations

from repo_tools.net.credentials import Credentials, CredentialsError, scrub
from repo_tools.net.deadline import Deadline
from repo_tools.net.limits import NetworkLimits

__all__ = ["Credentials", "CredentialsError", "Deadline", "NetworkLimits", "scrub"]
