"""Builders for config repos and model documents used across the tests."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from repo_tools.cli import main

SHA_A = "a" * 64
SHA_B = "b" * 64


def model(**overrides: Any) -> dict[str, Any]:
    """A valid v2 model entry; keyword overrides replace top-level keys."""
    entry: dict[str, Any] = {
        "model": "llama-3.2-1b-instruct:q4_k_m",
        "provider": "huggingface",
        "version": "1.0.0",
        "ranking": 10,
        "download": {
            "url": "https://huggingface.co/org/repo/resolve/main/model.gguf",
            "sha256": SHA_A,
            "cachePath": "huggingface/model.gguf",
        },
        "compatibility": {
            "min_client_version": "1.0.0",
            "max_client_version": "2.0.0",
            "supported_platforms": ["linux", "macos"],
        },
    }
    entry.update(copy.deepcopy(overrides))
    return entry


def config(*models: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": "2.0", "models": list(models) or [model()]}


def write_json(path: Path, data: Any, *, indent: int | None = 2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent, ensure_ascii=False) + "\n", "utf-8")
    return path


def make_repo(root: Path, files: dict[str, Any], index: dict[str, Any] | None = None) -> Path:
    """Write a config repo: files maps 'v1.0.0/provider' (or a relative path) to documents."""
    for name, data in files.items():
        rel = name if name.endswith(".json") else f"versions/{name}.json"
        if "/models/" not in rel and rel.startswith("versions/"):
            version, provider = rel[len("versions/"):-len(".json")].split("/", 1)
            rel = f"versions/{version}/models/{provider}.json"
        target = root / rel
        if isinstance(data, bytes):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        else:
            write_json(target, data)
    if index is not None:
        write_json(root / "index.json", index)
    return root


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def cli(*args: str | Path, cwd: Path | None = None) -> Run:
    """Run the real CLI in-process (exceptions are not swallowed: a traceback fails the test)."""
    import os

    runner = CliRunner()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(old)
    return Run(result.exit_code, result.stdout, result.stderr)


def run_tool(*args: str | Path, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> Run:
    """Run `python -m repo_tools` as a real subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "repo_tools", *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def findings_json(run: Run) -> list[dict[str, Any]]:
    doc = json.loads(run.stdout)
    result: list[dict[str, Any]] = doc["findings"]
    return result


def rules_of(run: Run) -> set[str]:
    return {f["rule"] for f in findings_json(run)}
