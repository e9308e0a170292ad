"""Reading the JSON state files repo-tools writes for itself (the client's last known good
config and model cache index, a verifier's rollback state).

They live on the user's disk, so anything may be in them: bad UTF-8, truncated JSON, or
values nested thousands deep, which make `json.loads` raise RecursionError rather than
ValueError. Every reader goes through `parse_state_json`, so each has one error to handle.
"""

from __future__ import annotations

import json
from typing import Any


def parse_state_json(data: bytes) -> Any:
    """The decoded document; ValueError for anything that is not JSON, whose message
    completes a sentence about the file ("the file " + message)."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("is not JSON") from None
    except RecursionError:
        raise ValueError("is not JSON (nested too deeply)") from None
