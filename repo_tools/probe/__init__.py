"""`probe`: check every download URL live, and compute SHA-256 digests without storing files.

This package imports requests; nothing on the `validate` path imports it.
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
