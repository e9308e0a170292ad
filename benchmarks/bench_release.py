#!/usr/bin/env python3
"""Benchmark of `repo-tools release` and `verify` on a 10,000-file config repo.

    python benchmarks/bench_release.py [--quick] [--json] [--reps N] [--files N] [--target-only]

The repo comes from benchmarks/make_repo.py (100 config versions, 3 models a file), is
committed to a git repo in a temp dir, and a fresh Ed25519 key (`repo-tools keygen`)
signs. Timed end to end as subprocesses, median of --reps runs after one warm-up round:

* `lint` alone (the offline checks `release` runs first), so the release's own cost shows;
* `release` into an empty folder (checks + archives + manifest + signature), and its cost
  without the checks (release minus lint) against `tar czf` and `tar cf` of the same tree;
* issue 17's target: release ≤ lint + 3 x `tar czf`, with a peak memory ≤ 200 MiB. The
  warm-up release runs under benchmarks/_common.py's memory probe: the largest process
  (ru_maxrss of the command and the processes it waited for) and the sampled sum over
  its process tree (workers alive at the same time);
* a second `release` (with the previous one to diff against);
* `verify` of the result (with `--all` when verify has it: every archive) against
  `tar xf` of every tar archive in the release folder into a temp dir plus `sha256sum`
  of the files.

Nothing depends on the release's layout: "published" is every file in the release
folder, and the archives are whatever files in it `tarfile` recognises. A release that
fails (exit status not 0) is a row saying so, with the first rule code it printed.
`--target-only` (what `benchmarks/run --scale` runs with 100,000 files): only lint,
release and `tar czf`, and the issue 17 rows.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import peak_memory, print_rows, repo_tools_cmd  # a sibling module: run as a script

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 3.0  # release's own work (without the checks) vs `tar czf`, as issue 9 sets
TARGET_TOTAL = 1.0  # issue 17: release ≤ 1.0 x (lint + 3 x tar czf)
TAR_CZF_TIMES = 3
PEAK_MIB = 200  # issue 17: release's peak memory


class Failed(Exception):
    def __init__(self, code: int, output: str, elapsed: float | None = None) -> None:
        super().__init__(code, output)
        self.code = code
        self.output = output
        self.elapsed = elapsed

    def note(self) -> str:
        """`exit 1: R001 manifest.json is ...`: the first rule code line, else the last."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        coded = [line for line in lines if re.search(r"\b[A-Z]\d{3}\b", line)]
        line = (coded or lines or [""])[0]
        after = "" if self.elapsed is None else f"after {seconds(self.elapsed)}, "
        return f"{after}exit {self.code}" + (f": {line[:160]}" if line else "")


def run(args: list[str], *, cwd: Path | None = None, shell: bool = False) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args if not shell else " ".join(args), cwd=cwd, shell=shell,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise Failed(proc.returncode, proc.stdout[-3000:] + proc.stderr[-3000:], elapsed)
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


def published(folder: Path) -> tuple[int, int]:
    """(bytes, files) of every file under the release folder, whatever its layout."""
    sizes = [p.stat().st_size for p in folder.rglob("*") if p.is_file()]
    return sum(sizes), len(sizes)


def untar_hash_command(folder: Path) -> str:
    """Extract every tar archive of the release (any compression `tar xf` detects), each
    into its own folder, then hash every extracted file."""
    archives = sorted(p for p in folder.rglob("*") if p.is_file() and tarfile.is_tarfile(p))
    if not archives:
        raise SystemExit(f"no tar archive in {folder}")
    steps = [f"mkdir x/{i} && tar xf {shlex.quote(str(a))} -C x/{i}"
             for i, a in enumerate(archives)]
    return " && ".join(["rm -rf x", "mkdir x", *steps,
                        "find x -type f -print0 | xargs -0 sha256sum > /dev/null"])


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    # Measure what users get: an installed package keeps compiled bytecode, so do not let
    # PYTHONDONTWRITEBYTECODE (set in some sandboxes) recompile every module on every run.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 runs instead of --reps")
    parser.add_argument("--json", action="store_true", help="print rows as JSON")
    parser.add_argument("--reps", type=int, default=None,
                        help="runs per command (default 5; 1 with --target-only)")
    parser.add_argument("--files", type=int, default=10_000, help="model files (10,000)")
    parser.add_argument("--target-only", action="store_true",
                        help="only lint, release, tar czf and the issue 17 rows (for the "
                             "100,000-file run of `benchmarks/run --scale`)")
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.target_only else 3 if args.quick else 5)
    tool = repo_tools_cmd()
    verify_help = subprocess.run([*tool, "verify", "--help"], capture_output=True, text=True,
                                 check=False).stdout
    verify_all = ["--all"] if re.search(r"--all(?![\w-])", verify_help) else []
    names = ("lint", "release", "tar_czf") if args.target_only else (
        "lint", "release", "release2", "tar_czf", "tar_cf", "verify", "untar_hash")
    times: dict[str, list[float]] = {k: [] for k in names}
    memory: dict[str, int] = {}
    failed: Failed | None = None
    size = (0, 0)
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"generating and committing a {args.files:,}-file repo ...", file=sys.stderr,
              flush=True)
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
                ("verify", [*tool, "verify", str(out), *verify_all, "--allowed-signers",
                            str(tmp / "key.allowed_signers")], None, False),
                ("untar_hash", ["UNTAR_HASH"], tmp, True),
            ]
            for name, command, cwd, shell in rounds:
                no_release = failed is not None or (i == 0 and memory.get("code", 0) != 0)
                if name not in times or (failed is not None and name == "release") or (
                        no_release and name in ("release2", "verify", "untar_hash")):
                    continue
                if name == "untar_hash":
                    command = [untar_hash_command(out)]
                print(f"  round {i}/{reps}: {name} ...", file=sys.stderr, flush=True)
                if i == 0 and name == "release":  # the warm-up release: its peak memory
                    memory = peak_memory(command, tmp)  # (a failure shows in round 1)
                    if memory["code"] == 0:
                        size = published(out)
                    continue
                try:
                    elapsed = run(command, cwd=cwd, shell=shell)
                except Failed as exc:
                    if name != "release":
                        raise SystemExit(f"{name} failed: {exc.note()}\n{exc.output}") from None
                    failed = exc
                    continue
                if i:
                    times[name].append(elapsed)
            shutil.rmtree(out, ignore_errors=True)
    if failed is None and memory["code"] != 0:
        failed = Failed(memory["code"], "the release under the memory probe failed")
    med = {k: statistics.median(v) for k, v in times.items() if v}
    rows = release_rows(args.files, med, memory, failed, size, reps)
    print_rows(rows, as_json=args.json)
    return 0


def release_rows(files: int, med: dict[str, float], memory: dict[str, int],
                 failed: Failed | None, size: tuple[int, int], reps: int
                 ) -> list[dict[str, Any]]:
    lint, czf = med["lint"], med["tar_czf"]
    budget = lint + TAR_CZF_TIMES * czf
    peak_kib = max(memory.get("maxrss_kib", 0), memory.get("tree_kib", 0))
    memory_text = f"{mib(memory['maxrss_kib'])}; {mib(memory['tree_kib'])}" + (
        " (until the release failed)" if failed else "")
    rows: list[dict[str, Any]] = [
        {"benchmark": f"lint, {files} files (release's checks)",
         "repo_tools": seconds(lint)},
    ]
    if failed is None:
        rel = med["release"]
        rows.append(
            {"benchmark": f"release, {files} files (checks + archives + sign)",
             "repo_tools": f"{seconds(rel)}, {size[0]:,} bytes in {size[1]} files",
             "baseline": f"tar czf {seconds(czf)}", "ratio": rel / czf})
        rows.append(
            {"benchmark": f"release {files:,}-file, 100-version repo vs its lint + "
                          f"{TAR_CZF_TIMES} x tar czf (issue 17), median of {reps}",
             "repo_tools": seconds(rel),
             "baseline": f"lint {seconds(lint)} + {TAR_CZF_TIMES} x tar czf {seconds(czf)}"
                         f" = {seconds(budget)}",
             "ratio": rel / budget, "target": f"≤ {TARGET_TOTAL:.2f}x",
             "met": rel <= TARGET_TOTAL * budget})
    else:
        rows.append(
            {"benchmark": f"release {files:,}-file, 100-version repo vs its lint + "
                          f"{TAR_CZF_TIMES} x tar czf (issue 17)",
             "repo_tools": f"failed ({failed.note()})",
             "baseline": f"lint {seconds(lint)} + {TAR_CZF_TIMES} x tar czf {seconds(czf)}"
                         f" = {seconds(budget)}",
             "target": f"≤ {TARGET_TOTAL:.2f}x", "met": False})
    rows.append(
        {"benchmark": f"release {files:,}-file repo: peak memory (largest process; "
                      "whole tree)",
         "repo_tools": memory_text, "target": f"≤ {PEAK_MIB} MiB",
         "met": failed is None and peak_kib <= PEAK_MIB * 1024})
    if failed is not None or "release2" not in med:
        return rows
    own = max(med["release"] - lint, 0.0)
    rows += [
        {"benchmark": "release without the checks (release - lint)",
         "repo_tools": seconds(own), "baseline": f"tar czf {seconds(czf)}, "
         f"tar cf {seconds(med['tar_cf'])}", "ratio": own / czf,
         "target": f"<= {TARGET_RATIO:.1f}x tar czf",
         "met": own <= TARGET_RATIO * czf},
        {"benchmark": "second release (diff against the first)",
         "repo_tools": seconds(med["release2"])},
        {"benchmark": "verify (signature, manifest, archives, every member)",
         "repo_tools": seconds(med["verify"]),
         "baseline": f"tar xf + sha256sum {seconds(med['untar_hash'])}",
         "ratio": med["verify"] / med["untar_hash"]},
    ]
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
