"""One URL probed for its digest and size, for `add`: the same check as a probe run's
(a host-stated X-Linked-Etag, else the hash cache, else the body streamed through the
hasher), without model files around it."""

from __future__ import annotations

import dataclasses

from repo_tools.net import Credentials, Deadline
from repo_tools.net.transport import Transport
from repo_tools.probe.cache import HashCache
from repo_tools.probe.run import USER_AGENT, ProbeOptions, UrlOutcome, _Run, check_url


@dataclasses.dataclass(frozen=True, slots=True)
class Probed:
    outcome: UrlOutcome
    requests: int

    @property
    def size(self) -> int | None:
        """The file's size as the host states it, or as many bytes as were hashed."""
        outcome = self.outcome
        return outcome.linked_size or outcome.content_length or outcome.received


def probe_url(url: str, options: ProbeOptions, credentials: Credentials) -> Probed:
    """Check one URL with `options.hash_mode` (auto: no download when the host states the
    digest). Never raises for what the URL answers: that is in `outcome.failure`."""
    transport = Transport(options.limits, credentials, user_agent=USER_AGENT, pool_size=1)
    run = _Run(transport, Deadline(options.deadline, name="--deadline"),
               HashCache(options.cache_dir), options, None)
    with transport:
        outcome = check_url(url, run)
    return Probed(outcome, transport.requests_sent)
