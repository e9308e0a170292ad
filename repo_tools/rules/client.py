"""Rules for the client library (`repo_tools.client`) and `repo-tools cache`.

C001-C009 are the reasons a client logs when it does not apply a remote configuration as
is (each log line and `LoadResult.reasons` entry starts with the code); C010 and up are
about model files and the cache.
"""

from __future__ import annotations

from repo_tools.findings import Rule, Severity

E = Severity.ERROR
W = Severity.WARNING

REMOTE_UNREACHABLE = Rule(
    "C001", "remote-unreachable", E,
    "The remote configuration could not be fetched (network error, HTTP error, git failure); "
    "the client uses its last known good config.",
    "Check the source URL and the network; the client retries on its next load.",
)
REMOTE_REJECTED = Rule(
    "C002", "remote-rejected", E,
    "The remote release failed verification (bad or missing signature, tampering, rollback "
    "to an older release, expired); the message carries the verifier's R code.",
    "Publish releases with `repo-tools release`; check `repo-tools verify` on the URL.",
)
INVALID_REMOTE = Rule(
    "C003", "invalid-remote", E,
    "The verified remote has no usable index.json (missing, not JSON, not an index).",
    "Run `repo-tools check-index` before releasing.",
)
NO_COMPATIBLE_CONFIG = Rule(
    "C004", "no-compatible-config", E,
    "No config version in the remote index admits this client version (a compatibility "
    "violation); the client keeps its last known good config.",
    "Add or widen an index.json range for this client (`repo-tools resolve --table`).",
)
SUSPECT_REMOTE = Rule(
    "C005", "suspect-remote", E,
    "The remote would drop more of this client's models than the allowed fraction "
    "(`ClientConfig.max_drop_fraction`), so it is not applied.",
    "If the removal is intended, ship clients with a higher threshold; otherwise restore "
    "the models.",
)
INVALID_MODEL = Rule(
    "C006", "invalid-model", W,
    "A model entry (remote or default) failed validation or conflicts with a better-ranked "
    "one; it is skipped and the rest still load.",
    "Run `repo-tools validate` on the file named in the message.",
)
NO_LAST_KNOWN_GOOD = Rule(
    "C007", "no-last-known-good", W,
    "A fallback was needed but there is no usable last known good config; only the "
    "defaults are used.",
    "Nothing to do on the client; the next successful load stores one.",
)
DOWNLOAD_FAILED = Rule(
    "C010", "download-failed", E,
    "A model file could not be downloaded after the configured retries.",
    "Check the model's download.url (`repo-tools probe`).",
)
CHECKSUM_MISMATCH = Rule(
    "C011", "checksum-mismatch", E,
    "A downloaded or cached model file does not have the SHA-256 of its config; it was "
    "removed and never used.",
    "If the download repeats the mismatch, the config's sha256 is wrong (`repo-tools probe "
    "--write`).",
)
CACHE_ENTRY_MISSING = Rule(
    "C012", "cache-entry-missing", W,
    "A file recorded in the cache index is gone from disk; the entry was dropped.",
    "Nothing to do: the file is downloaded again when next needed.",
)
CACHE_LEFTOVER = Rule(
    "C013", "cache-leftover", W,
    "A partial download that no live process is writing; prune removes it.",
    "Run `repo-tools cache prune`.",
)

DOWNLOAD_CANCELLED = Rule(
    "C014", "download-cancelled", W,
    "The application cancelled a model download (`ensure(..., cancel=...)`); the partial "
    "file is kept and the next `ensure` of the model resumes it.",
    "Nothing to do; `repo-tools cache prune` removes partial downloads no longer wanted.",
)
NOT_DOWNLOADABLE = Rule(
    "C015", "not-downloadable", E,
    "A model entry given to `ensure` has no usable download section (no url, no sha256 of "
    "64 hex digits) or a cachePath the cache refuses (absolute, '..', reserved names).",
    "Run `repo-tools validate` on the config that holds the entry.",
)
OFFLINE = Rule(
    "C016", "offline", W,
    "The client is offline (`ClientConfig.offline`): the remote was not fetched, and a model "
    "file that is not in the cache cannot be downloaded.",
    "Nothing to do; the application chose to stay offline.",
)

RULES: tuple[Rule, ...] = (REMOTE_UNREACHABLE, REMOTE_REJECTED, INVALID_REMOTE,
                           NO_COMPATIBLE_CONFIG, SUSPECT_REMOTE, INVALID_MODEL,
                           NO_LAST_KNOWN_GOOD, DOWNLOAD_FAILED, CHECKSUM_MISMATCH,
                           CACHE_ENTRY_MISSING, CACHE_LEFTOVER, DOWNLOAD_CANCELLED,
                           NOT_DOWNLOADABLE, OFFLINE)
