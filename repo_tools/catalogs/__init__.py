"""Public model catalogs read as v2 entries: one pure converter per format.

Each converter takes the parsed catalog and returns one `Converted` per file it lists,
in catalog order. Values are carried faithfully: what has an exact place in v2 goes
there, everything else (and anything whose conversion is not exact, such as GPT4All's
exclusive `removedIn`) into the entry's `metadata` under its own name. Nothing is
invented: a file without a usable SHA-256 becomes an entry without `sha256` and says why
(`missing_hash`), so the caller can name the command that fills it in.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Callable
from typing import Any

HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class CatalogError(Exception):
    """The catalog is not in the format it was read as."""


@dataclasses.dataclass(slots=True)
class Converted:
    """One file of the catalog: its entry (None when it cannot be one), where it is in the
    catalog (a JSON pointer), and why it has no sha256 or no entry."""

    entry: dict[str, Any] | None
    source: str
    missing_hash: str = ""
    reason: str = ""


Converter = Callable[[Any], list[Converted]]


def usable_sha256(value: Any) -> str | None:
    """A SHA-256 as the catalog writes it, when it is one (64 hex digits, any case)."""
    return value if isinstance(value, str) and HEX64.fullmatch(value) else None


def jsonable(value: Any, where: str = "") -> Any:
    """A YAML value as JSON: dates become ISO text; anything else JSON cannot hold is a
    CatalogError rather than a silent change."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CatalogError(f"{where or 'the top level'} has a key that is not text: "
                                   f"{key!r}")
            out[key] = jsonable(item, f"{where}/{key}")
        return out
    if isinstance(value, list):
        return [jsonable(item, f"{where}/{i}") for i, item in enumerate(value)]
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise CatalogError(f"{where} holds a {type(value).__name__}, which JSON cannot hold")


def converters() -> dict[str, Converter]:
    from repo_tools.catalogs import gpt4all, lmstudio, localai

    return {"gpt4all": gpt4all.convert, "lmstudio": lmstudio.convert,
            "localai": localai.convert}
