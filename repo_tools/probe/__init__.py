"""`probe`: check every download URL live, and compute SHA-256 digests without storing files.

HTTP goes through the one network layer, `repo_tools.net`.
"""

from __future__ import annotations

from repo_tools.net import NetworkLimits
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
