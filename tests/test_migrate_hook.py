"""The `migrate-v1-configs` hook through the real pre-commit (tests.support.helpers.PreCommit).

pre-commit builds the hook's environment by pip-installing this project, so the test needs
PyPI (for the build backend and the dependencies). It takes tens of seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repo_tools.checks.validate import validate_paths
from repo_tools.findings import Severity
from tests.support.helpers import SHA_A, PreCommit, git, write_json

pytestmark = pytest.mark.e2e


def test_hook_converts_v1_files_fails_then_passes(tmp_path: Path,
                                                  pre_commit: PreCommit) -> None:
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
    git(config_repo, "init", "-q")
    git(config_repo, "add", "-A")

    first = pre_commit.run(config_repo, "migrate-v1-configs", args=("--all-files", "--verbose"))
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

    second = pre_commit.run(config_repo, "migrate-v1-configs", args=("--all-files", "--verbose"))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout
