"""The client library: what an application does with a config repository.

    from repo_tools.client import BundleSource, ClientConfig, ConfigClient

    client = ConfigClient("1.4.0", "linux", source=BundleSource(URL),
                          allowed_signers=Path("allowed_signers"),
                          defaults_dir=Path("configs/defaults/models"), cache_dir=CACHE)
    result = client.load()            # never raises for a bad remote; see result.reasons
    with client.ensure(result.models[0]) as model_file:
        use(model_file.path)          # verified, and pinned against eviction meanwhile

Log lines go to the `repo_tools.client` logger and start with a rule code (C001...).
"""

from __future__ import annotations

from repo_tools.client.cache import ModelCache, ModelFile
from repo_tools.client.errors import DownloadError
from repo_tools.client.loader import (
    SOURCE_DEFAULTS,
    SOURCE_LAST_KNOWN_GOOD,
    SOURCE_REMOTE,
    ConfigClient,
    LoadResult,
)
from repo_tools.client.options import ClientConfig
from repo_tools.client.sources import BundleSource, GitSource, Origin, RemoteSource

__all__ = ["SOURCE_DEFAULTS", "SOURCE_LAST_KNOWN_GOOD", "SOURCE_REMOTE", "BundleSource",
           "ClientConfig", "ConfigClient", "DownloadError", "GitSource", "LoadResult",
           "ModelCache", "ModelFile", "Origin", "RemoteSource"]
