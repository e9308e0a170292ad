#!/usr/bin/env python3
"""Benchmark of the client's repeated `load()` against an HTTP-served release.

    python benchmarks/bench_client.py [--quick] [--json] [--reps N] [--files N]

A config repo from benchmarks/make_repo.py (up to 100 config versions, 3 models a file)
is released with `repo-tools release` and served from its folder by a static server on
127.0.0.1 that answers conditional requests (ETag, Last-Modified, 304), as a CDN does;
the server counts every request, its status and its body bytes. In one process:

* the first `load()` (manifest, signature, bundle);
* a second `load()` with nothing changed: the issue 17 target is at most one request,
  conditional, and no bundle bytes;
* the same against a server that ignores conditional requests (always 200);
* a `load()` within `ClientConfig.refresh_interval` (no request).

Requests and bytes are counts, the same on every run; times are medians of --reps loads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import print_rows, repo_tools_cmd  # a sibling module: run as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the test suite's static server, one implementation

from tests.support.staticserver import Exchange, StaticServer  # noqa: E402

TARGET = "≤ 1 request, conditional, 0 bundle bytes"
REPOSITORY = "bench.example/models"


def make_release(root: Path, files: int) -> tuple[Path, Path, str]:
    """The release folder, its allowed_signers file, and a client version that the
    newest config version admits."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from make_repo import generate_repo

    from repo_tools.release import signing, sshsig

    repo = root / "repo"
    generate_repo(repo, versions=min(100, files), files=files, models=3, seed=0)
    key = Ed25519PrivateKey.generate()
    key_path = root / "release_key"
    key_path.write_bytes(signing.private_key_pem(key, None))
    key_path.chmod(0o600)
    allowed = root / "allowed_signers"
    allowed.write_text(f'release@bench.example namespaces="{sshsig.NAMESPACE}" '
                       f"{sshsig.public_key_line(key.public_key())}\n")
    out = root / "out"
    proc = subprocess.run([*repo_tools_cmd(), "release", "--repo", str(repo), "--key",
                           str(key_path), "--out", str(out), "--created", "now",
                           "--repository", REPOSITORY], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"release failed:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}")
    index = json.loads((repo / "index.json").read_text())
    newest = list(index["versions"].values())[-1]
    return out, allowed, str(newest["min_client_version"])


def summary(log: list[Exchange]) -> str:
    if not log:
        return "0 requests"
    statuses = ", ".join(f"{e.path.rsplit('/', 1)[-1]} {e.status}"
                         f"{' (conditional)' if e.conditional else ''}" for e in log)
    return (f"{len(log)} request{'s' if len(log) != 1 else ''} ({statuses}), "
            f"{sum(e.body_bytes for e in log):,} body bytes")


def bundle_bytes(log: list[Exchange]) -> int:
    return sum(e.body_bytes for e in log if e.path.endswith(".tar"))


def timed(load: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        load()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def measure(out: Path, allowed: Path, version: str, cache: Path, files: int, reps: int,
            honour: bool) -> list[dict[str, Any]]:
    from repo_tools.client import BundleSource, ClientConfig, ConfigClient

    def client(config: ClientConfig | None = None) -> ConfigClient:
        return ConfigClient(version, "linux", source=BundleSource(server.url("/")),
                            allowed_signers=allowed, cache_dir=cache,
                            config=config or ClientConfig())

    rows: list[dict[str, Any]] = []
    with StaticServer(out, honour_conditionals=honour) as server:
        if honour:
            start = time.perf_counter()
            first = client().load()
            elapsed = time.perf_counter() - start
            assert first.check == "downloaded", first.reasons
            rows.append({"benchmark": f"client: first load() ({files:,} files)",
                         "repo_tools": f"{summary(server.take_log())}, {ms(elapsed)}"})
        else:
            client().load()
            server.take_log()
        second = client().load()
        log = server.take_log()
        expected = "not-modified" if honour else "unchanged"
        assert second.check == expected, (second.check, second.reasons)
        seconds = timed(lambda: client().load(), reps)
        server.take_log()
        met = len(log) <= 1 and bundle_bytes(log) == 0 and (not honour or all(
            e.conditional and e.status == 304 for e in log))
        what = "nothing changed" if honour else "server ignores conditional requests"
        rows.append({"benchmark": f"client: second load(), {what}",
                     "repo_tools": f"{summary(log)}, {ms(seconds)}", "target": TARGET,
                     "met": met})
        if honour:
            within = ClientConfig(refresh_interval=3600)
            client(within).load()  # confirms, then the timed loads ask nothing
            server.take_log()
            seconds = timed(lambda: client(within).load(), reps)
            log = server.take_log()
            rows.append({"benchmark": "client: load() within refresh_interval",
                         "repo_tools": f"{summary(log)}, {ms(seconds)}",
                         "target": "0 requests", "met": not log})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 files, 3 runs")
    parser.add_argument("--json", action="store_true", help="print rows as JSON")
    parser.add_argument("--reps", type=int, default=5, help="timed loads (default 5)")
    parser.add_argument("--files", type=int, default=10_000, help="model files (10,000)")
    args = parser.parse_args()
    files, reps = (1_000, 3) if args.quick else (args.files, args.reps)
    with tempfile.TemporaryDirectory(prefix="bench-client-") as tmp:
        root = Path(tmp)
        print(f"releasing a {files:,}-file repo ...", file=sys.stderr, flush=True)
        out, allowed, version = make_release(root, files)
        rows = measure(out, allowed, version, root / "cache", files, reps, honour=True)
        rows += measure(out, allowed, version, root / "cache-plain", files, reps,
                        honour=False)
    print_rows(rows, as_json=args.json)
    return 0 if all(row.get("met", True) for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
