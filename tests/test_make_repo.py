"""benchmarks/make_repo.py: deterministic, clean when asked, and its mistakes are caught."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repo_tools.checks.validate import validate_paths
from repo_tools.repo import model_files
from tests.support.helpers import findings_json, run_tool

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "make_repo.py"


def generate(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), str(out), *args],
                          capture_output=True, text=True, check=True, timeout=120)


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    args = ("--versions", "3", "--files", "12", "--models", "2", "--mistakes", "0.5")
    generate(tmp_path / "a", *args, "--seed", "7")
    generate(tmp_path / "b", *args, "--seed", "7")
    generate(tmp_path / "c", *args, "--seed", "8")
    a = tree_digest(tmp_path / "a")
    assert len(a) == 12 + 1  # model files and index.json
    assert a == tree_digest(tmp_path / "b")
    assert a != tree_digest(tmp_path / "c")


def test_files_are_spread_over_versions_with_the_asked_number_of_models(tmp_path: Path) -> None:
    generate(tmp_path, "--versions", "4", "--files", "10", "--models", "3")
    per_version = {d.name: len(list((d / "models").glob("*.json")))
                   for d in (tmp_path / "versions").iterdir()}
    assert sorted(per_version.values()) == [2, 2, 3, 3]
    index = json.loads((tmp_path / "index.json").read_text())
    assert sorted(index["versions"]) == sorted(per_version)
    for path in tmp_path.glob("versions/*/models/*.json"):
        doc = json.loads(path.read_text())
        assert len(doc["models"]) == 3
        assert {m["provider"] for m in doc["models"]} == {path.stem}


def test_clean_variant_passes_validate(tmp_path: Path) -> None:
    generate(tmp_path, "--versions", "5", "--files", "60", "--models", "3")
    run = run_tool("validate", "--repo", tmp_path, "--format", "json", "--strict")
    assert findings_json(run) == []
    assert run.exit_code == 0


def test_every_planted_mistake_yields_a_finding_on_its_file(tmp_path: Path) -> None:
    planted_file = tmp_path / "planted.json"
    repo = tmp_path / "repo"
    # 24 of 48 files: every kind of mistake is planted twice.
    generate(repo, "--versions", "4", "--files", "48", "--mistakes", "0.5",
             "--planted", str(planted_file))
    planted = json.loads(planted_file.read_text())
    assert len(planted) == 24
    run = run_tool("validate", "--repo", repo, "--format", "json", cwd=repo)
    assert run.exit_code == 1
    flagged = {f["path"] for f in findings_json(run)}
    assert {p["path"] for p in planted} == flagged


def test_bad_sizes_are_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "--versions", "5",
                           "--files", "2"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "files >= versions" in proc.stderr


@pytest.mark.parametrize("share", ["-0.1", "1.5"])
def test_mistake_share_outside_zero_to_one_is_refused(tmp_path: Path, share: str) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "--mistakes", share],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_repo", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_repo", module)
    spec.loader.exec_module(module)
    return module


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32), versions=st.integers(1, 4), extra=st.integers(0, 8),
       models=st.integers(1, 4))
def test_any_seed_and_size_gives_a_clean_repo(seed: int, versions: int, extra: int,
                                              models: int) -> None:
    make_repo = _load_generator()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = make_repo.generate_repo(root, versions=versions, files=versions + extra,
                                       models=models, seed=seed)
        assert len(repo.files) == versions + extra
        assert repo.planted == []
        result = validate_paths(model_files(root), root, jobs=1)
        assert result.findings == []


def test_one_version_holds_any_number_of_files_and_its_first_file_does_not_change(
        tmp_path: Path) -> None:
    # benchmarks/run times the hook on the first file of a 10-file and of 1,001-file
    # versions: it must be the same file, byte for byte.
    make_repo = _load_generator()
    small = make_repo.generate_repo(tmp_path / "small", versions=1, files=10, models=3)
    big = make_repo.generate_repo(tmp_path / "big", versions=1, files=1001, models=3)
    paths = list((tmp_path / "big" / "versions" / "v1.0.0" / "models").glob("*.json"))
    assert len(paths) == len(set(big.files)) == 1001
    assert big.files[0] == small.files[0]
    assert (big.root / big.files[0]).read_bytes() == (small.root / small.files[0]).read_bytes()
    for path in paths[::50]:
        doc = json.loads(path.read_text())
        assert {m["provider"] for m in doc["models"]} == {path.stem}


def test_names_stay_unique_at_benchmark_sizes() -> None:
    # bench_scale.py: 100,000 files in 1,000 versions; the hook rows: 10,001 files in one.
    make_repo = _load_generator()
    assert len(set(make_repo.config_versions(1000))) == 1000
    names = make_repo.provider_names(10_001)
    assert len(set(names)) == 10_001
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", name) for name in names)
