#!/usr/bin/env python3
"""`lint` and `check-index` on a 100,000-file repo against parsing every file once (issue 14).

    python benchmarks/bench_scale.py [--quick] [--json] [--reps N] [--files N] [--workdir DIR]

One repo is generated with benchmarks/make_repo.py: --files model files of three models
each, 100 to a config version (so 1,000 versions at the default 100,000 files, the
layout of the 10,000-file repos of `benchmarks/run`); about 400 MB on disk, 30 s to write.
With --workdir the repo is kept there and reused by the next run with the same --files.

The baseline is benchmarks/parse_all.py: one Python process that walks
versions/*/models/*.json and `json.load`s each file. It, `repo-tools check-index` and
`repo-tools lint` are run interleaved (the order rotates each round), median of --reps
(default 3) after one warm-up each; the warm-up of `lint` is the run whose peak memory
is measured (largest process, and the sampled sum over its process tree). Targets:
lint ≤ 7x the baseline with a peak ≤ 150 MiB, check-index ≤ 1x the baseline.

It takes (30 s to generate) + (reps + 1) x (lint + check-index + baseline): on a busy
2-core machine with the code of 2026-12-01 (lint 25 s, check-index 7 s, baseline 2.4 s)
about 3 minutes, under 2 once the targets are met. --quick: 20,000 files, one round.
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

from _common import peak_memory, print_rows, repo_tools_cmd  # a sibling module: run as a script

HERE = Path(__file__).resolve().parent
LINT_RATIO = 7.0
LINT_PEAK_MIB = 150
CHECK_INDEX_RATIO = 1.0


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def run_once(cmd: list[str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          check=False)
    return time.perf_counter() - start, proc.returncode


def make_repo(workdir: Path, files: int) -> Path:
    sys.path.insert(0, str(HERE))
    from make_repo import generate_repo  # a sibling script, not a package

    root = workdir / f"scale-f{files}"
    done = root / ".generated"
    if not done.exists():
        if root.exists():
            shutil.rmtree(root)
        print(f"generating {files:,} model files in {root} ...", file=sys.stderr, flush=True)
        generate_repo(root, versions=max(1, files // 100), files=files, models=3, seed=0)
        done.write_text("seed 0, 3 models a file\n", encoding="utf-8")
    return root


def exit_note(codes: set[int]) -> str:
    return "" if codes == {0} else f" (exit {sorted(codes)})"


Measured = tuple[dict[str, float], dict[str, set[int]], dict[str, int]]


def measure(repo: Path, reps: int) -> Measured:
    """Medians and exit codes of each command, and the peak memory of lint."""
    tool = repo_tools_cmd()
    commands = {
        "baseline": [sys.executable, str(HERE / "parse_all.py"), "."],
        "check-index": [*tool, "check-index", "--repo", "."],
        "lint": [*tool, "lint", "--repo", "."],
    }
    print("warm-up: baseline, check-index; lint under the memory probe ...", file=sys.stderr,
          flush=True)
    run_once(commands["baseline"], repo)
    run_once(commands["check-index"], repo)
    memory = peak_memory(commands["lint"], repo)
    times: dict[str, list[float]] = {name: [] for name in commands}
    codes: dict[str, set[int]] = {name: {0} if name != "lint" else {memory["code"]}
                                  for name in commands}
    names = list(commands)
    for i in range(reps):
        order = names[i % len(names):] + names[: i % len(names)]
        for name in order:
            elapsed, code = run_once(commands[name], repo)
            times[name].append(elapsed)
            codes[name].add(code)
            print(f"  round {i + 1}/{reps}: {name} {seconds(elapsed)}", file=sys.stderr,
                  flush=True)
    return {name: statistics.median(t) for name, t in times.items()}, codes, memory


def main(argv: list[str] | None = None) -> int:
    # Measure what users get: an installed package keeps compiled bytecode, so do not let
    # PYTHONDONTWRITEBYTECODE (set in some sandboxes) recompile every module on every run.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="20,000 files and one round (unless --files/--reps say otherwise)")
    parser.add_argument("--json", action="store_true", help="print rows as JSON")
    parser.add_argument("--reps", type=int, default=None, help="timed rounds (default 3)")
    parser.add_argument("--files", type=int, default=None,
                        help="model files in the repo (default 100000)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="generate the repo here and keep it (default: a temp dir)")
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.quick else 3)
    files = args.files or (20_000 if args.quick else 100_000)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        median, codes, memory = measure(make_repo(args.workdir, files), reps)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            median, codes, memory = measure(make_repo(Path(tmp), files), reps)
    base = f"{seconds(median['baseline'])} (`json.load` of every file, one process)"
    lint_ratio = median["lint"] / median["baseline"]
    index_ratio = median["check-index"] / median["baseline"]
    peak_kib = max(memory["maxrss_kib"], memory["tree_kib"])
    rows = [
        {"benchmark": f"lint {files:,}-file repo vs parsing every file once "
                      f"(`benchmarks/parse_all.py`), median of {reps}",
         "repo_tools": seconds(median["lint"]) + exit_note(codes["lint"]), "baseline": base,
         "ratio": lint_ratio, "target": f"≤ {LINT_RATIO:.2f}x", "met": lint_ratio <= LINT_RATIO},
        {"benchmark": f"lint {files:,}-file repo: peak memory (largest process; whole tree)",
         "repo_tools": f"{memory['maxrss_kib'] / 1024:.0f} MiB; "
                       f"{memory['tree_kib'] / 1024:.0f} MiB",
         "target": f"≤ {LINT_PEAK_MIB} MiB", "met": peak_kib <= LINT_PEAK_MIB * 1024},
        {"benchmark": f"check-index {files:,}-file repo vs parsing every file once, "
                      f"median of {reps}",
         "repo_tools": seconds(median["check-index"]) + exit_note(codes["check-index"]),
         "baseline": base, "ratio": index_ratio, "target": f"≤ {CHECK_INDEX_RATIO:.2f}x",
         "met": index_ratio <= CHECK_INDEX_RATIO},
    ]
    print_rows(rows, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
