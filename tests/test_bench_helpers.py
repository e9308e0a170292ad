"""benchmarks/bench_release.py and bench_client.py: the helpers behind issue 17's rows,
which must work on any release layout (no benchmark is timed here)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def bench(name: str) -> ModuleType:
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))  # the scripts import their siblings
    return importlib.import_module(name)


def test_a_failed_release_is_a_missed_target_row_that_quotes_the_rule() -> None:
    release = bench("bench_release")
    failed = release.Failed(1, "previous release: none\n"
                               "error R001 manifest.json is 5,598,636 bytes, over the limit\n"
                               "1 error.\n")
    assert failed.note() == "exit 1: error R001 manifest.json is 5,598,636 bytes, over the limit"
    rows = release.release_rows(100_000, {"lint": 20.0, "tar_czf": 5.0},
                                {"maxrss_kib": 600 * 1024, "tree_kib": 650 * 1024, "code": 1},
                                failed, (0, 0), 1)
    target = next(r for r in rows if "issue 17" in r["benchmark"])
    assert target["met"] is False and "R001" in target["repo_tools"]
    assert target["baseline"] == "lint 20.00 s + 3 x tar czf 5.00 s = 35.00 s"
    memory = next(r for r in rows if "peak memory" in r["benchmark"])
    assert memory["met"] is False and memory["repo_tools"].startswith("600 MiB; 650 MiB")
    assert not any(r["benchmark"].startswith("release without") for r in rows)


def test_the_release_ratio_is_release_over_lint_plus_three_tar_czf() -> None:
    release = bench("bench_release")
    med = {"lint": 2.0, "release": 2.5, "release2": 3.0, "tar_czf": 0.5, "tar_cf": 0.1,
           "verify": 0.3, "untar_hash": 0.6}
    rows = release.release_rows(10_000, med, {"maxrss_kib": 50 * 1024, "tree_kib": 90 * 1024,
                                              "code": 0}, None, (1000, 3), 5)
    by_name = {r["benchmark"]: r for r in rows}
    target = by_name["release 10,000-file, 100-version repo vs its lint + 3 x tar czf "
                     "(issue 17), median of 5"]
    assert target["ratio"] == pytest.approx(2.5 / 3.5) and target["met"] is True
    assert by_name["release 10,000-file repo: peak memory (largest process; whole tree)"][
        "met"] is True
    # The rows benchmarks/run already knew keep their names.
    assert "release, 10000 files (checks + archives + sign)" in by_name
    assert "release without the checks (release - lint)" in by_name


def test_untar_command_takes_every_tar_archive_whatever_its_name_or_compression(
        tmp_path: Path) -> None:
    release = bench("bench_release")
    folder = tmp_path / "out"
    (folder / "archives").mkdir(parents=True)
    member = tmp_path / "a.json"
    member.write_text("{}\n")
    for name, mode in (("bundle-1.tar", "w"), ("archives/v1.0.0-1f2e.tar.gz", "w:gz")):
        with tarfile.open(folder / name, mode) as tar:
            tar.add(member, arcname="versions/a.json")
    (folder / "manifest.json").write_text("{}\n")
    (folder / "manifest.json.sig").write_text("sig\n")
    command = release.untar_hash_command(folder)
    assert command.count("tar xf") == 2 and "manifest" not in command
    subprocess.run(command, shell=True, cwd=tmp_path, check=True)
    assert sorted(p.relative_to(tmp_path / "x").as_posix()
                  for p in (tmp_path / "x").rglob("*.json")) == ["0/versions/a.json",
                                                                  "1/versions/a.json"]
    assert release.published(folder) == (sum(
        p.stat().st_size for p in folder.rglob("*") if p.is_file()), 4)


def test_the_client_benchmark_picks_a_typical_config_version(tmp_path: Path) -> None:
    client = bench("bench_client")
    make_repo = bench("make_repo")
    make_repo.generate_repo(tmp_path, versions=100, files=100, models=1, seed=0)
    index = json.loads((tmp_path / "index.json").read_text())
    config_version, client_version = client.typical_version(index)
    names = list(index["versions"])
    assert names.index(config_version) == 50
    # No later config version admits the client version: it resolves to the middle one.
    def key(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version.split("."))

    assert not [name for name in names[51:]
                if key(index["versions"][name]["min_client_version"]) <= key(client_version)]
    assert key(index["versions"][config_version]["max_client_version"]) > key(client_version)
