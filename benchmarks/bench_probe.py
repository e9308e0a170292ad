#!/usr/bin/env python3
"""Benchmarks of `repo-tools probe` on loopback.

1. Hashing: a 1 GiB file served on 127.0.0.1; `repo-tools probe --hash=full` against
   `curl -s URL | openssl dgst -sha256` (a pipeline, so curl receives while openssl
   hashes). Target: ratio <= 1.0, i.e. probe overlaps receiving and hashing too.
   Also the peak memory of the probe process (it must not hold the file).
2. Concurrency: 200 URLs on a server that waits 200 ms before each answer; one
   `repo-tools probe` over all of them against the 40 s a one-at-a-time checker needs.

    python benchmarks/bench_probe.py [--quick] [--json] [--reps N] [--size-mib N]

The server sends the file with sendfile(2), so it costs the two cores little; both sides
are timed as whole commands (start-up included), interleaved, median of --reps.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _common import print_rows, repo_tools_cmd  # a sibling module: run as a script

ROOT = Path(__file__).resolve().parent.parent
DELAY = 0.2
DELAYED_URLS = 200


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    big: Path

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        if self.path.startswith("/slow/"):
            time.sleep(DELAY)
            data = self.path.encode()
            self._head(len(data), etag=None)
            if body:
                self.wfile.write(data)
            return
        size = self.big.stat().st_size
        self._head(size, etag='"big-1"')
        if body:
            self.wfile.flush()
            with self.big.open("rb") as handle:
                offset = 0
                while offset < size:
                    sent = os.sendfile(self.connection.fileno(), handle.fileno(), offset,
                                       size - offset)
                    if sent == 0:
                        break
                    offset += sent

    def _head(self, length: int, etag: str | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()


@contextlib.contextmanager
def served(big: Path) -> Iterator[str]:
    """A loopback server of `big` (and of /slow/ paths) for the block; yields its root URL."""
    handler = type("Handler", (_Handler,), {"big": big})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def make_big_file(path: Path, mib: int) -> str:
    block = os.urandom(16 << 20)
    sha = hashlib.sha256()
    with path.open("wb") as handle:
        for i in range(0, mib, 16):
            part = block[: min(16, mib - i) << 20]
            # Vary each block so no layer can shortcut repeated data.
            part = i.to_bytes(8, "little") + part[8:]
            handle.write(part)
            sha.update(part)
    return sha.hexdigest()


def write_repo(root: Path, urls: list[tuple[str, str]]) -> Path:
    models = [{
        "model": f"bench-{i}", "provider": "bench", "version": "1.0.0",
        "download": {"url": url, "sha256": sha},
    } for i, (url, sha) in enumerate(urls)]
    path = root / "versions" / "v1.0.0" / "models" / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema_version": "2.0", "models": models}, indent=2) + "\n")
    return path


def timed(cmd: list[str], **kwargs: object) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start, proc


def peak_rss_mib(cmd: list[str]) -> float:
    """ru_maxrss of cmd, run as the only child of a fresh interpreter."""
    code = ("import resource, subprocess, sys;"
            "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True,
                         check=True).stdout
    return int(out) / 1024


def bench_hash(work: Path, mib: int, reps: int) -> list[dict[str, object]]:
    big = work / "big.bin"
    print(f"writing a {mib} MiB file ...", file=sys.stderr, flush=True)
    digest = make_big_file(big, mib)
    try:
        with served(big) as root:
            rss, a, b = _time_hash(work, f"{root}/big.bin", digest, reps)
    finally:
        big.unlink()
    fixed_ours, fixed_base = fixed_costs(work, reps)
    ours_s, base_s = statistics.median(a), statistics.median(b)
    ratio = ours_s / base_s
    size = f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib} MiB"
    stream_ours, stream_base = ours_s - fixed_ours, base_s - fixed_base
    return [
        {"benchmark": f"probe --hash=full, {size} on loopback vs `curl -s | openssl dgst "
                      f"-sha256`, median of {reps}",
         "repo_tools": f"{ours_s:.2f} s ({mib / ours_s:.0f} MiB/s)",
         "baseline": f"{base_s:.2f} s ({mib / base_s:.0f} MiB/s)",
         "ratio": round(ratio, 3), "target": "≤ 1.00x", "met": ratio <= 1.0},
        {"benchmark": f"the same, fixed cost: a 1 KiB file (start-up, imports, one request), "
                      f"median of {reps}",
         "repo_tools": f"{fixed_ours * 1000:.0f} ms", "baseline": f"{fixed_base * 1000:.0f} ms",
         "ratio": round(fixed_ours / fixed_base, 3), "target": "—", "met": None},
        {"benchmark": f"the same, streaming only: {size} time less the fixed cost",
         "repo_tools": f"{stream_ours:.2f} s ({mib / stream_ours:.0f} MiB/s)",
         "baseline": f"{stream_base:.2f} s ({mib / stream_base:.0f} MiB/s)",
         "ratio": round(stream_ours / stream_base, 3), "target": "—", "met": None},
        {"benchmark": f"probe --hash=full, {size}: peak memory of the probe process",
         "repo_tools": f"{rss:.0f} MiB", "baseline": "—", "ratio": None,
         "target": "flat (< 100 MiB)", "met": rss < 100},
    ]


def _time_hash(work: Path, url: str, digest: str,
               reps: int) -> tuple[float, list[float], list[float]]:
    """Peak memory of probe, and the interleaved times of probe and curl | openssl."""
    ours, base = _hash_commands(work / "hash-repo", url, digest)
    for cmd in (ours, base):  # warm-up: page cache, imports
        _, proc = timed(cmd)
    if digest not in proc.stdout:
        raise SystemExit(f"curl | openssl gave an unexpected digest: {proc.stdout}")
    a: list[float] = []
    b: list[float] = []
    for i in range(reps):
        order = ((ours, a), (base, b)) if i % 2 == 0 else ((base, b), (ours, a))
        for cmd, times in order:
            elapsed, proc = timed(cmd)
            if cmd is ours and (proc.returncode != 0 or
                                json.loads(proc.stdout)["findings"]):
                raise SystemExit(f"probe failed: {proc.stdout} {proc.stderr}")
            times.append(elapsed)
        print(f"  run {i + 1}: probe {a[-1]:.2f} s, curl|openssl {b[-1]:.2f} s",
              file=sys.stderr, flush=True)
    rss = peak_rss_mib(ours)
    return rss, a, b


def _hash_commands(repo: Path, url: str, digest: str) -> tuple[list[str], list[str]]:
    """probe --hash=full of a one-model repo for url, and `curl | openssl` of the same."""
    model_file = write_repo(repo, [(url, digest)])
    ours = [*repo_tools_cmd(), "probe", "--hash=full", "--no-cache", "--format", "json",
            str(model_file)]
    return ours, ["sh", "-c", f"curl -s {url} | openssl dgst -sha256"]


def fixed_costs(work: Path, reps: int) -> tuple[float, float]:
    """Median wall time of both commands on a 1 KiB file: what does not scale with size."""
    small = work / "small.bin"
    digest = _write_small(small)
    try:
        with served(small) as root:
            ours, base = _hash_commands(work / "small-repo", f"{root}/small.bin", digest)
            a = [timed(ours)[0] for _ in range(reps)]
            b = [timed(base)[0] for _ in range(reps)]
    finally:
        small.unlink()
    return statistics.median(a), statistics.median(b)


def _write_small(path: Path) -> str:
    data = os.urandom(1024)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def bench_concurrency(work: Path, count: int) -> list[dict[str, object]]:
    with served(work / "unused") as root:
        urls = [(f"{root}/slow/{i}", "0" * 64) for i in range(count)]
        model_file = write_repo(work / "slow-repo", urls)
        cmd = [*repo_tools_cmd(), "probe", "--no-cache", "--format", "json", str(model_file)]
        elapsed, proc = timed(cmd)
    doc = json.loads(proc.stdout)
    if doc["findings"]:
        raise SystemExit(f"probe reported findings: {doc['findings'][:3]}")
    serial = count * DELAY
    return [{
        "benchmark": f"probe {count} URLs, server delays each answer {DELAY * 1000:.0f} ms "
                     "(default --jobs 8) vs one at a time",
        "repo_tools": f"{elapsed:.2f} s",
        "baseline": f"{serial:.0f} s (serial, {count} x {DELAY} s)",
        "ratio": round(elapsed / serial, 3), "target": "well under serial (≤ 0.25x)",
        "met": elapsed / serial <= 0.25,
    }]


def main(argv: list[str] | None = None) -> int:
    # Measure what users get: an installed package keeps compiled bytecode, so do not let
    # PYTHONDONTWRITEBYTECODE (set in some sandboxes) recompile every module on every run.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="256 MiB, 1 repetition")
    parser.add_argument("--json", action="store_true", help="print rows as JSON")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3)")
    parser.add_argument("--size-mib", type=int, default=None, help="file size (default 1024)")
    args = parser.parse_args(argv)
    reps = args.reps or (1 if args.quick else 3)
    mib = args.size_mib or (256 if args.quick else 1024)
    if not shutil.which("curl") or not shutil.which("openssl"):
        raise SystemExit("needs curl and openssl")
    work = Path(tempfile.mkdtemp(prefix="bench-probe-"))
    try:
        rows = bench_hash(work, mib, reps) + bench_concurrency(work, DELAYED_URLS)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_rows(rows, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
