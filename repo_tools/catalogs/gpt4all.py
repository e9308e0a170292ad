"""GPT4All's `models3.json`: a list of models, one file each.

`requires` is the lowest client version (1-3 numeric parts, padded to SemVer);
`removedIn` the first client version without the model, exclusive, so the inclusive
`max_client_version` is the last patch before it and `removedIn` is also kept in metadata.
Hashes are `md5sum` (no SHA-256: the entry is written without one) or `sha256sum`;
numbers are strings (`filesize`).
"""

from __future__ import annotations

from typing import Any

from repo_tools.catalogs import CatalogError, Converted, usable_sha256

# Source keys whose value has an exact place in the v2 entry.
_MAPPED = frozenset({"name", "url", "filename", "requires", "filesize", "sha256sum"})
_VERSION_PARTS = 3


def pad(version: str) -> str | None:
    """GPT4All's version as SemVer ("3.0" -> "3.0.0"), or None when it is not numeric."""
    parts = version.split(".")
    if not 1 <= len(parts) <= _VERSION_PARTS or not all(p.isdigit() for p in parts):
        return None
    return ".".join(str(int(p)) for p in parts + ["0"] * (_VERSION_PARTS - len(parts)))


def last_before(version: str) -> str:
    """The highest release version below a padded SemVer `version`."""
    major, minor, patch = map(int, version.split("."))
    if patch:
        return f"{major}.{minor}.{patch - 1}"
    if minor:
        return f"{major}.{minor - 1}.999"
    return f"{max(major - 1, 0)}.999.999"


def convert(catalog: Any) -> list[Converted]:
    if not isinstance(catalog, list):
        raise CatalogError("a GPT4All models3.json is a list of models")
    versions: dict[str, int] = {}
    return [_entry(item, f"/{index}", versions) for index, item in enumerate(catalog)]


def _entry(item: Any, source: str, versions: dict[str, int]) -> Converted:
    from repo_tools.add import names_from_url

    if not isinstance(item, dict):
        return Converted(None, source, reason="not an object")
    url, name = item.get("url"), item.get("name")
    if not isinstance(url, str) or not url:
        return Converted(None, source, reason="no `url`")
    if not isinstance(name, str):
        return Converted(None, source, reason="no `name`")
    names = names_from_url(url)
    # A name listed twice is one model gated to two client ranges: its versions count up.
    count = versions.get(name, 0)
    versions[name] = count + 1
    mapped = set(_MAPPED)
    download: dict[str, Any] = {"url": url}
    sha = usable_sha256(item.get("sha256sum"))
    if sha is not None:
        download["sha256"] = sha
    else:
        mapped.discard("sha256sum")
    filename = item.get("filename")
    if isinstance(filename, str) and filename:
        download["cachePath"] = filename
    else:
        download["cachePath"] = names.cache_path
        mapped.discard("filename")
    size = item.get("filesize")
    if isinstance(size, str) and size.isdigit():
        download["size"] = int(size)
    elif type(size) is int and size >= 0:
        download["size"] = size
    else:
        mapped.discard("filesize")
    entry: dict[str, Any] = {"model": name, "provider": names.provider,
                             "version": f"1.0.{count}", "ranking": 0, "download": download}
    compatibility: dict[str, Any] = {}
    requires = item.get("requires")
    low = pad(requires) if isinstance(requires, str) else None
    if low is not None:
        compatibility["min_client_version"] = low
    else:
        mapped.discard("requires")
    removed = item.get("removedIn")
    high = pad(removed) if isinstance(removed, str) else None
    if high is not None:
        compatibility["max_client_version"] = last_before(high)
    if compatibility:
        entry["compatibility"] = compatibility
    metadata = {key: value for key, value in item.items() if key not in mapped}
    if metadata:
        entry["metadata"] = metadata
    missing = ""
    if sha is None:
        missing = "the catalog gives only an MD5" if item.get("md5sum") else (
            "the catalog gives no hash")
    return Converted(entry, source, missing_hash=missing)
