"""The selection rule and client-version intervals, against a brute-force oracle.

The oracle compares versions with the `semver` package (not our `version_key`) and
decides selection by the literal rule over an explicit list of client versions.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections.abc import Sequence
from typing import Any

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from repo_tools import compat
from repo_tools.compat import IndexEntry, Interval
from repo_tools.model import entries_from

# -- the oracle -----------------------------------------------------------------------------


def cmp(a: str, b: str) -> int:
    return semver.Version.parse(a).compare(semver.Version.parse(b))


by_precedence = functools.cmp_to_key(cmp)

RELEASES = [f"{major}.{minor}.{patch}" for major in range(3) for minor in range(2)
            for patch in range(3)]
PRE_RELEASES = [None, "1", "alpha", "alpha.1", "rc.1"]
BOUNDS = [r if pre is None else f"{r}-{pre}" for r in RELEASES for pre in PRE_RELEASES]


def next_version(version: str) -> str:
    """The least version above `version`, written out from SemVer section 11 (not taken
    from compat): a release's is the next patch's `-0`, a pre-release's has `.0` appended."""
    if "-" in version:
        return version + ".0"
    major, minor, patch = version.split(".")
    return f"{major}.{minor}.{int(patch) + 1}-0"


# Every admitted range starts at a bound (inclusive) and ends right before next_version of
# a bound, so every stretch of client versions on which selection is constant starts at
# one of these: enumerating them sees every possible answer, exactly.
NEWEST_CLIENT = "99.0.0"
CLIENTS = sorted({*BOUNDS, *map(next_version, BOUNDS), "0.0.0-0", "0.0.0", NEWEST_CLIENT},
                 key=by_precedence)

CONFIG_NAMES = ["v0.9.0", "v1.0.0", "v1.0.0-rc.1", "v1.1.0", "v1.2.0", "v2.0.0",
                "v2.0.0-beta", "v10.0.0"]  # v10 vs v2: numeric, not text, order


def oracle_admits(entry: IndexEntry, client: str) -> bool:
    return cmp(entry.min_client_version, client) <= 0 and (
        entry.max_client_version is None or cmp(client, entry.max_client_version) <= 0)


def oracle_select(entries: Sequence[IndexEntry], client: str) -> str | None:
    names = [e.config_version for e in entries if oracle_admits(e, client)]
    return max(names, key=lambda n: by_precedence(n[1:])) if names else None


def entry_strategy(name: str) -> st.SearchStrategy[IndexEntry]:
    return st.builds(IndexEntry, st.just(name), st.sampled_from(BOUNDS),
                     st.one_of(st.none(), st.sampled_from(BOUNDS)))


@st.composite
def indexes(draw: st.DrawFn) -> list[IndexEntry]:
    names = draw(st.lists(st.sampled_from(CONFIG_NAMES), min_size=0, max_size=6, unique=True))
    return [draw(entry_strategy(name)) for name in names]


identifiers = st.sampled_from(["0", "1", "2", "10", "a", "b", "alpha", "rc", "0a", "-"])
versions = st.builds(
    lambda core, pre: core + (f"-{'.'.join(pre)}" if pre else ""),
    st.sampled_from([*RELEASES, "0.0.0", "10.2.3"]),
    st.lists(identifiers, max_size=3),
)

# -- successor, predecessor, intervals -------------------------------------------------------


@given(versions, versions)
def test_successor_is_the_next_version(a: str, b: str) -> None:
    after = compat.successor(a)
    assert cmp(a, after) < 0
    assert not (cmp(a, b) < 0 < cmp(after, b)), f"{b} lies between {a} and {after}"
    assert compat.predecessor(after) == a


@given(versions, versions)
def test_predecessor_is_the_previous_version(a: str, b: str) -> None:
    before = compat.predecessor(a)
    if before is None:
        # No predecessor: `a` is nobody's next version.
        if cmp(b, a) < 0:
            assert cmp(next_version(b), a) < 0
        return
    assert compat.successor(before) == a
    assert not (cmp(before, b) < 0 < cmp(a, b))


def test_successor_examples() -> None:
    assert compat.successor("1.2.0") == "1.2.1-0"
    assert compat.successor("1.2.0-rc.1") == "1.2.0-rc.1.0"
    assert compat.successor("1.2.0+build.5") == "1.2.1-0"
    assert compat.predecessor("1.0.0") is None
    assert compat.predecessor("2.0.0-0") is None
    assert compat.predecessor("1.0.1-0") == "1.0.0"


def interval_in(text: str, client: str) -> bool:
    """Evaluate an Interval.describe() text with the oracle's comparison."""
    if text == "every client version":
        return True
    ops = {"<": lambda x: x < 0, "<=": lambda x: x <= 0, ">": lambda x: x > 0,
           ">=": lambda x: x >= 0}
    both = re.fullmatch(r"(\S+) (<=?) c (<=?) (\S+)", text)
    if both:
        low, op1, op2, high = both.groups()
        return ops[op1](cmp(low, client)) and ops[op2](cmp(client, high))
    one = re.fullmatch(r"c (<=?|>=?) (\S+)", text)
    assert one, text
    return ops[one.group(1)](cmp(client, one.group(2)))


@given(st.sampled_from([*BOUNDS, None]), st.sampled_from([*BOUNDS, None]))
def test_closed_interval_is_exact_and_describe_says_the_same(low: str | None,
                                                            high: str | None) -> None:
    interval = Interval.closed(low, high)
    members = [c for c in CLIENTS
               if (low is None or cmp(low, c) <= 0) and (high is None or cmp(c, high) <= 0)]
    if interval is None:
        assert members == []
        return
    assert [c for c in CLIENTS if interval.contains(c)] == members
    assert [c for c in CLIENTS if interval_in(interval.describe(), c)] == members
    assert interval.contains(interval.witness())


@given(st.lists(st.tuples(st.sampled_from(BOUNDS), st.sampled_from([*BOUNDS, None])),
                max_size=5))
def test_union_is_exact(pairs: list[tuple[str, str | None]]) -> None:
    intervals = [i for i in (Interval.closed(lo, hi) for lo, hi in pairs) if i is not None]
    merged = compat.union(intervals)
    for client in CLIENTS:
        assert any(i.contains(client) for i in merged) == any(
            i.contains(client) for i in intervals)
    for left, right in itertools.pairwise(merged):
        assert left.high is not None and cmp(left.high, right.low) < 0  # disjoint, not touching


def test_interval_descriptions() -> None:
    assert Interval.closed("1.0.0", "1.2.0").describe() == "1.0.0 <= c <= 1.2.0"  # type: ignore[union-attr]
    assert Interval("1.1.0", None).describe() == "c >= 1.1.0"
    assert Interval("1.2.1-0", "1.4.0").describe() == "1.2.0 < c < 1.4.0"
    assert Interval(compat.MIN_VERSION, "1.0.0").describe() == "c < 1.0.0"
    assert Interval(compat.MIN_VERSION, None).describe() == "every client version"


# -- the selection rule ----------------------------------------------------------------------

DESIGN_DOC_INDEX: dict[str, Any] = {
    "versions": {
        "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.2.0"},
        "v1.1.0": {"min_client_version": "1.1.0", "max_client_version": None},
    }
}


@pytest.mark.parametrize(("client", "expected"), [
    ("1.0.5", "v1.0.0"), ("1.1.0", "v1.1.0"), ("9.0.0", "v1.1.0"), ("0.9.9", None),
    ("1.0.0", "v1.0.0"), ("1.1.0-rc.1", "v1.0.0"), ("1.0.0-rc.1", None), ("1.1.0+build", "v1.1.0"),
])
def test_design_doc_example(client: str, expected: str | None) -> None:
    assert compat.select_config_version(DESIGN_DOC_INDEX, client) == expected
    assert compat.select_config_version(DESIGN_DOC_INDEX["versions"], client) == expected


def test_prerelease_bounds_follow_semver_precedence() -> None:
    entries = [IndexEntry("v1.0.0", "2.0.0", None), IndexEntry("v0.9.0", "1.0.0", "2.0.0")]
    assert compat.select_config_version(entries, "2.0.0-rc.1") == "v0.9.0"  # rc.1 < 2.0.0
    assert compat.select_config_version(entries, "2.0.0") == "v1.0.0"


def test_config_versions_compare_numerically() -> None:
    entries = [IndexEntry("v2.0.0", "1.0.0"), IndexEntry("v10.0.0", "1.0.0"),
               IndexEntry("v10.0.0-rc.1", "1.0.0")]
    assert compat.select_config_version(entries, "1.0.0") == "v10.0.0"


def test_invalid_entries_are_never_selected() -> None:
    versions = {"1.0.0": {"min_client_version": "1.0.0"},
                "v1.1.0": {"min_client_version": "1.0"},
                "v1.2.0": "not an object",
                "v0.1.0": {"min_client_version": "1.0.0"}}
    assert compat.select_config_version(versions, "1.5.0") == "v0.1.0"


def test_client_version_must_be_semver() -> None:
    with pytest.raises(ValueError, match="numeric parts"):
        compat.select_config_version(DESIGN_DOC_INDEX, "1.0")


@given(indexes())
def test_selection_matches_the_oracle(entries: list[IndexEntry]) -> None:
    table = compat.selection_table(entries)
    for client in CLIENTS:
        expected = oracle_select(entries, client)
        assert compat.select_config_version(entries, client) == expected, client
        assert compat.lookup(table, client) == expected, client


@given(indexes())
def test_selection_table_covers_every_client_once(entries: list[IndexEntry]) -> None:
    table = compat.selection_table(entries)
    assert table[0].clients.low == compat.MIN_VERSION
    assert table[-1].clients.high is None
    for left, right in itertools.pairwise(table):
        assert left.clients.high == right.clients.low
        assert left.config_version != right.config_version
    for segment in table:
        assert segment.clients.contains(segment.clients.witness())
        assert oracle_select(entries, segment.clients.witness()) == segment.config_version


# -- models ----------------------------------------------------------------------------------

PLATFORMS = ["linux", "macos", "windows"]


@st.composite
def model_entries(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "provider": draw(st.sampled_from(["a", "b", "B"])),
        "model": draw(st.sampled_from(["m1", "m2"])),
        "version": draw(st.sampled_from(["1.0.0", "1.0.0-rc.1", "2.0.0", "10.0.0"])),
        "id": draw(st.integers(0, 10**6)),
    }
    if draw(st.booleans()):
        entry["ranking"] = draw(st.integers(-2, 2))
    if draw(st.booleans()):
        compat_info: dict[str, Any] = {}
        if draw(st.booleans()):
            compat_info["min_client_version"] = draw(st.sampled_from(BOUNDS))
        if draw(st.booleans()):
            compat_info["max_client_version"] = draw(st.sampled_from([*BOUNDS, None]))
        if draw(st.booleans()):
            compat_info["supported_platforms"] = draw(st.lists(st.sampled_from(PLATFORMS),
                                                                unique=True))
        entry["compatibility"] = compat_info
    return entry


def oracle_models(models: list[dict[str, Any]], client: str,
                  platform: str | None) -> list[dict[str, Any]]:
    def admitted(m: dict[str, Any]) -> bool:
        info = m.get("compatibility", {})
        low, high = info.get("min_client_version"), info.get("max_client_version")
        platforms = info.get("supported_platforms")
        return ((low is None or cmp(low, client) <= 0)
                and (high is None or cmp(client, high) <= 0)
                and (platform is None or platforms is None or platform in platforms))

    def order(x: dict[str, Any], y: dict[str, Any]) -> int:
        for a, b in ((y.get("ranking", 0), x.get("ranking", 0)), (x["provider"], y["provider"]),
                     (x["model"], y["model"])):
            if a != b:
                return -1 if a < b else 1
        return cmp(y["version"], x["version"])

    return sorted((m for m in models if admitted(m)), key=functools.cmp_to_key(order))


@given(st.lists(model_entries(), max_size=8), st.sampled_from(CLIENTS),
       st.sampled_from([None, *PLATFORMS]))
def test_select_models_matches_the_oracle(models: list[dict[str, Any]], client: str,
                                          platform: str | None) -> None:
    chosen = compat.select_models(entries_from(models), client, platform)
    assert [m.raw for m in chosen] == oracle_models(models, client, platform)


def test_select_models_drops_malformed_entries_and_copies() -> None:
    good = {"provider": "p", "model": "m", "version": "1.0.0", "ranking": 1}
    models: list[Any] = ["not a model", {"provider": "p", "model": "x", "version": "1.0.0",
                                         "compatibility": {"min_client_version": "1.0"}}, good]
    chosen = compat.select_models(entries_from(models), "1.0.0")
    assert [m.raw for m in chosen] == [good]
    with pytest.raises(dataclasses.FrozenInstanceError):
        chosen[0].ranking = 99  # type: ignore[misc]  # entries are values, shared safely


def test_resolve_combines_both_steps() -> None:
    models = {"v1.1.0": [{"provider": "p", "model": "low", "version": "1.0.0", "ranking": 1},
                         {"provider": "p", "model": "high", "version": "1.0.0", "ranking": 5,
                          "compatibility": {"supported_platforms": ["linux"]}}]}
    result = compat.resolve(DESIGN_DOC_INDEX, lambda v: entries_from(models.get(v, [])),
                            "2.0.0+x", "linux")
    assert result.config_version == "v1.1.0"
    assert result.client_version == "2.0.0"
    assert [m.model for m in result.models] == ["high", "low"]
    assert compat.resolve(DESIGN_DOC_INDEX, lambda v: [], "0.1.0").config_version is None
