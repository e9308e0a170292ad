"""The packaged JSON Schemas, and validators built once per process."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

MODEL_CONFIG = "model_config.schema.json"
MODEL_CONFIG_V1 = "model_config_v1.schema.json"
INDEX = "index.schema.json"
REMOTE_SOURCE = "remote_source.schema.json"
PROBE_REPORT = "probe_report.schema.json"  # `probe --report`, read by probe-merge


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    # Read beside this module, not through importlib.resources: that import (tempfile,
    # zipfile, ...) would cost every validate hook run several ms. The package is always
    # installed as files (the template is used from disk the same way).
    text = (Path(__file__).parent / "schemas" / name).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def validator(name: str) -> Any:
    """A jsonschema validator for one packaged schema (imported lazily: it costs start-up)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name))
