#!/usr/bin/env python3
"""Benchmark of `repo-tools release` and `verify` on a 10,000-file config repo.

    python benchmarks/bench_release.py [--quick] [--json] [--reps N] [--files N]

The repo comes from benchmarks/make_repo.py (100 config versions, 3 models a file), is
committed to a git repo in a temp dir, and a fresh Ed25519 key signs. Timed end to end as
subprocesses, median of --reps runs:

* `lint` alone (the offline checks `release` runs first), so the release's own cost shows;
* `release` into an empty folder (checks + bundle + manifest + signature), and its cost
  without the checks (release minus lint) against `tar czf` and `tar cf` of the same tree;
* a second `release` (with the previous one to diff against);
* `verify` of the result against `tar xf` into a temp dir plus `sha256sum` of the files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import print_rows, repo_tools_cmd  # a sibling module: run as a script

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 3.0  # release's own work (without the checks) vs `tar czf`, as issue 9 sets


def run(args: list[str], *, cwd: Path | None = None, shell: bool = False) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args if not shell else " ".join(args), cwd=cwd, shell=shell,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{args} exited {proc.returncode}:\n{proc.stdout[-1500:]}"
                         f"{proc.stderr[-1500:]}")
    return elapsed


def make_repo(root: Path, files: int) -> Path:
    repo = root / "repo"
    try:
        sys.path.insert(0, str(HERE))
        from make_repo import generate_repo  # a sibling script, not a package

        generate_repo(repo, versions=min(100, files), files=files, models=3, seed=0)
    except ImportError:
        raise SystemExit("benchmarks/make_repo.py is needed") from None
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.org",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.org"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env,
                       capture_output=True)
    return repo


def main(argv: list[str] | None = None) -> int:
    # Measure what users get: an installed package keeps compiled bytecode, so do not let
    # PYTHONDONTWRITEBYTECODE (set in some sandboxes) recompile every module on every run.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 runs instead of --reps")
    parser.add_argument("--json", action="store_true", help="print rows as JSON")
    parser.add_argument("--reps", type=int, default=5, help="runs per command (default 5)")
    parser.add_argument("--files", type=int, default=10_000, help="model files (10,000)")
    args = parser.parse_args(argv)
    reps = 3 if args.quick else args.reps
    tool = repo_tools_cmd()
    times: dict[str, list[float]] = {k: [] for k in (
        "lint", "release", "release2", "tar_czf", "tar_cf", "verify", "untar_hash")}
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp_name:
        tmp = Path(tmp_name)
        repo = make_repo(tmp, args.files)
        run([*tool, "keygen", str(tmp / "key")])
        release = [*tool, "release", "--repo", str(repo), "--key", str(tmp / "key"),
                   "--created", "now"]
        for i in range(reps + 1):  # the first round warms caches and is not counted
            out = tmp / f"out{i}"
            rounds: list[tuple[str, list[str], Path | None, bool]] = [
                ("lint", [*tool, "lint", "--repo", str(repo)], None, False),
                ("release", [*release, "--out", str(out)], None, False),
                ("release2", [*release, "--out", str(out)], None, False),
                ("tar_czf", ["tar", "czf", str(tmp / "t.tgz"), "index.json", "versions"],
                 repo, False),
                ("tar_cf", ["tar", "cf", str(tmp / "t.tar"), "index.json", "versions"],
                 repo, False),
                ("verify", [*tool, "verify", str(out), "--allowed-signers",
                            str(tmp / "key.allowed_signers")], None, False),
                ("untar_hash", [f"rm -rf x && mkdir x && tar xf {out}/bundle-1.tar -C x && "
                                "find x -type f -print0 | xargs -0 sha256sum > /dev/null"],
                 tmp, True),
            ]
            for name, command, cwd, shell in rounds:
                elapsed = run(command, cwd=cwd, shell=shell)
                if i:
                    times[name].append(elapsed)
            shutil.rmtree(out)
    med = {k: statistics.median(v) for k, v in times.items()}
    own = max(med["release"] - med["lint"], 0.0)
    rows = [
        {"benchmark": f"lint, {args.files} files (release's checks)",
         "repo_tools": f"{med['lint']:.2f} s"},
        {"benchmark": f"release, {args.files} files (checks + bundle + sign)",
         "repo_tools": f"{med['release']:.2f} s", "baseline": f"tar czf {med['tar_czf']:.2f} s",
         "ratio": med["release"] / med["tar_czf"]},
        {"benchmark": "release without the checks (release - lint)",
         "repo_tools": f"{own:.2f} s", "baseline": f"tar czf {med['tar_czf']:.2f} s, "
         f"tar cf {med['tar_cf']:.2f} s", "ratio": own / med["tar_czf"],
         "target": f"<= {TARGET_RATIO:.1f}x tar czf",
         "met": own <= TARGET_RATIO * med["tar_czf"]},
        {"benchmark": "second release (diff against the first)",
         "repo_tools": f"{med['release2']:.2f} s"},
        {"benchmark": "verify (signature, manifest, bundle, every member)",
         "repo_tools": f"{med['verify']:.2f} s",
         "baseline": f"tar xf + sha256sum {med['untar_hash']:.2f} s",
         "ratio": med["verify"] / med["untar_hash"]},
    ]
    print_rows(rows, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
