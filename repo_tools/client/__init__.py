"""The client library: what an application does with a config repository.

    from repo_tools.client import BundleSource, ClientConfig, ConfigClient

    client = ConfigClient("1.4.0", "linux", source=BundleSource(URL),
                          allowed_signers=Path("allowed_signers"),
                          defaults_dir=Path("configs/defaults/models"), app_name="my-app")
    result = client.load()            # never raises for a bad remote; see result.reasons
    entry = result.models[0]          # a ModelEntry: entry.model, entry.download.url, ...
    with client.ensure(entry, progress=bar, cancel=stop) as model_file:
        use(model_file.path)          # verified, and pinned against eviction meanwhile

The public surface is what this module exports; the submodules are internal, except
`repo_tools.client.events` (the event types) and `repo_tools.client.bars` (progress-bar
adapters). Every exception is a `ClientError`, a `repo_tools.findings.RuleError` with a
rule code (C001...). Log lines go to the `repo_tools.client` logger and start with a code.
"""

from __future__ import annotations

from repo_tools.client.cache import ModelCache, ModelFile
from repo_tools.client.download import download
from repo_tools.client.errors import Cancelled, ClientError, DownloadError, NotDownloadable
from repo_tools.client.events import Event, EventHandler
from repo_tools.client.loader import (
    SOURCE_DEFAULTS,
    SOURCE_LAST_KNOWN_GOOD,
    SOURCE_REMOTE,
    ConfigClient,
)
from repo_tools.client.options import ClientConfig, VerifyOnUse, default_cache_dir
from repo_tools.client.progress import CancelFlag, ProgressCallback
from repo_tools.client.result import LoadResult, Source
from repo_tools.client.sources import BundleSource, GitSource, Origin, RemoteCheck, RemoteSource
from repo_tools.model import Download, ModelEntry
from repo_tools.net.credentials import Credentials
from repo_tools.net.limits import NetworkLimits

__all__ = ["SOURCE_DEFAULTS", "SOURCE_LAST_KNOWN_GOOD", "SOURCE_REMOTE", "BundleSource",
           "CancelFlag", "Cancelled", "ClientConfig", "ClientError", "ConfigClient",
           "Credentials", "Download", "DownloadError", "Event", "EventHandler", "GitSource",
           "LoadResult", "ModelCache", "ModelEntry", "ModelFile", "NetworkLimits",
           "NotDownloadable", "Origin", "ProgressCallback", "RemoteCheck", "RemoteSource", "Source",
           "VerifyOnUse", "default_cache_dir", "download"]
