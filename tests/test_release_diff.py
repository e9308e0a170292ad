"""The release diff's text: what a maintainer reads before a release goes out."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from repo_tools.release.diff import diff_releases
from tests.support.helpers import config, model

MODEL_FILE = "versions/v1.0.0/models/huggingface.json"
INDEX = json.dumps({"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}}).encode()


def release_of(entry: dict[str, Any]) -> dict[str, bytes]:
    return {"index.json": INDEX, MODEL_FILE: json.dumps(config(entry)).encode()}


def diff_text(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return diff_releases(release_of(old), release_of(new)).lines()


def without(entry: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != key}


def test_a_field_one_side_lacks_is_shown_as_absent() -> None:
    plain = without(model(compatibility={"min_client_version": "1.0.0"}), "ranking")
    ranked = model(ranking=1, compatibility={"min_client_version": "1.0.0",
                                             "supported_platforms": ["linux", "macos"]})
    [change] = [line for line in diff_text(plain, ranked) if line.startswith("changed")]
    assert change.endswith('(platforms (absent) -> ["linux", "macos"]; ranking (absent) -> 1)')
    [back] = [line for line in diff_text(ranked, plain) if line.startswith("changed")]
    assert back.endswith('(platforms ["linux", "macos"] -> (absent); ranking 1 -> (absent))')


FIELDS = st.dictionaries(
    st.sampled_from(["version", "ranking", "compatibility"]),
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["1.0.0", "2.0.0"]),
              st.just({"supported_platforms": ["linux"]}), st.just({"supported_platforms": []})),
)


@given(FIELDS, FIELDS, st.sets(st.sampled_from(["version", "ranking", "compatibility"])))
def test_the_text_never_shows_python_values(old: dict[str, Any], new: dict[str, Any],
                                            dropped: set[str]) -> None:
    before = {k: v for k, v in model(**old).items() if k not in dropped}
    for line in diff_text(before, model(**new)):
        for python in ("None", "True", "False", "['", "{'"):
            assert python not in line, line
