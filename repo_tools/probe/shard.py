"""Which shard probes a URL: a stable partition of the distinct URLs of a run.

Pure functions only. A URL's shard is a hash of its normalised form, so every entry that
uses a URL (however its case or default port is spelled) lands in the same shard, the
shard does not depend on which other URLs the run has or in what order they come, and
every machine of a matrix computes the same partition without talking to the others.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

_SHARD = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_SHARDS = 256  # a GitHub Actions matrix runs at most 256 jobs


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Shard:
    """Shard `index` of `count`, numbered from 1 as on the command line."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ValueError(f"the number of shards must be from 1 to {MAX_SHARDS}, "
                             f"not {self.count}")
        if not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index} does not exist: K/N needs K from 1 to N")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, url: str) -> bool:
        return shard_of(url, self.count) == self.index


def parse_shard(text: str) -> Shard:
    """`K/N` -> Shard(K, N); ValueError with a message fit for the user otherwise."""
    match = _SHARD.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not K/N (e.g. 2/4)")
    return Shard(int(match.group(1)), int(match.group(2)))


def normalise_url(url: str) -> str:
    """The URL as the partition sees it: one spelling for the same resource.

    Scheme and host are case-insensitive, a default port is no port, the fragment never
    reaches the server, user info is a credential rather than part of the resource, and
    `%2f` is `%2F`. The path and query stay as they are: servers may tell them apart.
    An unparseable URL is its own key (it is reported, not probed, wherever it lands).
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host += f":{port}"
    path = _ESCAPE.sub(lambda m: m.group().upper(), parts.path) or "/"
    query = _ESCAPE.sub(lambda m: m.group().upper(), parts.query)
    return urlunsplit((scheme, host, path, query, ""))


def shard_of(url: str, count: int) -> int:
    """The shard (1..count) that probes url."""
    # sha256 rather than hash(): the same answer in every process and on every runner.
    digest = hashlib.sha256(normalise_url(url).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def partition(urls: Iterable[str], count: int) -> dict[int, list[str]]:
    """The distinct URLs of each shard 1..count, each list in first-seen order."""
    shards: dict[int, list[str]] = {index: [] for index in range(1, count + 1)}
    for url in dict.fromkeys(urls):
        shards[shard_of(url, count)].append(url)
    return shards
