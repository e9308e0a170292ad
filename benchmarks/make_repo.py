#!/usr/bin/env python3
"""Generate a realistic model-configuration repo of any size, deterministically from a seed.

    python benchmarks/make_repo.py OUT --versions 100 --files 10000 --models 3 [--seed 0]
    python benchmarks/make_repo.py OUT ... --mistakes 0.05   # plant mistakes in 5% of files

`--files` is the total number of model files, spread evenly over the config versions
(each file of a version is one provider, `versions/vX.Y.Z/models/<provider>.json`).
The clean variant passes `repo-tools validate`; with `--mistakes SHARE` that share of the
files gets exactly one planted mistake each, of the kinds a maintainer really makes
(duplicate keys, typo'd keys, upper-case or MD5 hashes, `v`-prefixed versions, ...).
The same arguments always give byte-identical files.

Importable too: `generate_repo(root, versions=..., files=..., models=..., seed=...,
mistakes=...)` returns what was written and which mistakes were planted where.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Publishers as they appear on Hugging Face; more providers than these get a numeric
# suffix (`bartowski-2`), which keeps file name and provider in agreement.
PROVIDERS = (
    "bartowski", "lmstudio-community", "TheBloke", "unsloth", "Qwen", "meta-llama",
    "mistralai", "google", "microsoft", "nomic-ai", "HuggingFaceH4", "NousResearch",
    "mradermacher", "QuantFactory", "TheDrummer", "deepseek-ai", "ibm-granite",
    "allenai", "tiiuae", "openbmb", "stabilityai", "01-ai", "CohereForAI", "THUDM",
)
FAMILIES = (
    ("Llama-3.2", ("1B", "3B")), ("Llama-3.1", ("8B", "70B")), ("Qwen2.5", ("0.5B", "7B", "14B")),
    ("Qwen2.5-Coder", ("1.5B", "7B", "32B")), ("Mistral", ("7B",)), ("Mistral-Nemo", ("12B",)),
    ("gemma-2", ("2b", "9b", "27b")), ("Phi-3.5-mini", ("3.8B",)), ("DeepSeek-R1-Distill-Qwen",
    ("1.5B", "7B", "14B")), ("granite-3.1", ("2b", "8b")), ("OLMo-2", ("7B", "13B")),
    ("SmolLM2", ("135M", "360M", "1.7B")), ("Hermes-3-Llama-3.1", ("8B",)),
    ("nomic-embed-text-v1.5", ("",)), ("falcon3", ("7B", "10B")), ("MiniCPM3", ("4B",)),
)
VARIANTS = ("Instruct", "Chat", "Base", "it", "Instruct-1M")
QUANTS = ("Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0", "IQ4_XS", "Q3_K_L", "f16")
PLATFORMS = ("linux", "macos", "windows", "android", "ios")


@dataclasses.dataclass(frozen=True, slots=True)
class Planted:
    """One planted mistake: the file (relative to the repo root) and its kind."""

    path: str
    kind: str


@dataclasses.dataclass(slots=True)
class GeneratedRepo:
    root: Path
    versions: list[str]
    files: list[str]
    models: int
    planted: list[Planted]


# -- values --------------------------------------------------------------------------------


def provider_names(count: int) -> list[str]:
    names = list(PROVIDERS[:count])
    round_ = 2
    while len(names) < count:
        names.extend(f"{p}-{round_}" for p in PROVIDERS[: count - len(names)])
        round_ += 1
    return names


def config_versions(count: int) -> list[str]:
    """v1.0.0, v1.0.1, ...: patch releases, a minor every 10, a major every 100."""
    return [f"v{1 + i // 100}.{(i // 10) % 10}.{i % 10}" for i in range(count)]


def client_range(index: int, count: int) -> tuple[str, str | None]:
    """The client versions config version `index` serves; the newest one has no upper bound.

    Minimums rise with the config version and each range ends where a later one starts,
    the shape of an index that has grown release by release.
    """
    low = f"{2 + index // 50}.{index % 50}.0"
    if index == count - 1:
        return low, None
    later = min(index + 5, count - 1)
    return low, f"{2 + later // 50}.{later % 50}.0"


def model_entry(rng: random.Random, provider: str, serial: int,
                version_range: tuple[str, str | None]) -> dict[str, Any]:
    family, sizes = rng.choice(FAMILIES)
    size = rng.choice(sizes)
    variant = rng.choice(VARIANTS)
    quant = rng.choice(QUANTS)
    # The serial keeps (provider, model, version) and cachePath unique within a version.
    repo = "-".join(part for part in (family, size, variant) if part) + f"-v{serial}"
    filename = f"{repo}-{quant}.gguf"
    low, high = version_range
    entry: dict[str, Any] = {
        "model": f"{repo.lower()}:{quant.lower()}",
        "provider": provider,
        "version": f"{rng.randint(0, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 30)}",
        "ranking": rng.randint(0, 100),
        "download": {
            "url": f"https://huggingface.co/{provider}/{repo}-GGUF/resolve/main/{filename}",
            "sha256": f"{rng.getrandbits(256):064x}",
            "cachePath": f"{provider}/{repo}-GGUF/{filename}",
            "size": rng.randint(80_000_000, 45_000_000_000),
        },
        "compatibility": {
            "min_client_version": low,
            "max_client_version": high,
            "supported_platforms": sorted(rng.sample(PLATFORMS, rng.randint(1, len(PLATFORMS)))),
        },
    }
    if rng.random() < 0.3:
        entry["metadata"] = {"license": rng.choice(("apache-2.0", "mit", "llama3.2", "gemma")),
                             "context_length": rng.choice((4096, 8192, 32768, 131072))}
    return entry


def dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# -- mistakes: each takes a valid document and returns the file text with one mistake ----------


def _first_model(doc: dict[str, Any]) -> dict[str, Any]:
    model: dict[str, Any] = doc["models"][0]
    return model


def _edit(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], str]:
    def apply(doc: dict[str, Any]) -> str:
        change(_first_model(doc))
        return dump(doc)
    return apply


def _duplicate_key(doc: dict[str, Any]) -> str:
    # json.dumps cannot write a key twice, so repeat the "ranking" line in the text.
    text = dump(doc)
    match = re.search(r'^(\s*)"ranking": (\d+),\n', text, flags=re.MULTILINE)
    assert match is not None
    return text[: match.end()] + f'{match.group(1)}"ranking": {int(match.group(2)) + 1},\n' + \
        text[match.end():]


def _trailing_comma(doc: dict[str, Any]) -> str:
    # After the last model: accepted by JavaScript, rejected by every JSON parser.
    return dump(doc).replace("\n  ]\n}", ",\n  ]\n}", 1)


def _rename(obj: dict[str, Any], old: str, new: str) -> None:
    obj[new] = obj.pop(old)


MISTAKES: dict[str, Callable[[dict[str, Any]], str]] = {
    "duplicate-key": _duplicate_key,
    "trailing-comma": _trailing_comma,
    "typo-key": _edit(lambda m: _rename(m["download"], "cachePath", "cachepath")),
    "unknown-key": _edit(lambda m: m.update(licence="mit")),
    "missing-sha256": _edit(lambda m: m["download"].pop("sha256")),
    "upper-case-sha256": _edit(lambda m: m["download"].update(
        sha256=m["download"]["sha256"].upper())),
    "md5-as-sha256": _edit(lambda m: m["download"].update(sha256=m["download"]["sha256"][:32])),
    "v-prefixed-version": _edit(lambda m: m.update(version="v" + m["version"])),
    "http-url": _edit(lambda m: m["download"].update(
        url=m["download"]["url"].replace("https://", "http://", 1))),
    "min-above-max": _edit(lambda m: m["compatibility"].update(
        min_client_version="99.0.0", max_client_version="1.0.0")),
    "cache-path-escape": _edit(lambda m: m["download"].update(
        cachePath="../" + m["download"]["cachePath"])),
    "ranking-as-string": _edit(lambda m: m.update(ranking=str(m["ranking"]))),
}


# -- the repo ----------------------------------------------------------------------------------


def generate_repo(root: Path, *, versions: int, files: int, models: int, seed: int = 0,
                  mistakes: float = 0.0) -> GeneratedRepo:
    """Write the repo under root (created if missing; existing files are overwritten)."""
    if versions < 1 or models < 1 or files < versions:
        raise ValueError("need versions >= 1, models >= 1 and files >= versions")
    if not 0.0 <= mistakes <= 1.0:
        raise ValueError("mistakes is a share between 0 and 1")
    rng = random.Random(seed)
    names = config_versions(versions)
    per_version = [files // versions + (1 if i < files % versions else 0) for i in range(versions)]
    # Which files get a mistake is drawn up front, so the clean content of every file is
    # the same with and without --mistakes.
    planted_at = set(random.Random(seed + 1).sample(range(files), round(files * mistakes)))
    kinds = sorted(MISTAKES)
    written: list[str] = []
    planted: list[Planted] = []
    index: dict[str, dict[str, str | None]] = {}
    serial = 0
    for i, (version, count) in enumerate(zip(names, per_version, strict=True)):
        low, high = client_range(i, versions)
        index[version] = {"min_client_version": low, "max_client_version": high}
        models_dir = root / "versions" / version / "models"
        models_dir.mkdir(parents=True, exist_ok=True)
        for provider in provider_names(count):
            doc = {"schema_version": "2.0",
                   "models": [model_entry(rng, provider, serial + k, (low, high))
                              for k in range(models)]}
            serial += models
            rel = f"versions/{version}/models/{provider}.json"
            if len(written) in planted_at:
                kind = kinds[len(planted) % len(kinds)]
                text = MISTAKES[kind](doc)
                planted.append(Planted(rel, kind))
            else:
                text = dump(doc)
            (root / rel).write_text(text, encoding="utf-8")
            written.append(rel)
    (root / "index.json").write_text(dump({"versions": index}), encoding="utf-8")
    return GeneratedRepo(root, names, written, models, planted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory to write the repo into")
    parser.add_argument("--versions", type=int, default=10, help="config versions (default 10)")
    parser.add_argument("--files", type=int, default=100,
                        help="model files in total, spread over the versions (default 100)")
    parser.add_argument("--models", type=int, default=3, help="models per file (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--mistakes", type=float, default=0.0, metavar="SHARE",
                        help="share of files with one planted mistake, 0..1 (default 0)")
    parser.add_argument("--planted", type=Path, default=None, metavar="FILE",
                        help="write the planted mistakes (path, kind) to this JSON file")
    args = parser.parse_args(argv)
    try:
        repo = generate_repo(args.out, versions=args.versions, files=args.files,
                             models=args.models, seed=args.seed, mistakes=args.mistakes)
    except ValueError as exc:
        parser.error(str(exc))
    if args.planted is not None:
        args.planted.write_text(dump([dataclasses.asdict(p) for p in repo.planted]),
                                encoding="utf-8")
    print(f"wrote {len(repo.files)} model files in {len(repo.versions)} versions to {args.out}"
          f" ({len(repo.planted)} with planted mistakes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
