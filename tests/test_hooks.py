"""The pre-commit hook manifest and the validate hook through real `pre-commit try-repo`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import git

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def test_manifest_is_valid() -> None:
    run = subprocess.run(["pre-commit", "validate-manifest", ".pre-commit-hooks.yaml"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize(("hook", "path", "matches"), [
    ("validate-model-configs", "versions/v1.0.0/models/huggingface.json", True),
    ("validate-model-configs", "versions/v1.0.0/models/nested/x.json", False),
    ("validate-model-configs", "index.json", False),
    ("validate-model-configs", "other/versions/v1.0.0/models/x.json", False),
    ("check-index", "index.json", True),
    ("check-index", "versions/v1.0.0/models/x.json", True),
    ("check-index", "README.md", False),
    ("check-index", "versions/.env", True),  # R036: the hook sees stray files too
    ("migrate-v1-configs", "versions/v2.0.0/models/a.json", True),
    ("probe-downloads", "versions/v2.0.0/models/a.json", True),
])
def test_hook_files_patterns(hook: str, path: str, matches: bool) -> None:
    assert bool(re.search(HOOKS[hook]["files"], path)) is matches


def test_probe_hook_is_manual_and_check_index_sees_the_whole_repo() -> None:
    assert HOOKS["probe-downloads"]["stages"] == ["manual"]
    assert HOOKS["check-index"]["pass_filenames"] is False


def init_repo(path: Path, source: Path) -> Path:
    shutil.copytree(source, path)
    git(path, "init", "-q")
    git(path, "add", "-A")
    return path


@pytest.fixture(scope="session")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = dict(os.environ)
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env.pop("PRE_COMMIT_NO_CONCURRENCY", None)
    return env


def try_repo(tool: Path, cwd: Path, hook: str,
             env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pre-commit", "try-repo", str(tool), hook, "--all-files", "--verbose"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )


def test_validate_hook_passes_clean_and_fails_broken(tmp_path: Path, tool_repo: Path,
                                                     pre_commit_env: dict[str, str]) -> None:
    clean = init_repo(tmp_path / "clean", ROOT / "examples" / "clean-repo")
    run = try_repo(tool_repo, clean, "validate-model-configs", pre_commit_env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Passed" in run.stdout

    broken = init_repo(tmp_path / "broken", ROOT / "examples" / "broken-repo")
    run = try_repo(tool_repo, broken, "validate-model-configs", pre_commit_env)
    assert run.returncode == 1
    assert "Failed" in run.stdout
    for code in ("J004", "S003", "V005", "V006", "V007"):
        assert code in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_check_index_hook_refuses_what_a_release_would_refuse(
        tmp_path: Path, tool_repo: Path, pre_commit_env: dict[str, str]) -> None:
    repo = init_repo(tmp_path / "repo", ROOT / "examples" / "clean-repo")
    (repo / "versions" / ".env").write_text("API_TOKEN=not-for-clients\n")
    git(repo, "add", "versions/.env")
    run = try_repo(tool_repo, repo, "check-index", pre_commit_env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "versions/.env: R036" in run.stdout and "not-for-clients" not in run.stdout
