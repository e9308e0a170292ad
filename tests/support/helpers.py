"""Builders for config repos and model documents used across the tests."""

from __future__ import annotations

import copy
import json
import os
import shutil
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


# --- git --------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
GIT_ENV = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git_env(**extra: str) -> dict[str, str]:
    """The environment for a test's git: a surrounding hook or CI job may set GIT_DIR and
    friends, which would send every call into the wrong repository; the user's own git
    config (signing, hooks, default branch) stays out too."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**clean, **GIT_ENV, **extra}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=git_env(), timeout=120)
    return proc.stdout.strip()


def snapshot_of_work_tree(dest: Path) -> Path:
    """This checkout as a git repo of one commit, uncommitted and untracked (not ignored)
    files included: try-repo on the checkout itself would miss new files."""
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        source, target = ROOT / name, dest / name
        if source.is_dir() and not source.is_symlink():
            continue  # a nested repository, not part of this one
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)
    git(dest.parent, "init", "-q", str(dest))
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "snapshot")
    return dest


@dataclass(frozen=True)
class PreCommit:
    """The real pre-commit running this project's hooks in a config repo.

    What `pre-commit try-repo TOOL HOOK` does, but with one pre-commit home for the whole
    session: try-repo builds the hooks' environment (a pip install of TOOL) in a new
    temporary home on every call, while `pre-commit run --config` with the same repo and
    rev reuses the environment the first call built.
    """

    tool_repo: Path
    rev: str
    hook_ids: tuple[str, ...]
    home: Path
    env: dict[str, str]

    def run(self, cwd: Path, *hooks: str, args: tuple[str, ...] = ("--all-files",),
            env: dict[str, str] | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """`pre-commit run ARGS [HOOK]` in cwd (a git repo) with HOOKS (default: all of
        the manifest's) from the tool repo; its own .pre-commit-config.yaml is not read."""
        chosen = hooks or self.hook_ids
        config = self.home / f"config-{'-'.join(chosen) if hooks else 'all'}.yaml"
        if not config.exists():
            config.write_text(json.dumps({"repos": [{
                "repo": self.tool_repo.as_uri(), "rev": self.rev,
                "hooks": [{"id": hook} for hook in chosen]}]}, indent=2))
        command = ["pre-commit", "run", "--config", str(config), *args]
        if len(hooks) == 1:
            command.append(hooks[0])
        return subprocess.run(command, cwd=cwd, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)
