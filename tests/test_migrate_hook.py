"""The `migrate-v1-configs` hook through the real `pre-commit try-repo`.

pre-commit builds the hook's environment by pip-installing this project, so the test needs
PyPI (for the build backend and the dependencies). It takes tens of seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from repo_tools.checks.validate import validate_paths
from repo_tools.findings import Severity
from tests.helpers import SHA_A, write_json

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")


def _git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=repo-tools tests", "-c", "user.email=tests@example.invalid",
         "-c", "commit.gpgsign=false", *args],
        cwd=cwd, env=_clean_env(), capture_output=True, text=True, check=True, timeout=120)
    return proc.stdout


def _clean_env() -> dict[str, str]:
    # A surrounding git hook or CI job may set GIT_DIR and friends; they would redirect
    # every git call of the test into the wrong repository.
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="session")
def tool_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project as it is on disk, committed to a throwaway repository.

    try-repo on a working tree picks up uncommitted changes to tracked files but not new
    untracked ones; a snapshot of every file git would track makes the test see exactly
    the code under test, committed or not (in CI, a clean clone, it equals HEAD).
    """
    snapshot = tmp_path_factory.mktemp("tool-repo")
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard",
                  cwd=PROJECT_ROOT)
    for name in filter(None, listed.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            target = snapshot / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git("init", "-q", cwd=snapshot)
    _git("add", "-A", cwd=snapshot)
    _git("commit", "-q", "-m", "snapshot", cwd=snapshot)
    return snapshot


def _try_repo(tool_repo: Path, config_repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = _clean_env() | {"PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(tool_repo), "migrate-v1-configs", "--all-files",
         "--verbose"],
        cwd=config_repo, env=env, capture_output=True, text=True, timeout=600)


def test_hook_converts_v1_files_fails_then_passes(tmp_path: Path, tool_repo: Path,
                                                  pre_commit_home: Path) -> None:
    if not PRE_COMMIT.exists():
        pytest.fail(f"pre-commit is not installed next to {sys.executable}")
    config_repo = tmp_path / "configs"
    models = config_repo / "versions" / "v1.0.0" / "models"
    v1 = {
        "name": "llama",
        "version": "1.0.0",
        "provider": "huggingface",
        "download_url": "https://huggingface.co/org/repo/resolve/main/model.gguf",
        "file_hash": SHA_A.upper(),
        "cache_path": "huggingface/model.gguf",
    }
    write_json(models / "huggingface.json", v1)
    write_json(models / "acme.json", {"models": [{**v1, "provider": "acme", "name": "x"}]})
    v2_text = json.dumps({"schema_version": "2.0", "models": [{
        "model": "m", "provider": "other", "version": "1.0.0",
        "download": {"url": "https://e.org/m", "sha256": SHA_A}}]}, indent=3)
    (models / "other.json").write_text(v2_text)
    _git("init", "-q", cwd=config_repo)
    _git("add", "-A", cwd=config_repo)

    first = _try_repo(tool_repo, config_repo, pre_commit_home)
    output = first.stdout + first.stderr
    assert first.returncode == 1, output
    assert "migrate v1 model configs to v2" in output
    assert "Failed" in output
    assert "files were modified by this hook" in output
    assert "M001 converted from v1 to v2" in output
    for name in ("huggingface.json", "acme.json"):
        data = json.loads((models / name).read_text())
        assert data["schema_version"] == "2.0"
        assert data["models"][0]["download"]["sha256"] == SHA_A
    assert (models / "other.json").read_text() == v2_text
    result = validate_paths(sorted(models.glob("*.json")), config_repo)
    assert [f for f in result.findings if f.severity is Severity.ERROR] == []

    second = _try_repo(tool_repo, config_repo, pre_commit_home)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout
