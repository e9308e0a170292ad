"""The bounds of network work, as plain data (importing this costs nothing)."""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True, slots=True)
class NetworkLimits:
    """Every bound on the network side, in seconds unless named otherwise.

    connect_timeout: wait for a connection (TCP, proxy tunnel, TLS handshake).
    read_timeout: wait for the next bytes of an answer (each wait, not the whole answer;
        the overall bound is a `Deadline`).
    retries: attempts after the first on a connection error, 429 or 5xx (never on another
        4xx), waiting min(backoff_cap, backoff_base * 2**attempt) seconds, half of it
        random; a server's Retry-After is honoured up to retry_after_cap.
    max_redirects: hops followed before giving up.
    ca_bundle: PEM file (or directory) of CAs to trust for https (None: REQUESTS_CA_BUNDLE,
        CURL_CA_BUNDLE, else the certifi bundle).
    """

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 30.0
    max_redirects: int = 10
    ca_bundle: Path | None = None
