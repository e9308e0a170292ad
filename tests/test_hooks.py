"""The pre-commit hook manifest and the validate hook through real `pre-commit try-repo`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.helpers import PreCommit, config, git, make_repo, model
from tests.support.httpserver import Body, LoopbackServer, sha256_hex

ROOT = Path(__file__).resolve().parents[1]
ALL_VERBOSE = ("--all-files", "--verbose")
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


def test_probe_hook_runs_once_for_all_files() -> None:
    # Without it pre-commit splits the files into chunks run in parallel, and every chunk
    # probes the URLs the files share again.
    assert HOOKS["probe-downloads"]["require_serial"] is True


def init_repo(path: Path, source: Path) -> Path:
    shutil.copytree(source, path)
    git(path, "init", "-q")
    git(path, "add", "-A")
    return path


@pytest.mark.e2e
def test_validate_hook_passes_clean_and_fails_broken(tmp_path: Path,
                                                     pre_commit: PreCommit) -> None:
    clean = init_repo(tmp_path / "clean", ROOT / "examples" / "clean-repo")
    run = pre_commit.run(clean, "validate-model-configs", args=ALL_VERBOSE)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Passed" in run.stdout

    broken = init_repo(tmp_path / "broken", ROOT / "examples" / "broken-repo")
    run = pre_commit.run(broken, "validate-model-configs", args=ALL_VERBOSE)
    assert run.returncode == 1
    assert "Failed" in run.stdout
    for code in ("J004", "S003", "V005", "V006", "V007"):
        assert code in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.e2e
def test_check_index_hook_refuses_what_a_release_would_refuse(
        tmp_path: Path, pre_commit: PreCommit) -> None:
    repo = init_repo(tmp_path / "repo", ROOT / "examples" / "clean-repo")
    (repo / "versions" / ".env").write_text("API_TOKEN=not-for-clients\n")
    git(repo, "add", "versions/.env")
    run = pre_commit.run(repo, "check-index", args=ALL_VERBOSE)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "versions/.env: R036" in run.stdout and "not-for-clients" not in run.stdout


@pytest.mark.e2e
def test_probe_hook_probes_a_shared_url_once_across_many_files(
        tmp_path: Path, pre_commit: PreCommit, server: LoopbackServer) -> None:
    # Eight files (two config versions, four providers) all pointing at one URL: pre-commit
    # would split them into one chunk per core, each probing the URL again.
    url = server.route("/shared.bin", Body(b"weights"))
    download = {"url": url, "sha256": sha256_hex(b"weights"), "cachePath": "m/shared.bin"}
    files = {f"v{major}.0.0/{provider}": config(model(download=download))
             for major in (1, 2) for provider in ("a", "b", "c", "d")}
    index = {"versions": {
        "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.9.9"},
        "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": None}}}
    repo = make_repo(tmp_path / "repo", files, index)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "NETRC": str(tmp_path / "no-netrc"),
           "REPO_TOOLS_TOKENS": ""}
    run = pre_commit.run(repo, "probe-downloads", env=env,
                         args=(*ALL_VERBOSE, "--hook-stage", "manual"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "probed 1 URL(s)" in run.stdout + run.stderr
    assert server.count("/shared.bin", "HEAD") == 1
