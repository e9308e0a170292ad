"""LM Studio's `catalog.json`: a list of models, each with `files.all` (one entry per
file, named `MODEL (FILE)`) and `files.highlighted` (labels such as `economical`)."""

from __future__ import annotations

from typing import Any

from repo_tools.catalogs import CatalogError, Converted, usable_sha256

_FILE_MAPPED = frozenset({"name", "url", "sizeBytes", "sha256checksum"})


def convert(catalog: Any) -> list[Converted]:
    if not isinstance(catalog, list):
        raise CatalogError("an LM Studio catalog.json is a list of models")
    converted: list[Converted] = []
    for index, model in enumerate(catalog):
        source = f"/{index}"
        files = model.get("files") if isinstance(model, dict) else None
        if not isinstance(files, dict) or not isinstance(files.get("all"), list):
            converted.append(Converted(None, source, reason="no `files.all` list"))
            continue
        listed = files["all"]
        labels = _labels(files)
        for number, item in enumerate(listed):
            converted.append(_entry(model, item, labels, f"{source}/files/all/{number}"))
    return converted


def _labels(files: dict[str, Any]) -> dict[str, list[str]]:
    """File name -> the highlight labels that name it."""
    by_file: dict[str, list[str]] = {}
    highlighted = files.get("highlighted")
    if isinstance(highlighted, dict):
        for label, choice in highlighted.items():
            if isinstance(choice, dict) and isinstance(choice.get("name"), str):
                by_file.setdefault(choice["name"], []).append(label)
    return by_file


def _entry(model: dict[str, Any], item: Any, labels: dict[str, list[str]],
           source: str) -> Converted:
    from repo_tools.add import names_from_url

    if not isinstance(item, dict):
        return Converted(None, source, reason="not an object")
    url, name = item.get("url"), item.get("name")
    if not isinstance(url, str) or not url or not isinstance(name, str):
        return Converted(None, source, reason="no `url` or `name`")
    names = names_from_url(url)
    mapped = set(_FILE_MAPPED)
    download: dict[str, Any] = {"url": url}
    sha = usable_sha256(item.get("sha256checksum"))
    if sha is not None:
        download["sha256"] = sha
    else:
        mapped.discard("sha256checksum")
    # LM Studio keeps a file at <publisher>/<repository>/<file> (the key is misspelt
    # `respository` in the catalog itself).
    repository = item.get("respository") or item.get("repository")
    download["cachePath"] = (f"{repository}/{name}" if isinstance(repository, str)
                             and repository else names.cache_path)
    size = item.get("sizeBytes")
    if type(size) is int and size >= 0:
        download["size"] = size
    else:
        mapped.discard("sizeBytes")
    metadata: dict[str, Any] = {k: v for k, v in model.items() if k not in ("name", "files")}
    metadata["file"] = {k: v for k, v in item.items() if k not in mapped}
    if name in labels:
        metadata["highlighted"] = labels[name]
    entry = {"model": f"{model.get('name')} ({name})", "provider": names.provider,
             "version": "1.0.0", "ranking": 0, "download": download, "metadata": metadata}
    return Converted(entry, source,
                     missing_hash="" if sha is not None else "the catalog gives no SHA-256")
