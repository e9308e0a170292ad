"""The typed model (repo_tools.model): lenient on what files hold, exact on where."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from repo_tools import compat
from repo_tools.model import Download, entries_of, entry_of, summaries_of

_scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(
    ["", "a", "1.0.0", "2.0.0-rc.1", "A" * 64, "x/y.gguf"])
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["url", "sha256", "cachePath", "size", "min_client_version",
                     "max_client_version", "supported_platforms"]), inner, max_size=4),
    max_leaves=8)
_entries = st.dictionaries(st.sampled_from(["model", "provider", "version", "ranking",
                                            "download", "compatibility", "metadata"]),
                           _values, max_size=7)
_documents = st.fixed_dictionaries({"models": st.lists(_entries | _scalars, max_size=4)}) | \
    _values


@given(_documents)
def test_summaries_are_the_entries_summarised(data: Any) -> None:
    # The fast path the hook and check-index use agrees with the full entries.
    assert summaries_of(data, "f.json") == [e.summary() for e in entries_of(data, "f.json")]


@given(_documents)
def test_every_object_entry_is_kept_in_place_and_nothing_raises(data: Any) -> None:
    entries = entries_of(data, "f.json")
    models = data.get("models") if isinstance(data, dict) else None
    expected = [i for i, m in enumerate(models) if isinstance(m, dict)] if isinstance(
        models, list) else []
    assert [e.pointer for e in entries] == [f"/models/{i}" for i in expected]
    for entry in entries:
        assert isinstance(entry.provider, str) and isinstance(entry.ranking, int)
        with contextlib.suppress(ValueError):  # bounds that are not SemVer: validate's
            compat.model_client_range(entry)


def test_values_of_the_wrong_type_read_as_absent() -> None:
    entry = entry_of({"model": "m", "provider": "p", "version": "1.0.0", "ranking": True,
                      "download": {"url": 5, "sha256": "ABC", "size": -1},
                      "compatibility": {"supported_platforms": "linux"}})
    assert entry.ranking == 0 and entry.download == Download(sha256="ABC")
    assert entry.sha256 == "abc" and entry.platforms == ()  # a non-list admits no platform
    assert not compat.model_supports_platform(entry, "linux")
    assert compat.model_supports_platform(entry_of({}), "linux")
    assert entry_of({"compatibility": 3}).has_compatibility_object is False
