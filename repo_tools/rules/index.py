"""Rules for index.json and the versions/ directories: which clients get which config.

The structural rules (I001-I004, I010) are about the files; the range rules (I005-I009,
I012) are computed exactly over client-version intervals by `repo_tools.compat`. JSON and
schema problems of index.json use the J and S codes, bad bounds V001 and min > max V002,
exactly as in model files.
"""

from __future__ import annotations

from repo_tools.findings import Rule, Severity

E, W = Severity.ERROR, Severity.WARNING

MISSING_INDEX = Rule(
    "I001", "missing-index", E, "The repository has no index.json.",
    "Add index.json with a `versions` object mapping each versions/<dir> to its client range.",
)
MISSING_VERSION_DIR = Rule(
    "I002", "missing-version-dir", E,
    "An index entry names a config version that has no versions/<dir> directory, or one "
    "whose models/ folder holds no model file.",
    "Add the directory with its models/, or remove the entry: clients it selects would "
    "find no configuration.",
)
BAD_VERSION_NAME = Rule(
    "I003", "bad-config-version-name", E,
    "A config version name (index key or versions/ directory) is not `v` + strict SemVer.",
    "Rename it to vMAJOR.MINOR.PATCH, e.g. v1.2.0; clients order config versions by it.",
)
UNINDEXED_VERSION_DIR = Rule(
    "I004", "unindexed-version-dir", E,
    "A versions/<dir> directory has no entry in index.json, so no client can ever get it.",
    "Add an entry with its min/max_client_version to index.json, or delete the directory.",
)
NON_MONOTONIC = Rule(
    "I005", "non-monotonic-selection", E,
    "A newer client is given an older config version than an older client gets.",
    "Cap the older config version's max_client_version below the newer one's range, or "
    "extend the newer config version's max_client_version.",
)
DEAD_VERSION = Rule(
    "I006", "dead-config-version", E,
    "No client can select this config version: higher config versions win over its whole "
    "range.",
    "Correct its client range, or remove the entry and its directory.",
)
GAP = Rule(
    "I007", "client-gap", W,
    "Between the lowest min_client_version and the highest max_client_version, some client "
    "versions are admitted by no entry and get no configuration.",
    "Widen a neighbouring entry's range to cover the gap, if those clients exist.",
)
UNREACHABLE_MODEL = Rule(
    "I008", "unreachable-model", W,
    "A model's own client range does not meet the clients its config version is selected "
    "for, so no client ever gets it.",
    "Fix the model's compatibility range, or move the model to the config version those "
    "clients select.",
)
OPEN_ENDED = Rule(
    "I009", "open-ended-range", W,
    "A config version other than the one newest clients get has `max_client_version` null.",
    "Set max_client_version to the last client version meant to use it; only the config "
    "version for the newest clients should be open-ended.",
)
AMBIGUOUS_VERSION = Rule(
    "I010", "ambiguous-config-version", E,
    "Two config versions differ only in build metadata, which SemVer precedence ignores, so "
    "neither is higher.",
    "Rename one of them so that MAJOR.MINOR.PATCH or the pre-release differs.",
)

EMPTY_INDEX = Rule(
    "I011", "empty-index", E,
    "`index.json` lists no config version, so no client gets any configuration.",
    "Add an entry under `versions` for each versions/vX.Y.Z directory.",
)

MAJOR_OVERLAP = Rule(
    "I012", "major-overlap", W,
    "Some client versions are admitted by config versions of two different MAJOR versions: "
    "they get the higher MAJOR, a breaking change for a client built for the lower one.",
    "Make the ranges disjoint: end the lower MAJOR's max_client_version below the higher "
    "MAJOR's min_client_version (max 1.4.0 with min 1.4.1-0 leaves no client out).",
)

RULES: tuple[Rule, ...] = (
    MISSING_INDEX, MISSING_VERSION_DIR, BAD_VERSION_NAME, UNINDEXED_VERSION_DIR, NON_MONOTONIC,
    DEAD_VERSION, GAP, UNREACHABLE_MODEL, OPEN_ENDED, AMBIGUOUS_VERSION, EMPTY_INDEX,
    MAJOR_OVERLAP,
)
