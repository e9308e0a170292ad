"""LocalAI's gallery `index.yaml`: a list of models, each with `files` of
`{filename, sha256, uri}`. `huggingface://ORG/REPO/PATH` URIs are the `/resolve/main/`
URL of the file; `filename` is where LocalAI keeps it, so it is the cachePath. An entry
without files (a configuration only) has nothing to download and is not a model file."""

from __future__ import annotations

from typing import Any

from repo_tools.catalogs import CatalogError, Converted, usable_sha256

_HF_SCHEME = "huggingface://"
_FILE_MAPPED = frozenset({"filename", "sha256", "uri"})


def download_url(uri: str) -> str:
    if uri.startswith(_HF_SCHEME):
        org, _, rest = uri[len(_HF_SCHEME):].partition("/")
        repo, _, path = rest.partition("/")
        return f"https://huggingface.co/{org}/{repo}/resolve/main/{path}"
    return uri


def convert(catalog: Any) -> list[Converted]:
    if not isinstance(catalog, list):
        raise CatalogError("a LocalAI gallery index is a list of models")
    converted: list[Converted] = []
    for index, model in enumerate(catalog):
        source = f"/{index}"
        if not isinstance(model, dict):
            converted.append(Converted(None, source, reason="not an object"))
            continue
        files = model.get("files")
        if not files:
            continue
        if not isinstance(files, list):
            converted.append(Converted(None, source, reason="`files` is not a list"))
            continue
        for number, item in enumerate(files):
            converted.append(_entry(model, item, f"{source}/files/{number}"))
    return converted


def _entry(model: dict[str, Any], item: Any, source: str) -> Converted:
    from repo_tools.add import names_from_url

    if not isinstance(item, dict):
        return Converted(None, source, reason="not an object")
    uri, filename = item.get("uri"), item.get("filename")
    if not isinstance(uri, str) or not uri or not isinstance(filename, str):
        return Converted(None, source, reason="no `uri` or `filename`")
    url = download_url(uri)
    mapped = set(_FILE_MAPPED)
    download: dict[str, Any] = {"url": url}
    sha = usable_sha256(item.get("sha256"))
    if sha is not None:
        download["sha256"] = sha
    else:
        mapped.discard("sha256")
    download["cachePath"] = filename
    metadata: dict[str, Any] = {k: v for k, v in model.items() if k not in ("name", "files")}
    extra = {k: v for k, v in item.items() if k not in mapped}
    if uri != url:
        extra["uri"] = uri
    if extra:
        metadata["file"] = extra
    entry: dict[str, Any] = {"model": f"{model.get('name')}/{filename}",
                             "provider": names_from_url(url).provider, "version": "1.0.0",
                             "ranking": 0, "download": download}
    if metadata:
        entry["metadata"] = metadata
    return Converted(entry, source,
                     missing_hash="" if sha is not None else "the catalog gives no SHA-256")
