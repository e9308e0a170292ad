"""`probe`: check every download URL live, and compute SHA-256 digests without storing files.

HTTP is the standard library's http.client: requests and urllib3 cost ~180 ms to import.
"""

from __future__ import annotations

from repo_tools.probe.http import NetworkLimits
from repo_tools.probe.run import (
    DEFAULT_JOBS,
    ProbeOptions,
    ProbeResult,
    ProbeStats,
    Progress,
    probe_paths,
)

__all__ = ["DEFAULT_JOBS", "NetworkLimits", "ProbeOptions", "ProbeResult", "ProbeStats",
           "Progress", "probe_paths"]
