"""Strict SemVer 2.0.0 parsing and precedence, shared by every check and by selection."""

from __future__ import annotations

import functools
import re

# The regex from semver.org, with [0-9] instead of \d (which also matches other scripts'
# digits) and fullmatch instead of $ (which would accept a trailing newline).
SEMVER_RE = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)

# A precedence key: (major, minor, patch, release_flag, prerelease identifiers).
# A release (flag 1) sorts above any of its pre-releases (flag 0); numeric identifiers
# sort below alphanumeric ones, as SemVer 2.0.0 section 11 says. Build metadata is ignored.
VersionKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


def is_semver(value: object) -> bool:
    return isinstance(value, str) and SEMVER_RE.fullmatch(value) is not None


def explain_semver(value: str) -> str:
    """Why a string is not strict SemVer, in words a maintainer can act on."""
    if value[:1] in ("v", "V") and is_semver(value[1:]):
        return f"{value!r} has a 'v' prefix; write {value[1:]!r}"
    core = re.split(r"[-+]", value, maxsplit=1)[0]
    parts = core.split(".")
    if len(parts) != 3:
        return f"{value!r} has {len(parts)} numeric parts; SemVer needs MAJOR.MINOR.PATCH"
    if any(len(p) > 1 and p.startswith("0") and p.isdigit() for p in parts):
        return f"{value!r} has a leading zero"
    if value != value.strip():
        return f"{value!r} has surrounding whitespace"
    return f"{value!r} is not strict SemVer 2.0.0"


@functools.lru_cache(maxsize=65536)
def version_key(value: str) -> VersionKey:
    """Precedence key of a strict SemVer string; raises ValueError for anything else."""
    match = SEMVER_RE.fullmatch(value)
    if match is None:
        raise ValueError(explain_semver(value))
    major, minor, patch, pre, _build = match.groups()
    if pre is None:
        return (int(major), int(minor), int(patch), 1, ())
    idents = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
    )
    return (int(major), int(minor), int(patch), 0, idents)


def compare(a: str, b: str) -> int:
    ka, kb = version_key(a), version_key(b)
    return (ka > kb) - (ka < kb)
