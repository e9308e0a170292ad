"""Model files: download faults against a real loopback server, the LRU cache, leases,
crash-safe index, two processes at once, and `repo-tools cache`."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repo_tools.client import BundleSource, ConfigClient, DownloadError
from repo_tools.client import cache as cache_module
from repo_tools.client.cache import ModelCache, parse_index
from repo_tools.model import entry_of
from tests.support.client_helpers import (
    FAST,
    IgnoreRange,
    blob,
    capture,
    client_log,
    entry,
    sha,
)
from tests.support.helpers import cli, run_tool
from tests.support.httpserver import Body, LoopbackServer, Reset, Short, Status

SIZE = 20_000


def make_client(root: Path, budget: int | None = None, **options: Any) -> ConfigClient:
    config = dataclasses.replace(FAST, cache_budget_bytes=budget, **options)
    return ConfigClient("1.0.0", source=BundleSource("unused"), cache_dir=root / "cache",
                        config=config)


def served(server: LoopbackServer, name: str, *behaviours: Any,
           data: bytes | None = None, size: bool = True) -> dict[str, Any]:
    data = data if data is not None else blob(name, SIZE)
    url = server.route(f"/{name}.bin", *(behaviours or (Body(data),)))
    return entry(name, url, sha(data), size=len(data) if size else None)


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.name.endswith((".partial", ".tmp")))


# --- downloads ---------------------------------------------------------------------------

def test_a_download_cut_mid_body_resumes(tmp_path: Path, server: LoopbackServer) -> None:
    data = blob("cut", SIZE)
    model = served(server, "cut", Short(data[:12_000], announced=SIZE), Body(data))
    client = make_client(tmp_path)
    with client.ensure(entry_of(model)) as f:
        assert f.path.read_bytes() == data
    gets = [r for r in server.requests if r.method == "GET"]
    assert len(gets) == 2
    assert "Range" not in gets[0].headers
    # Resumed where the written part ends (a chunk boundary at or before the cut).
    start = gets[1].headers["Range"].removeprefix("bytes=").removesuffix("-")
    assert 0 < int(start) <= 12_000
    assert leftovers(tmp_path) == []


def test_a_connection_reset_is_retried(tmp_path: Path, server: LoopbackServer) -> None:
    data = blob("reset", SIZE)
    model = served(server, "reset", Reset(data, sent=5_000), Reset(data, sent=9_000), Body(data))
    with make_client(tmp_path).ensure(entry_of(model)) as f:
        assert f.path.read_bytes() == data
    assert server.body_requests("/reset.bin") == 3


def test_a_partial_file_from_an_earlier_process_is_resumed(tmp_path: Path,
                                                           server: LoopbackServer) -> None:
    data = blob("left", SIZE)
    model = served(server, "left")
    partial = tmp_path / "cache" / "acme" / "left.bin.partial"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data[:7_000])
    with make_client(tmp_path).ensure(entry_of(model)) as f:
        assert f.path.read_bytes() == data
    assert [r.headers.get("Range") for r in server.requests] == ["bytes=7000-"]


def test_a_server_without_ranges_starts_over(tmp_path: Path, server: LoopbackServer) -> None:
    data = blob("norange", SIZE)
    model = served(server, "norange", Short(data[:8_000], announced=SIZE), IgnoreRange(data))
    with make_client(tmp_path).ensure(entry_of(model)) as f:
        assert f.path.read_bytes() == data


def test_a_checksum_mismatch_never_leaves_a_file(tmp_path: Path, server: LoopbackServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    model = served(server, "wrong", Body(b"x" * SIZE), data=blob("wrong", SIZE))
    client = make_client(tmp_path)
    with pytest.raises(DownloadError) as raised:
        client.ensure(entry_of(model))
    assert raised.value.rule.code == "C011"
    cache_root = tmp_path / "cache"
    assert not (cache_root / "acme" / "wrong.bin").exists()
    assert leftovers(tmp_path) == []
    assert client.cache.read().entries == {}
    assert server.body_requests("/wrong.bin") == 1  # a whole download is not retried
    assert "C011" in client_log(caplog)


def test_a_resumed_mismatch_is_downloaded_once_more_from_the_start(
        tmp_path: Path, server: LoopbackServer) -> None:
    # The server's file changed between the two attempts: the joined halves are garbage.
    old, new = blob("v1", SIZE), blob("v2", SIZE)
    model = served(server, "changed", Short(old[:10_000], announced=SIZE), Body(new), data=new)
    with make_client(tmp_path).ensure(entry_of(model)) as f:
        assert f.path.read_bytes() == new
    ranges = [r.headers.get("Range") for r in server.requests]
    assert ranges[0] is None and ranges[1] and ranges[2] is None and len(ranges) == 3


def test_a_larger_body_than_the_config_says_is_cut_off(tmp_path: Path,
                                                       server: LoopbackServer) -> None:
    data = blob("big", SIZE)
    model = served(server, "big", Body(data + b"more"), data=data)
    with pytest.raises(DownloadError) as raised:
        make_client(tmp_path).ensure(entry_of(model))
    assert raised.value.rule.code == "C011"
    assert leftovers(tmp_path) == []


def test_server_errors_are_retried_with_backoff_but_404_is_not(tmp_path: Path,
                                                               server: LoopbackServer) -> None:
    data = blob("flaky", SIZE)
    flaky = served(server, "flaky", Status(503), Status(429, headers={"Retry-After": "0"}),
                   Body(data))
    client = make_client(tmp_path)
    with client.ensure(entry_of(flaky)) as f:
        assert f.path.read_bytes() == data
    assert server.count("/flaky.bin") == 3
    gone = served(server, "gone", Status(404))
    with pytest.raises(DownloadError) as raised:
        client.ensure(entry_of(gone))
    assert raised.value.rule.code == "C010" and "HTTP 404" in raised.value.message
    assert server.count("/gone.bin") == 1


def test_retries_give_up(tmp_path: Path, server: LoopbackServer) -> None:
    model = served(server, "down", Status(500))
    with pytest.raises(DownloadError) as raised:
        client = make_client(tmp_path, network=dataclasses.replace(FAST.network, retries=2))
        client.ensure(entry_of(model))
    assert "after 3 attempts" in raised.value.message
    assert server.count("/down.bin") == 3


def test_secrets_in_download_urls_are_not_shown(tmp_path: Path, server: LoopbackServer) -> None:
    model = served(server, "secret", Status(404))
    model["download"]["url"] += "?X-Amz-Signature=PLANTED-SIGNATURE"
    with pytest.raises(DownloadError) as raised:
        make_client(tmp_path).ensure(entry_of(model))
    assert "PLANTED-SIGNATURE" not in str(raised.value)


# --- using the cache ------------------------------------------------------------------------

def test_a_verified_file_is_not_hashed_or_fetched_again(tmp_path: Path, server: LoopbackServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    model = served(server, "once")
    client = make_client(tmp_path)
    client.ensure(entry_of(model)).release()
    hashed: list[Path] = []
    real = cache_module.sha256_file
    monkeypatch.setattr(cache_module, "sha256_file", lambda p: hashed.append(p) or real(p))
    client.ensure(entry_of(model)).release()
    assert hashed == [] and server.body_requests("/once.bin") == 1
    # A touched file (new mtime) is hashed again, found good, and kept.
    path = tmp_path / "cache" / "acme" / "once.bin"
    os.utime(path, ns=(1, 1))
    client.ensure(entry_of(model)).release()
    assert hashed == [path] and server.body_requests("/once.bin") == 1


def test_a_corrupted_cache_entry_is_downloaded_again(tmp_path: Path, server: LoopbackServer,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    model = served(server, "rot")
    client = make_client(tmp_path)
    with client.ensure(entry_of(model)) as f:
        path = f.path
    path.write_bytes(b"\0" * SIZE)  # bit rot, or a half-copied file
    with client.ensure(entry_of(model)) as f:
        assert f.path.read_bytes() == blob("rot", SIZE)
    assert server.body_requests("/rot.bin") == 2
    assert "C011 cached file acme/rot.bin" in client_log(caplog)


def test_a_file_unknown_to_the_index_is_hashed_before_use(tmp_path: Path,
                                                          server: LoopbackServer) -> None:
    model = served(server, "copied")
    path = tmp_path / "cache" / "acme" / "copied.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(blob("copied", SIZE))  # e.g. copied in by hand, or a crash before indexing
    with make_client(tmp_path).ensure(entry_of(model)) as f:
        assert f.path == path
    assert server.count("/copied.bin") == 0


def test_lru_evicts_the_least_recently_used_and_never_one_in_use(
        tmp_path: Path, server: LoopbackServer) -> None:
    a, b, c, d = (served(server, n) for n in "abcd")
    client = make_client(tmp_path, budget=3 * SIZE)
    held = client.ensure(entry_of(a))  # in use throughout, and the least recently used
    for model in (b, c):
        client.ensure(entry_of(model)).release()
    client.ensure(entry_of(b)).release()  # b is now more recent than c
    client.ensure(entry_of(d)).release()
    cached = set(client.cache.read().entries)
    assert cached == {"acme/a.bin", "acme/b.bin", "acme/d.bin"}
    assert held.path.read_bytes() == blob("a", SIZE)
    held.release()
    client.ensure(entry_of(c)).release()  # now a is free and least recently used
    assert set(client.cache.read().entries) == {"acme/b.bin", "acme/c.bin", "acme/d.bin"}
    assert not (tmp_path / "cache" / "acme" / "a.bin").exists()


def test_a_lease_of_a_dead_process_does_not_pin(tmp_path: Path, server: LoopbackServer) -> None:
    a, b = served(server, "a"), served(server, "b")
    client = make_client(tmp_path, budget=SIZE)
    client.ensure(entry_of(a)).release()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    index = json.loads(client.cache.index_path.read_text())
    index["entries"]["acme/a.bin"]["leases"] = [{"pid": int(dead.stdout), "id": "crashed"}]
    client.cache.index_path.write_text(json.dumps(index))
    client.ensure(entry_of(b)).release()
    assert set(client.cache.read().entries) == {"acme/b.bin"}


def test_a_damaged_index_is_rebuilt_without_trusting_files(tmp_path: Path,
                                                           server: LoopbackServer,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    capture(caplog)
    model = served(server, "idx")
    client = make_client(tmp_path)
    client.ensure(entry_of(model)).release()
    client.cache.index_path.write_bytes(b'{"format": "repo-tools-model-cache/1", "entr')
    with client.ensure(entry_of(model)) as f:  # hashed again (no index entry), found good
        assert f.path.read_bytes() == blob("idx", SIZE)
    assert "damaged" in client_log(caplog)
    assert parse_index(client.cache.index_path.read_bytes()) is not None


def test_an_unsafe_cache_path_is_refused(tmp_path: Path, server: LoopbackServer) -> None:
    client = make_client(tmp_path)
    for bad in ("../escape.bin", ".repo-tools/cache-index.json", "a/./b", "x.partial"):
        model = served(server, "unsafe")
        model["download"]["cachePath"] = bad
        with pytest.raises(ValueError, match="cachePath"):
            client.ensure(entry_of(model))
    assert server.count() == 0


def test_a_model_without_cache_path_is_stored_by_hash(tmp_path: Path,
                                                      server: LoopbackServer) -> None:
    model = served(server, "anon")
    del model["download"]["cachePath"]
    with make_client(tmp_path).ensure(entry_of(model)) as f:
        assert f.path == tmp_path / "cache" / "by-sha256" / model["download"]["sha256"]


# --- two processes at once -----------------------------------------------------------------

WORKER = """
import hashlib, json, random, sys
from pathlib import Path
from repo_tools.client import BundleSource, ClientConfig, ConfigClient
from repo_tools.model import entry_of
from repo_tools.net.limits import NetworkLimits

cache_dir, models_path, seed, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
models = json.loads(Path(models_path).read_text())
client = ConfigClient("1.0.0", source=BundleSource("unused"), cache_dir=Path(cache_dir),
                      config=ClientConfig(cache_budget_bytes=budget, network=NetworkLimits(
                          retries=5, backoff_base=0.001, backoff_cap=0.005)))
rng = random.Random(seed)
for _ in range(25):
    model = rng.choice(models)
    with client.ensure(entry_of(model)) as handle:
        digest = hashlib.sha256(handle.path.read_bytes()).hexdigest()
        assert digest == model["download"]["sha256"], model["model"]
"""


def test_two_processes_filling_the_cache_leave_a_consistent_index(
        tmp_path: Path, server: LoopbackServer) -> None:
    models = [served(server, f"p{i}") for i in range(6)]
    (tmp_path / "models.json").write_text(json.dumps(models))
    (tmp_path / "worker.py").write_text(WORKER)
    budget = 3 * SIZE
    cache_dir = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, str(tmp_path / "worker.py"), str(cache_dir),
                               str(tmp_path / "models.json"), str(seed), str(budget)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for seed in (1, 2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    index = parse_index((cache_dir / ".repo-tools" / "cache-index.json").read_bytes())
    assert index is not None
    by_name = {m["download"]["cachePath"]: m for m in models}
    for path, cached in index.entries.items():
        data = (cache_dir / path).read_bytes()
        assert len(data) == cached.size and sha(data) == cached.sha256
        assert cached.sha256 == by_name[path]["download"]["sha256"]
        assert cached.live_leases() == []
    on_disk = {p.relative_to(cache_dir).as_posix() for p in cache_dir.rglob("*.bin")}
    assert on_disk == set(index.entries)
    assert index.total_bytes() <= budget
    assert leftovers(cache_dir) == []
    assert server.body_requests() > len(models)  # evictions happened and were re-fetched


# --- LRU property -------------------------------------------------------------------------

operations = st.lists(st.tuples(st.sampled_from("abcdef"), st.booleans(),
                                st.integers(1, 5)), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None)
@given(ops=operations, budget_units=st.integers(0, 12))
def test_eviction_is_lru_and_spares_leased_files(ops: list[tuple[str, bool, int]],
                                                 budget_units: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cache = ModelCache(Path(tmp))
        budget = budget_units * 100
        held: dict[str, Any] = {}
        for name, keep, units in ops:
            path = f"m/{name}"
            if name not in held:
                target = cache.file_path(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                data = name.encode() * (units * 100)
                if not target.exists():
                    target.write_bytes(data)
                handle = cache.open_verified(path, sha(target.read_bytes()))
                assert handle is not None
                if keep:
                    held[name] = handle
                else:
                    handle.release()
            before = cache.read()
            removed = cache.evict(budget)
            after = cache.read()
            leased = {f"m/{n}" for n in held}
            assert not leased & set(removed)
            assert all(not Path(tmp, p).exists() for p in removed)
            survivors = [e for p, e in after.entries.items() if p not in leased]
            for gone in removed:
                assert all(before.entries[gone].use < e.use for e in survivors)
            if after.total_bytes() > budget:
                assert survivors == []
        for handle in held.values():
            handle.release()


# --- repo-tools cache ------------------------------------------------------------------------

def test_cache_cli(tmp_path: Path, server: LoopbackServer) -> None:
    a, b = served(server, "a"), served(server, "b")
    client = make_client(tmp_path)
    client.ensure(entry_of(a)).release()
    pinned = client.ensure(entry_of(b))
    cache_dir = tmp_path / "cache"

    run = cli("cache", "ls", "--cache-dir", cache_dir)
    assert run.exit_code == 0
    assert run.stdout.splitlines()[1].split()[-1] == "acme/b.bin"  # most recent first
    assert "2 file(s), 39.1 KiB" in run.stdout
    listed = json.loads(cli("cache", "ls", "--cache-dir", cache_dir, "--format", "json").stdout)
    assert [(e["path"], e["in_use"]) for e in listed["entries"]] == [("acme/b.bin", 1),
                                                                      ("acme/a.bin", 0)]

    assert cli("cache", "verify", "--cache-dir", cache_dir).exit_code == 0
    # Corrupt a with the same size and mtime: only a full verify can notice.
    path = cache_dir / "acme" / "a.bin"
    st_before = path.stat()
    with path.open("r+b") as handle:
        handle.write(b"!")
    os.utime(path, ns=(st_before.st_atime_ns, st_before.st_mtime_ns))
    (cache_dir / "acme" / "c.bin.partial").write_bytes(b"abandoned")
    run = cli("cache", "verify", "--cache-dir", cache_dir, "--format", "json")
    assert run.exit_code == 1
    rules = sorted((f["rule"], f["path"]) for f in json.loads(run.stdout)["findings"])
    assert rules == [("C011", "acme/a.bin"), ("C013", "acme/c.bin")]
    assert not path.exists()

    client.ensure(entry_of(a)).release()
    run = cli("cache", "prune", "--cache-dir", cache_dir, "--max-bytes", "1K")
    assert run.exit_code == 0, run.stderr
    assert "removed partial download acme/c.bin" in run.stdout
    assert "evicted acme/a.bin" in run.stdout and "acme/b.bin" not in run.stdout  # b is in use
    assert set(client.cache.read().entries) == {"acme/b.bin"}
    pinned.release()

    assert cli("cache", "prune", "--cache-dir", cache_dir, "--max-bytes", "lots").exit_code == 2
    assert cli("cache", "ls", "--cache-dir", tmp_path / "nope").exit_code == 2


def test_cache_cli_finds_an_apps_default_cache_by_its_name(
        tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # A client made with app_name and no cache_dir, and `cache ls --app` for the same name.
    monkeypatch.delenv("REPO_TOOLS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    client = ConfigClient("1.0.0", source=BundleSource("unused"), app_name="my-app",
                          config=FAST)
    client.ensure(entry_of(served(server, "a"))).release()
    listed = json.loads(cli("cache", "ls", "--app", "my-app", "--format", "json").stdout)
    assert [e["path"] for e in listed["entries"]] == ["acme/a.bin"]
    missing = cli("cache", "ls")
    assert missing.exit_code == 2 and "--app NAME" in missing.stderr


def test_cache_verify_drops_entries_whose_file_is_gone_or_a_symlink(
        tmp_path: Path, server: LoopbackServer) -> None:
    a, b, c = served(server, "a"), served(server, "b"), served(server, "c")
    client = make_client(tmp_path)
    for model in (a, b, c):
        client.ensure(entry_of(model)).release()
    cache_dir = tmp_path / "cache"
    (cache_dir / "acme" / "a.bin").unlink()  # deleted behind the cache's back
    target = tmp_path / "elsewhere.bin"
    (cache_dir / "acme" / "b.bin").rename(target)
    (cache_dir / "acme" / "b.bin").symlink_to(target)  # a link the cache never follows
    run = cli("cache", "verify", "--cache-dir", cache_dir, "--format", "json")
    assert run.exit_code == 0, run.stdout  # C012 is a warning: nothing is wrong any more
    found = {(f["rule"], f["path"], f["severity"]): f["message"]
             for f in json.loads(run.stdout)["findings"]}
    assert set(found) == {("C012", "acme/a.bin", "warning"), ("C012", "acme/b.bin", "warning")}
    assert found["C012", "acme/a.bin", "warning"] == "file is gone; dropped from the index"
    assert "symbolic link" in found["C012", "acme/b.bin", "warning"]
    assert target.exists()  # the link is dropped from the index, its target left alone
    assert set(client.cache.read().entries) == {"acme/c.bin"}
    assert cli("cache", "verify", "--cache-dir", cache_dir, "--strict").exit_code == 0
    # Once dropped, the file is downloaded again when next needed.
    with client.ensure(entry_of(a)) as again:
        assert again.path.read_bytes() == blob("a", SIZE)
    assert server.body_requests("/a.bin") == 2


@pytest.mark.parametrize("used_at", ["1e308", "-1e20", "NaN", "Infinity", "true"])
def test_an_impossible_use_time_is_a_damaged_entry(tmp_path: Path, used_at: str) -> None:
    # A damaged index must not crash `cache ls` (datetime cannot show these times); the
    # entry is dropped, so its file is hashed again before it is used.
    good = ('"size": 1, "mtime_ns": 1, "inode": 1, "use": 1, "leases": [], '
            f'"sha256": "{"a" * 64}"')
    index = tmp_path / ".repo-tools" / "cache-index.json"
    index.parent.mkdir()
    index.write_text('{"format": "repo-tools-model-cache/1", "clock": 2, "entries": {'
                     f'"m/bad.bin": {{{good}, "used_at": {used_at}}}, '
                     f'"m/ok.bin": {{{good}, "used_at": 1700000000.5}}}}}}')
    assert set(ModelCache(tmp_path).read().entries) == {"m/ok.bin"}
    run = run_tool("cache", "ls", "--cache-dir", tmp_path)
    assert run.exit_code == 0 and "Traceback" not in run.stderr, run.stderr
    assert "m/ok.bin" in run.stdout and "m/bad.bin" not in run.stdout


def test_something_in_the_way_at_the_cache_path_is_a_download_error(
        tmp_path: Path, server: LoopbackServer) -> None:
    model = served(server, "blocked")
    client = make_client(tmp_path)
    in_the_way = client.cache.file_path(model["download"]["cachePath"])
    in_the_way.mkdir(parents=True)
    (in_the_way / "other.gguf").write_bytes(b"another model's file")
    with pytest.raises(DownloadError) as raised:
        client.ensure(entry_of(model))
    assert raised.value.rule.code == "C010"
    assert (in_the_way / "other.gguf").read_bytes() == b"another model's file"


# --- links inside the cache ---------------------------------------------------------------

def test_links_inside_the_cache_are_never_written_or_deleted_through(
        tmp_path: Path, server: LoopbackServer) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.bin"
    victim.write_bytes(b"not the cache's")
    cache_dir = tmp_path / "cache"
    client = make_client(tmp_path)
    (cache_dir / "p").mkdir(parents=True)
    plants = {"folder/a.bin": (cache_dir / "folder", outside),    # a linked sub-folder
              "p/b.bin": (cache_dir / "p" / "b.bin", victim),      # a linked file
              "p/c.bin": (cache_dir / "p" / "c.bin.partial", victim)}  # a linked partial
    for cache_path, (link, target) in plants.items():
        link.symlink_to(target)
        model = served(server, cache_path.replace("/", "-"))
        model["download"]["cachePath"] = cache_path
        with pytest.raises(DownloadError) as raised:
            client.ensure(entry_of(model))
        assert raised.value.rule.code == "C010" and "symbolic link" in raised.value.message
    assert server.count() == 0
    assert sorted(p.name for p in outside.iterdir()) == ["victim.bin"]
    assert victim.read_bytes() == b"not the cache's"

    # Links planted after files were cached: eviction and verify delete nothing outside.
    kept = outside / "kept"
    for name in ("e", "v"):
        client.ensure(entry_of(served(server, name, data=blob(name, SIZE)))).release()
    (cache_dir / "acme").rename(kept)
    (cache_dir / "acme").symlink_to(kept)
    (kept / "v.bin").write_bytes(b"\0" * SIZE)  # a mismatch verify would delete
    run = cli("cache", "verify", "--cache-dir", cache_dir, "--format", "json")
    assert "Traceback" not in run.stderr
    found = sorted((f["rule"], f["path"]) for f in json.loads(run.stdout)["findings"])
    assert found == [("C012", "acme/e.bin"), ("C012", "acme/v.bin")]
    assert "symbolic link" in run.stdout
    assert sorted(p.name for p in kept.iterdir()) == ["e.bin", "v.bin"]
    assert client.cache.read().entries == {}

    # The same through eviction: the entries are dropped, the files stay.
    (cache_dir / "acme").unlink()
    kept.rename(cache_dir / "acme")
    client.ensure(entry_of(served(server, "e", data=blob("e", SIZE)))).release()
    (cache_dir / "acme").rename(kept)
    (cache_dir / "acme").symlink_to(kept)
    assert client.cache.evict(0) == []
    assert client.cache.read().entries == {}
    assert (kept / "e.bin").read_bytes() == blob("e", SIZE)


def test_cache_dir_itself_may_be_a_link(tmp_path: Path, server: LoopbackServer) -> None:
    other_disk = tmp_path / "other-disk"
    other_disk.mkdir()
    (tmp_path / "cache").symlink_to(other_disk)
    a, b = served(server, "a"), served(server, "b")
    client = make_client(tmp_path, budget=SIZE)
    client.ensure(entry_of(a)).release()
    client.ensure(entry_of(b)).release()  # evicts a
    assert sorted(p.name for p in (other_disk / "acme").iterdir()) == ["b.bin"]
    assert cli("cache", "verify", "--cache-dir", tmp_path / "cache").exit_code == 0


# --- partial downloads and hung lock holders ----------------------------------------------

HOLDER = """
import sys, time
from pathlib import Path
from repo_tools.client.cache import ModelCache
from repo_tools.locks import exclusive

kind, root, what = sys.argv[1:4]
lock = ModelCache(Path(root)).file_lock(what) if kind == "file" else exclusive(Path(what))
with lock:
    print("held", flush=True)
    time.sleep(120)
"""


class Holder:
    """A real second process holding a lock until it is killed (as a hung one would)."""

    def __init__(self, tmp: Path, kind: str, root: Path, what: str | Path) -> None:
        script = tmp / "holder.py"
        script.write_text(HOLDER)
        self.proc = subprocess.Popen([sys.executable, str(script), kind, str(root), str(what)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "held\n"

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def test_partial_downloads_are_listed_counted_and_pruned(tmp_path: Path,
                                                         server: LoopbackServer) -> None:
    cache_dir = tmp_path / "cache"
    (cache_dir / "acme").mkdir(parents=True)
    abandoned = cache_dir / "acme" / "c.bin.partial"
    abandoned.write_bytes(b"\1" * (2 * SIZE))  # left by an interrupted download
    run = cli("cache", "ls", "--cache-dir", cache_dir)
    assert run.exit_code == 0 and "the cache is empty" not in run.stdout
    assert "acme/c.bin.partial" in run.stdout and "(partial)" in run.stdout
    assert "0 file(s), 0 B; 1 partial download(s), 39.1 KiB" in run.stdout

    # Another process is downloading e right now: its partial is counted, never removed.
    writing = cache_dir / "acme" / "e.bin.partial"
    writing.write_bytes(b"\2" * SIZE)
    holder = Holder(tmp_path, "file", cache_dir, "acme/e.bin")
    try:
        listed = json.loads(cli("cache", "ls", "--cache-dir", cache_dir, "--format",
                                "json").stdout)
        assert [(p["path"], p["size"], p["in_progress"]) for p in listed["partials"]] == [
            ("acme/c.bin.partial", 2 * SIZE, False), ("acme/e.bin.partial", SIZE, True)]

        # Budget 3 units, partials 3: the abandoned one goes first (for a), then LRU a (for b);
        # the one being written stays and counts.
        client = make_client(tmp_path, budget=3 * SIZE)
        a, b, d = (served(server, n) for n in "abd")
        client.ensure(entry_of(a)).release()
        client.ensure(entry_of(b)).release()
        client.ensure(entry_of(d)).release()
        assert not abandoned.exists()
        assert set(client.cache.read().entries) == {"acme/b.bin", "acme/d.bin"}
        assert writing.read_bytes() == b"\2" * SIZE

        run = cli("cache", "prune", "--cache-dir", cache_dir)
        assert run.exit_code == 0 and "removed 0 partial" in run.stdout
        assert writing.exists()
    finally:
        holder.kill()
    run = cli("cache", "prune", "--cache-dir", cache_dir)  # the writer died: abandoned now
    assert "removed partial download acme/e.bin" in run.stdout and not writing.exists()


def test_a_hung_lock_holder_is_a_clear_error(tmp_path: Path, server: LoopbackServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from repo_tools import locks

    model = served(server, "a")
    client = make_client(tmp_path)
    client.ensure(entry_of(model)).release()
    cache_dir = tmp_path / "cache"
    index_lock = cache_dir / ".repo-tools" / "cache-index.json.lock"
    holder = Holder(tmp_path, "path", cache_dir, index_lock)
    try:
        started = time.monotonic()
        with pytest.raises(locks.LockTimeout) as raised, locks.exclusive(index_lock,
                                                                          timeout=0.3):
            pass
        assert 0.3 <= time.monotonic() - started < 10
        assert isinstance(raised.value, OSError)
        assert str(raised.value).startswith(
            f"another repo-tools process holds the lock {index_lock}")

        monkeypatch.setattr(locks, "DEFAULT_TIMEOUT", 0.3)
        for command in ("prune", "verify"):
            run = cli("cache", command, "--cache-dir", cache_dir)
            assert run.exit_code == 2, (command, run.stdout, run.stderr)
            assert f"holds the lock {index_lock}" in run.stderr
        with pytest.raises(OSError, match="another repo-tools process holds the lock"):
            client.ensure(entry_of(model))  # as any other I/O failure of the cache
    finally:
        holder.kill()
    assert cli("cache", "prune", "--cache-dir", cache_dir).exit_code == 0  # death released it
    client.ensure(entry_of(model)).release()
