#!/usr/bin/env python3
"""Issue 20's target: `probe --shard K/4` in 4 processes at once against one unsharded run.

2,000 distinct URLs in 2,200 entries (200 entries reuse a URL, in another file) on a
loopback server that answers every request after 50 ms. Both sides run
`repo-tools probe --hash --no-cache --jobs J` (the same J); the sharded side starts the
4 shard processes at once and then merges their reports with `probe-merge`.

Reported: the wall times and their ratio (target <= 0.35x: the 4 shards' wall time
against the unsharded run's), the requests per URL on each side (target: the same for
every URL), and whether the merged findings equal the unsharded run's (target: equal).
The catalogue has findings of its own (404s, a missing and a wrong sha256 here and
there) so that "equal" compares something.

    python benchmarks/bench_probe_shard.py [--quick] [--json] [--reps N] [--jobs J]
    benchmarks/run --only probe-shard

The work is I/O-bound (50 ms per request), so a busy machine slows it less than most
benchmarks; the load average before and after is printed with the rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _common import print_rows, repo_tools_cmd  # a sibling module: run as a script

DELAY = 0.05
URLS = 2000
SHARED = 200  # entries of a second file that reuse URLs of the first
SHARDS = 4


def body_of(path: str) -> bytes:
    return hashlib.sha256(path.encode()).digest() * 4


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body leave in one write, as real servers send them: unbuffered, the body's
    # small second packet waits for the client's delayed ACK (~40 ms) under Nagle, which
    # would measure the kernel's timers instead of either side.
    wbufsize = 1 << 16
    counts: Counter[tuple[str, str]]
    lock: threading.Lock

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        with self.lock:
            self.counts[(self.command, self.path)] += 1
        time.sleep(DELAY)
        if self.path.startswith("/gone/"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = body_of(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{hashlib.md5(data).hexdigest()}"')
        self.end_headers()
        if body:
            self.wfile.write(data)


class Server:
    def __init__(self) -> None:
        handler = type("Handler", (_Handler,), {"counts": Counter(), "lock": threading.Lock()})
        self.handler = handler
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 128
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def take_counts(self) -> Counter[tuple[str, str]]:
        with self.handler.lock:
            counts = Counter(self.handler.counts)
            self.handler.counts.clear()
        return counts

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_catalogue(root: Path, server: str) -> None:
    def entry(i: int, name: str) -> dict[str, Any]:
        path = f"/gone/{i}.bin" if i % 97 == 0 else f"/m/{i}.bin"
        download: dict[str, Any] = {"url": server + path, "cachePath": f"m/{i}.bin"}
        if i % 101 != 0:  # every 101st has none: P011
            digest = hashlib.sha256(body_of(path)).hexdigest()
            download["sha256"] = "0" * 64 if i % 103 == 0 else digest  # P006
        return {"model": f"{name}-{i}", "provider": "bench", "version": "1.0.0",
                "download": download}

    files = {
        "v1.0.0/models/a.json": [entry(i, "a") for i in range(0, URLS // 2)],
        "v1.0.0/models/b.json": [entry(i, "b") for i in range(URLS // 2, URLS)],
        "v1.1.0/models/shared.json": [entry(i * (URLS // SHARED), "s") for i in range(SHARED)],
    }
    for name, models in files.items():
        path = root / "versions" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"schema_version": "2.0", "models": models}, indent=2)
                        + "\n")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def probe_cmd(jobs: int, *extra: str) -> list[str]:
    return [*repo_tools_cmd(), "probe", "--hash", "--no-cache", "--jobs", str(jobs),
            "--format", "json", *extra]


def unsharded(repo: Path, jobs: int) -> tuple[float, dict[str, Any], int]:
    start = time.perf_counter()
    proc = subprocess.run(probe_cmd(jobs), cwd=repo, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"unsharded probe failed ({proc.returncode}): {proc.stderr}")
    return elapsed, json.loads(proc.stdout), proc.returncode


def sharded(repo: Path, jobs: int) -> tuple[float, float, dict[str, Any], int]:
    start = time.perf_counter()
    procs = [subprocess.Popen(probe_cmd(jobs, "--shard", f"{k}/{SHARDS}", "--report",
                                        f"report-{k}.json"),
                              cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
             for k in range(1, SHARDS + 1)]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode not in (0, 1):
            raise SystemExit(f"a shard failed ({proc.returncode}): {err}")
    shards_done = time.perf_counter() - start
    merged = subprocess.run([*repo_tools_cmd(), "probe-merge", "--format", "json",
                             *(f"report-{k}.json" for k in range(1, SHARDS + 1))],
                            cwd=repo, capture_output=True, text=True, check=False)
    total = time.perf_counter() - start
    if merged.returncode not in (0, 1):
        raise SystemExit(f"probe-merge failed ({merged.returncode}): {merged.stderr}")
    return shards_done, total, json.loads(merged.stdout), merged.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repetition (the default)")
    parser.add_argument("--json", action="store_true", help="rows as JSON for benchmarks/run")
    parser.add_argument("--reps", type=int, default=1, help="repetitions, interleaved")
    parser.add_argument("--jobs", type=int, default=8,
                        help="--jobs of every probe process, sharded or not (default 8)")
    args = parser.parse_args()
    reps = 1 if args.quick else max(1, args.reps)
    load_before = loadavg()
    server = Server()
    whole_times: list[float] = []
    shard_times: list[float] = []
    total_times: list[float] = []
    same_requests = same_findings = True
    per_url: set[int] = set()
    per_url_sharded: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="repo-tools-shard-bench-") as work:
        repo = Path(work)
        write_catalogue(repo, server.root)
        for rep in range(reps):
            # Alternate which side goes first, so a change in load hits both alike.
            order = ("whole", "shards") if rep % 2 == 0 else ("shards", "whole")
            results: dict[str, Any] = {}
            for side in order:
                server.take_counts()
                if side == "whole":
                    results["whole"] = (*unsharded(repo, args.jobs), server.take_counts())
                else:
                    results["shards"] = (*sharded(repo, args.jobs), server.take_counts())
            whole_s, whole_doc, whole_code, whole_counts = results["whole"]
            shard_s, total_s, merged_doc, merged_code, shard_counts = results["shards"]
            whole_times.append(whole_s)
            shard_times.append(shard_s)
            total_times.append(total_s)
            same_requests &= whole_counts == shard_counts
            same_findings &= whole_doc == merged_doc and whole_code == merged_code
            per_url |= set(Counter(p for (_m, p) in whole_counts.elements()).values())
            per_url_sharded |= set(Counter(p for (_m, p) in shard_counts.elements()).values())
            findings = len(whole_doc["findings"])
    server.close()
    whole, shards, total = (statistics.median(t) for t in (whole_times, shard_times,
                                                           total_times))
    ratio = shards / whole
    entries = URLS + SHARED
    rows = [
        {"benchmark": f"probe --shard, {SHARDS} processes at once vs one run "
                      f"({URLS:,} URLs, {entries:,} entries, {DELAY * 1000:.0f} ms per "
                      f"request, --jobs {args.jobs})",
         "repo_tools": f"{shards:.1f} s ({total:.1f} s with probe-merge)",
         "baseline": f"{whole:.1f} s unsharded", "ratio": ratio, "target": "≤ 0.35x",
         "met": ratio <= 0.35},
        {"benchmark": "probe --shard: requests per URL, sharded total vs unsharded",
         "repo_tools": f"{'/'.join(map(str, sorted(per_url_sharded)))} per URL",
         "baseline": f"{'/'.join(map(str, sorted(per_url)))} per URL",
         "target": "equal for every URL", "met": same_requests},
        {"benchmark": "probe-merge findings vs unsharded findings",
         "repo_tools": f"{findings} findings, {'equal' if same_findings else 'DIFFERENT'}",
         "target": "equal", "met": same_findings},
    ]
    print_rows(rows, as_json=args.json)
    if not args.json:
        print(f"\nreps {reps}; wall times {', '.join(f'{t:.1f}' for t in whole_times)} s "
              f"unsharded, {', '.join(f'{t:.1f}' for t in shard_times)} s sharded; "
              f"load average {load_before} before, {loadavg()} after; "
              f"{os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
