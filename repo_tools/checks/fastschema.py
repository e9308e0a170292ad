"""A hand-written verdict for the v2 model schema: valid or not, without jsonschema.

Almost every file a hook sees is valid, and asking jsonschema costs both its import
(~60 ms of start-up) and ~3 ms per file. This function gives the same verdict as
`jsonschema` on `model_config.schema.json` (a differential property test holds it to
that); only files it rejects are handed to jsonschema for the detailed errors. The
patterns are read from the packaged schema, so the schema stays the one source of truth.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from repo_tools import schemas

Check = Callable[[Any], bool]


def _integer(value: Any) -> bool:
    # JSON Schema counts 1.0 as an integer; booleans are not numbers at all.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _string(schema: dict[str, Any]) -> Check:
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
    min_length = schema.get("minLength", 0)

    def check(value: Any) -> bool:
        return (isinstance(value, str) and len(value) >= min_length
                and (pattern is None or pattern.search(value) is not None))

    return check


def _bounded_integer(schema: dict[str, Any]) -> Check:
    low, high = schema.get("minimum"), schema.get("maximum")

    def check(value: Any) -> bool:
        return (_integer(value) and (low is None or value >= low)
                and (high is None or value <= high))

    return check


def _object(properties: dict[str, Check], required: tuple[str, ...]) -> Check:
    allowed = frozenset(properties)

    def check(value: Any) -> bool:
        if not isinstance(value, dict) or not allowed.issuperset(value):
            return False
        if any(key not in value for key in required):
            return False
        return all(properties[key](item) for key, item in value.items())

    return check


@functools.cache
def v2_checker() -> Check:
    schema = schemas.load_schema(schemas.MODEL_CONFIG)
    defs = schema["$defs"]
    semver = _string(defs["semver"])
    name = _string(defs["name"])
    model_props = defs["model"]["properties"]
    download_props = model_props["download"]["properties"]
    compat_props = defs["compatibility"]["properties"]
    platform = _string(compat_props["supported_platforms"]["items"])

    def platforms(value: Any) -> bool:
        return (isinstance(value, list) and len(set(map(str, value))) == len(value)
                and all(platform(item) for item in value))

    download = _object({
        "url": _string(download_props["url"]),
        "sha256": _string(download_props["sha256"]),
        "cachePath": _string(download_props["cachePath"]),
        "size": _bounded_integer(download_props["size"]),
    }, tuple(model_props["download"]["required"]))
    compatibility = _object({
        "min_client_version": semver,
        "max_client_version": lambda v: v is None or semver(v),
        "supported_platforms": platforms,
    }, ())
    model = _object({
        "model": name,
        "provider": name,
        "version": semver,
        "ranking": _bounded_integer(model_props["ranking"]),
        "download": download,
        "compatibility": compatibility,
        "metadata": lambda v: isinstance(v, dict),
    }, tuple(defs["model"]["required"]))
    top = _object({
        "schema_version": _string(schema["properties"]["schema_version"]),
        "models": lambda v: isinstance(v, list) and all(model(m) for m in v),
    }, tuple(schema["required"]))
    return top


def is_valid_v2(data: Any) -> bool:
    return v2_checker()(data)
