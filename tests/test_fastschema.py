"""The hand-written v2 verdict agrees with jsonschema on the packaged schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from repo_tools import schemas
from repo_tools.checks.fastschema import is_valid_v2
from tests.test_validate_properties import documents

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**40, max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10)
    | st.sampled_from(["1.0.0", "2.0", "a" * 64, "https://h/x", "linux", "", "\n"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["model", "url", "sha256", "x", "version", "ranking"]),
                      children, max_size=3),
    max_leaves=8,
)
KEYS = ["schema_version", "models", "model", "provider", "version", "ranking", "download",
        "compatibility", "metadata", "url", "sha256", "cachePath", "size",
        "min_client_version", "max_client_version", "supported_platforms", "extra"]


def nodes(value: Any) -> list[Any]:
    found = [value]
    children = value.values() if isinstance(value, dict) else value if isinstance(
        value, list) else []
    for child in children:
        found.extend(nodes(child))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(documents()))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        containers = [n for n in nodes(doc) if isinstance(n, dict | list) and n]
        if not containers:
            break
        target = draw(st.sampled_from(containers))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if isinstance(target, dict):
            key = draw(st.sampled_from(sorted(target)))
            if action == "delete":
                del target[key]
            elif action == "add":
                target[draw(st.sampled_from(KEYS))] = draw(ANY_JSON)
            else:
                target[key] = draw(ANY_JSON)
        else:
            index = draw(st.integers(min_value=0, max_value=len(target) - 1))
            if action == "delete":
                del target[index]
            else:
                target[index] = draw(ANY_JSON)
    return doc


@given(mutated())
def test_verdict_matches_jsonschema(doc: Any) -> None:
    assert is_valid_v2(doc) == schemas.validator(schemas.MODEL_CONFIG).is_valid(doc)


@given(ANY_JSON)
def test_verdict_matches_jsonschema_on_arbitrary_json(doc: Any) -> None:
    assert is_valid_v2(doc) == schemas.validator(schemas.MODEL_CONFIG).is_valid(doc)


def test_verdict_matches_on_the_malformed_corpus() -> None:
    corpus = Path(__file__).parent / "corpus" / "malformed"
    checked = 0
    for path in sorted(corpus.glob("*.json")):
        try:
            doc = json.loads(path.read_bytes())
        except (ValueError, RecursionError):
            continue
        checked += 1
        assert is_valid_v2(doc) == schemas.validator(schemas.MODEL_CONFIG).is_valid(doc), path
    assert checked >= 30


def test_patterns_reject_a_trailing_newline_in_every_regex_flavour() -> None:
    # Python's `$` also matches before a final newline; the shipped schema must not rely
    # on it, so other validators using the schema reject "1.0.0\n" too.
    from tests.support.helpers import config, model

    doc = config(model(version="1.0.0\n"))
    assert not schemas.validator(schemas.MODEL_CONFIG).is_valid(doc)
    assert not is_valid_v2(doc)
    index = {"versions": {"v1.0.0\n": {"min_client_version": "1.0.0"}}}
    assert not schemas.validator(schemas.INDEX).is_valid(index)
