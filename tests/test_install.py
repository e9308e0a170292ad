"""`pip install .` into a fresh virtual environment, then the tool run from elsewhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_install_finds_packaged_schemas_outside_the_checkout(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv's own code
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
           "--disable-pip-version-check"]
    # Build from a copy so the checkout is not touched and nothing is read from it later.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "__pycache__",
                                                  ".mypy_cache", ".ruff_cache", ".pytest_cache",
                                                  ".hypothesis", "tests", "benchmarks"))
    subprocess.run([*pip, str(source)], check=True, timeout=600)
    shutil.rmtree(source)

    work = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "examples" / "broken-repo", work)
    tool = venv / "bin" / "repo-tools"
    run = subprocess.run([tool, "validate", "--format", "json"], cwd=work,
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 1, run.stderr
    rules = {f["rule"] for f in json.loads(run.stdout)["findings"]}
    assert {"S003", "V005", "J004"} <= rules
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True,
                             env=env)
    assert version.stdout.startswith("repo-tools, version ")
    # The distribution has its own name (the index's `repo-tools` is another project), and
    # a plain install pulls neither the tests' semver nor init's cookiecutter.
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [python, "-c", "import importlib.metadata as m, json; "
                       "print(json.dumps(sorted(d.metadata['Name'] for d in m.distributions())))"],
        capture_output=True, text=True, check=True, env=env)
    names = {name.lower() for name in json.loads(installed.stdout)}
    assert "model-config-tools" in names and "repo-tools" not in names
    assert not names & {"semver", "cookiecutter", "jinja2"}
    clean = subprocess.run([tool, "validate", "--repo", ROOT / "examples" / "clean-repo"],
                           cwd=tmp_path, capture_output=True, text=True, env=env)
    assert clean.returncode == 0, clean.stdout
    # py.typed travels in the wheel: the client guide's example app type-checks with
    # `mypy --strict` against this installed copy (test_client_guide.py shows the misuses
    # it catches, and that without py.typed mypy sees nothing).
    from tests.test_client_guide import example_code, mypy, site_packages

    assert (site_packages(venv) / "repo_tools" / "py.typed").is_file()
    work = tmp_path / "app"
    work.mkdir()
    (work / "model_manager.py").write_text(example_code())
    typed = mypy(venv, work / "model_manager.py", tmp_path / "mypy-cache")
    assert typed.returncode == 0, typed.stdout + typed.stderr
