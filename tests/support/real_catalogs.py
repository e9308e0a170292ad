"""Convert the public catalogs vendored in tests/data/real-catalogs into v2 config repos.

The conversion is deliberately faithful: values are carried as published, so what the
linter reports on the result is what is really in those catalogs. Their sources and
licences: tests/data/real-catalogs/README.md.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

CATALOGS = Path(__file__).resolve().parents[1] / "data" / "real-catalogs"


def _provider_of(url: str) -> str:
    match = re.match(r"https://huggingface\.co/([^/]+)/", url)
    return match.group(1) if match else url.split("/")[2]


def _pad(version: str) -> str:
    # GPT4All's compareAppVersions reads 1-3 numeric parts; "3.0" means 3.0.0.
    parts = version.split(".")
    return ".".join(parts + ["0"] * (3 - len(parts)))


def lmstudio_models() -> list[dict[str, Any]]:
    catalog = json.loads((CATALOGS / "lmstudio_catalog.json").read_text("utf-8"))
    models = []
    for entry in catalog:
        for f in entry["files"]["all"]:
            provider = _provider_of(f["url"])
            models.append({
                "model": f"{entry['name']} ({f['name']})",
                "provider": provider,
                "version": "1.0.0",
                "download": {"url": f["url"], "sha256": f["sha256checksum"],
                             "cachePath": f"{provider}/{f['name']}", "size": f["sizeBytes"]},
                "metadata": {"description": entry["description"]},
            })
    return models


def gpt4all_models() -> list[dict[str, Any]]:
    catalog = json.loads((CATALOGS / "gpt4all_models3.json").read_text("utf-8"))
    models = []
    for entry in catalog:
        compat: dict[str, Any] = {"min_client_version": _pad(entry.get("requires", "2.0.0"))}
        if "removedIn" in entry:
            # removedIn is exclusive; our max is inclusive, so the last patch before it.
            major, minor, patch = map(int, _pad(entry["removedIn"]).split("."))
            compat["max_client_version"] = (f"{major}.{minor}.{patch - 1}" if patch else
                                             f"{major}.{minor - 1}.999" if minor else
                                             f"{major - 1}.999.999")
        models.append({
            "model": entry["name"],
            "provider": "gpt4all",
            # Two names have two version-gated entries: order keeps them apart.
            "version": f"1.0.{len(models)}",
            "download": {"url": entry["url"],
                         "sha256": entry.get("sha256sum") or entry.get("md5sum", ""),
                         "cachePath": f"gpt4all/{entry['filename']}",
                         "size": int(entry["filesize"])},
            "compatibility": compat,
        })
    return models


def localai_models() -> list[dict[str, Any]]:
    import yaml

    # Stored gzipped (2.4 MB of YAML, 0.44 MB compressed); the bytes inside are as published.
    with gzip.open(CATALOGS / "localai_gallery_index.yaml.gz", "rt", encoding="utf-8") as f:
        gallery = yaml.safe_load(f)
    models = []
    for entry in gallery:
        for f in entry.get("files") or []:
            uri = f["uri"]
            if uri.startswith("huggingface://"):
                org, repo, path = uri[len("huggingface://"):].split("/", 2)
                uri = f"https://huggingface.co/{org}/{repo}/resolve/main/{path}"
            models.append({
                "model": f"{entry['name']}/{f['filename']}",
                "provider": "localai",
                "version": "1.0.0",
                "download": {"url": uri, "sha256": f.get("sha256") or "",
                             "cachePath": f["filename"]},
            })
    return models


def write_repo(root: Path, by_provider: dict[str, list[dict[str, Any]]]) -> Path:
    for provider, models in by_provider.items():
        path = root / "versions" / "v1.0.0" / "models" / f"{provider}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"schema_version": "2.0", "models": models}
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (root / "index.json").write_text(json.dumps(
        {"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}}}))
    return root


def group_by_provider(models: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for m in models:
        grouped.setdefault(m["provider"], []).append(m)
    return grouped


def catalog_bytes(name: str) -> bytes:
    """A vendored catalog's bytes as published (a large one is stored gzipped)."""
    path = CATALOGS / name
    if path.is_file():
        return path.read_bytes()
    return gzip.decompress((CATALOGS / f"{name}.gz").read_bytes())


def catalog_file(name: str, directory: Path) -> Path:
    """A vendored catalog as a file with its published name, written into directory."""
    path = directory / name
    path.write_bytes(catalog_bytes(name))
    return path
