"""The client as an application developer uses it: progress, cancel and resume against a
real server serving a large file slowly, offline with zero requests, events, per-origin
credentials and headers, mirrors, verify_on_use, the default cache directory, the public
`download()`, and the one error family."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import repo_tools.client as client_api
from repo_tools.client import (
    BundleSource,
    Cancelled,
    ClientConfig,
    ClientError,
    ConfigClient,
    Credentials,
    DownloadError,
    NotDownloadable,
    Source,
    download,
)
from repo_tools.client.events import Event
from repo_tools.client.progress import Throttle
from repo_tools.findings import RuleError
from repo_tools.model import ModelEntry, entry_of
from tests.support.client_helpers import (
    FAST,
    Lab,
    blob,
    capture,
    client_log,
    entry,
    fake_sha,
    sha,
)
from tests.support.helpers import cli
from tests.support.httpserver import (
    Body,
    Delay,
    LoopbackServer,
    Paced,
    Redirect,
    RequireHeader,
    Stall,
    Status,
)

BIG = 4 * 1024 * 1024  # served in 64 KiB steps every 10 ms: about 0.6 s in all


def make_client(root: Path, **options: Any) -> ConfigClient:
    return ConfigClient("1.0.0", source=BundleSource("unused"), cache_dir=root / "cache",
                        config=dataclasses.replace(FAST, **options))


def served(server: LoopbackServer, name: str, *behaviours: Any, data: bytes,
           size: bool = True) -> ModelEntry:
    url = server.route(f"/{name}.bin", *(behaviours or (Body(data),)))
    return entry_of(entry(name, url, sha(data), size=len(data) if size else None))


class Calls:
    """A progress callback that records its calls."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int | None]] = []

    def __call__(self, done: int, total: int | None) -> None:
        self.seen.append((done, total))


# --- progress ----------------------------------------------------------------------------

@pytest.mark.parametrize("declared", [True, False])
def test_progress_rises_as_bytes_arrive_and_ends_at_the_total(
        tmp_path: Path, server: LoopbackServer, declared: bool) -> None:
    data = blob("big", BIG)
    model = served(server, "big", Paced(data), data=data, size=declared)
    calls = Calls()
    with make_client(tmp_path).ensure(model, progress=calls) as f:
        assert f.path.read_bytes() == data
    dones = [done for done, _ in calls.seen]
    assert dones == sorted(set(dones)), "strictly increasing"
    assert calls.seen[-1] == (BIG, BIG)
    assert len(calls.seen) >= 3  # while bytes arrived, not only at the end
    # Content-Length gives the total when the entry declares no size.
    assert all(total == BIG for _, total in calls.seen)


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 5000), st.floats(0, 0.3)), max_size=60),
       total=st.integers(0, 10_000))
def test_throttled_progress_is_monotonic_and_keeps_the_final_count(
        steps: list[tuple[int, float]], total: int) -> None:
    # Counts may fall (a server that ignores the resume starts over): never shown.
    now = [0.0]
    throttle = Throttle(interval=0.1, clock=lambda: now[0])
    shown = []
    for done, pause in steps:
        now[0] += pause
        if throttle.due(min(done, total)):
            shown.append(min(done, total))
    if throttle.due(total, final=True):
        shown.append(total)
    assert shown == sorted(set(shown))  # strictly increasing
    assert shown[-1] == total  # and the last one is the total


# --- cancel and resume -------------------------------------------------------------------

def test_cancel_keeps_the_partial_file_and_the_next_ensure_resumes(
        tmp_path: Path, server: LoopbackServer) -> None:
    data = blob("big", BIG)
    model = served(server, "big", Paced(data), data=data)
    client = make_client(tmp_path)
    stop = threading.Event()

    def progress(done: int, total: int | None) -> None:
        if done >= BIG // 3:
            stop.set()

    with pytest.raises(Cancelled) as raised:
        client.ensure(model, progress=progress, cancel=stop)
    error = raised.value
    assert isinstance(error, ClientError) and isinstance(error, RuleError)
    assert error.code == "C014"
    partial = client.cache.partial_path("acme/big.bin")
    kept = partial.stat().st_size
    assert BIG // 3 <= kept < BIG and error.done_bytes == kept
    assert data.startswith(partial.read_bytes())
    assert not client.cache.file_path("acme/big.bin").exists()

    server.reset_log()
    calls = Calls()
    with client.ensure(model, progress=calls) as f:
        assert hashlib.sha256(f.path.read_bytes()).hexdigest() == sha(data)
    [resumed] = server.requests
    assert resumed.headers["Range"] == f"bytes={kept}-"
    assert calls.seen[0][0] >= kept and calls.seen[-1] == (BIG, BIG)


def test_a_cancel_wakes_a_read_waiting_on_a_silent_server(tmp_path: Path,
                                                          server: LoopbackServer) -> None:
    data = blob("silent", 100_000)
    model = served(server, "silent", Stall(data, 30_000, seconds=30), data=data)
    client = make_client(tmp_path, network=dataclasses.replace(FAST.network,
                                                               read_timeout=30))
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        client.ensure(model, cancel=stop)
    assert time.monotonic() - started < 3
    assert client.cache.partial_path("acme/silent.bin").stat().st_size == 30_000


def test_a_cancel_wakes_a_wait_for_the_answer(tmp_path: Path, server: LoopbackServer) -> None:
    data = blob("slow", 10_000)
    model = served(server, "slow", Delay(30, Body(data)), data=data)
    client = make_client(tmp_path, network=dataclasses.replace(FAST.network,
                                                               read_timeout=30))
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled) as raised:
        client.ensure(model, cancel=stop)
    assert time.monotonic() - started < 3 and raised.value.done_bytes == 0
    assert server.count("/slow.bin") == 1  # no retry after a cancel


def test_a_cancel_wakes_a_wait_between_retries(tmp_path: Path, server: LoopbackServer) -> None:
    # The server asks for 20 s before a retry; a cancel after 0.3 s ends the wait there.
    data = blob("busy", 10_000)
    model = served(server, "busy", Status(503, headers={"Retry-After": "20"}), Body(data),
                   data=data)
    client = make_client(tmp_path, network=dataclasses.replace(FAST.network,
                                                               retry_after_cap=30))
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        client.ensure(model, cancel=stop)
    assert time.monotonic() - started < 3
    assert server.count("/busy.bin") == 1  # no retry after a cancel


class CancelAfter:
    """A cancel flag that turns on at its n-th look: a cancel at any point of a download."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.looks = 0
        self.lock = threading.Lock()

    def is_set(self) -> bool:
        with self.lock:
            self.looks += 1
            return self.looks > self.n


@pytest.fixture(scope="module")
def shared_server() -> Any:
    with LoopbackServer() as running:
        yield running


RESUME_DATA = blob("resume", 50_000)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 20), declared=st.booleans())
def test_resuming_after_a_cancel_at_any_point_gives_the_same_verified_file(
        shared_server: LoopbackServer, tmp_path_factory: pytest.TempPathFactory, n: int,
        declared: bool) -> None:
    model = served(shared_server, "resume", data=RESUME_DATA, size=declared)
    client = make_client(tmp_path_factory.mktemp("resume"))
    with contextlib.suppress(Cancelled):
        client.ensure(model, cancel=CancelAfter(n)).release()
    calls = Calls()
    with client.ensure(model, progress=calls) as f:
        assert f.path.read_bytes() == RESUME_DATA
    if calls.seen:
        assert calls.seen[-1] == (len(RESUME_DATA), len(RESUME_DATA))
    assert client.cache.partials() == []


# --- offline -----------------------------------------------------------------------------

def test_offline_loads_and_hands_out_cached_files_with_zero_requests(lab: Lab) -> None:
    lab.standard_repo()
    lab.write_defaults()
    lab.serve(lab.release().files)
    online = lab.client("1.7.0").load()
    tiny = next(m for m in online.models if m.model == "tiny")
    lab.client("1.7.0").ensure(tiny).release()

    lab.server.reset_log()
    offline = lab.client("1.7.0", config=dataclasses.replace(FAST, offline=True))
    result = offline.load()
    assert result.source is Source.LAST_KNOWN_GOOD
    assert [r.rule for r in result.reasons] == ["C016"]
    assert [m.model for m in result.models] == [m.model for m in online.models]
    with offline.ensure(tiny) as f:
        assert f.path.read_bytes() == lab.model_bytes
    other = next(m for m in result.models if m.model == "m0")
    with pytest.raises(DownloadError) as raised:
        offline.ensure(other)
    assert raised.value.code == "C016"
    assert lab.server.count() == 0


def test_offline_without_a_last_known_good_uses_the_defaults(lab: Lab) -> None:
    lab.write_defaults()
    result = lab.client("1.7.0", config=dataclasses.replace(FAST, offline=True)).load()
    assert result.source is Source.DEFAULTS
    assert [r.rule for r in result.reasons] == ["C016", "C007"]
    assert lab.server.count() == 0


# --- events ------------------------------------------------------------------------------

def test_events_count_loads_downloads_failures_and_evictions(lab: Lab) -> None:
    lab.standard_repo()
    lab.serve(lab.release().files)
    events: list[Event] = []
    client = ConfigClient("1.7.0", "linux", source=BundleSource(lab.server.url("/rel/")),
                          allowed_signers=lab.allowed, cache_dir=lab.root / "cache",
                          config=dataclasses.replace(FAST, cache_budget_bytes=60_000),
                          on_event=events.append)
    result = client.load()
    tiny = next(m for m in result.models if m.model == "tiny")
    client.ensure(tiny).release()
    client.ensure(tiny).release()  # from the cache
    other_data = blob("other", 30_000)
    other = served(lab.server, "other", data=other_data)
    client.ensure(other).release()  # 40,000 + 30,000 > 60,000: tiny is evicted
    broken = served(lab.server, "broken", Status(404), data=b"x")
    with pytest.raises(DownloadError):
        client.ensure(broken)
    counts = collections.Counter(e.kind for e in events)
    assert counts["load_started"] == counts["load_finished"] == 1
    assert counts["download_started"] == 3 and counts["download_finished"] == 2
    assert counts["download_failed"] == 1 and counts["cache_hit"] == 1
    assert counts["evicted"] == 1
    finished = next(e for e in events if e.kind == "load_finished")
    assert finished.source is Source.REMOTE and finished.models == len(result.models)
    assert finished.duration >= 0
    done = [e for e in events if e.kind == "download_finished"]
    assert [e.transferred for e in done] == [len(lab.model_bytes), len(other_data)]
    failed = next(e for e in events if e.kind == "download_failed")
    assert failed.code == "C010"
    evicted = next(e for e in events if e.kind == "evicted")
    assert (evicted.cache_path, evicted.size) == ("acme/tiny.bin", len(lab.model_bytes))


def test_a_handler_that_raises_never_breaks_a_load(lab: Lab,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab.write_defaults()

    def broken(event: Event) -> None:
        raise RuntimeError("telemetry bug")

    client = ConfigClient("1.7.0", source=BundleSource(lab.server.url("/rel/")),
                          allowed_signers=lab.allowed, defaults_dir=lab.defaults,
                          cache_dir=lab.root / "cache", config=FAST, on_event=broken)
    assert client.load().source is Source.DEFAULTS
    assert "the on_event handler raised RuntimeError" in client_log(caplog)


# --- credentials and headers -------------------------------------------------------------

TOKEN = "tok-PLANTED-7f3a9c"
API_KEY = "key-PLANTED-2b8e41"


def test_tokens_and_headers_go_to_their_exact_origin_only_and_never_show(
        tmp_path: Path, server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    data = blob("gated", 20_000)
    origin = f"http://127.0.0.1:{server.port}"
    gated = RequireHeader("Authorization", f"Bearer {TOKEN}",
                          RequireHeader("X-Api-Key", API_KEY, Body(data)))
    model = served(server, "gated", gated, data=data)
    events: list[Event] = []
    credentials = Credentials(env={}, tokens={origin: TOKEN},
                              headers={origin: {"X-Api-Key": API_KEY}})
    client = ConfigClient("1.0.0", source=BundleSource("unused"),
                          cache_dir=tmp_path / "cache", on_event=events.append,
                          config=dataclasses.replace(FAST, credentials=credentials))
    with client.ensure(model) as f:
        assert f.path.read_bytes() == data

    with LoopbackServer() as elsewhere:  # another port: another origin
        target = elsewhere.route("/moved.bin", Status(401))
        moved = served(server, "moved", Redirect(target), data=data)
        with pytest.raises(DownloadError) as raised:
            client.ensure(moved)
        [request] = elsewhere.requests
        assert "Authorization" not in request.headers and "X-Api-Key" not in request.headers
    with pytest.raises(DownloadError) as anonymous:
        download(server.url("/gated.bin"), sha(data), tmp_path / "plain.bin",
                 config=dataclasses.replace(FAST, credentials=Credentials(env={})))
    assert "HTTP 401" in anonymous.value.message
    fetched = download(server.url("/gated.bin"), sha(data), tmp_path / "plain.bin",
                       config=dataclasses.replace(FAST, credentials=credentials))
    assert fetched.read_bytes() == data
    shown = [str(raised.value), repr(raised.value), str(anonymous.value), client_log(caplog),
             repr(client.config), repr(credentials), *(repr(e) for e in events)]
    for text in shown:
        assert TOKEN not in text and API_KEY not in text
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert TOKEN.encode() not in content and API_KEY.encode() not in content


# --- mirrors -----------------------------------------------------------------------------

def test_a_mirror_is_used_when_the_primary_fails(lab: Lab) -> None:
    lab.standard_repo()
    release = lab.release()
    mirror = lab.serve(release.files, prefix="/mirror/")
    primary = lab.server.route("/primary/manifest.json", Status(503))
    client = ConfigClient("1.7.0", "linux", sources=[BundleSource(primary),
                                                     BundleSource(mirror)],
                          allowed_signers=lab.allowed, cache_dir=lab.root / "cache",
                          config=FAST)
    result = client.load()
    assert result.source is Source.REMOTE and result.config_version == "v1.1.0"
    assert [r.rule for r in result.reasons] == ["C001"]
    assert result.origin is not None and result.origin.location.endswith("/mirror")

    # Both gone: the last known good config, with both reasons.
    lab.serve({}, prefix="/mirror/")
    again = client.load()
    assert again.source is Source.LAST_KNOWN_GOOD
    assert [r.rule for r in again.reasons] == ["C001", "C001"]


def test_a_mirror_is_used_when_the_primary_has_nothing_for_this_client(lab: Lab) -> None:
    # The primary's newer release admits only clients >= 2.0.0: this 1.7.0 client gets
    # no config version there (C004) and goes on to the mirror, as after a failed fetch.
    lab.standard_repo()
    mirror = lab.serve(lab.release().files, prefix="/mirror/")
    lab.write_repo({"v2.0.0": [entry("next", "https://example.org/n.bin", fake_sha("n"))]},
                   {"versions": {"v2.0.0": {"min_client_version": "2.0.0"}}})
    primary = lab.serve(lab.release().files, prefix="/primary/")
    client = ConfigClient("1.7.0", "linux", sources=[BundleSource(primary),
                                                     BundleSource(mirror)],
                          allowed_signers=lab.allowed, cache_dir=lab.root / "cache",
                          config=FAST)
    result = client.load()
    assert result.source is Source.REMOTE and result.config_version == "v1.1.0"
    assert [r.rule for r in result.reasons] == ["C004"]
    assert result.origin is not None and result.origin.location.endswith("/mirror")


def test_source_or_sources_must_be_given_once() -> None:
    with pytest.raises(ValueError, match="source"):
        ConfigClient("1.0.0")
    with pytest.raises(ValueError, match="source"):
        ConfigClient("1.0.0", source=BundleSource("a"), sources=[BundleSource("b")])


# --- verify_on_use -----------------------------------------------------------------------

def corrupt_in_place(path: Path) -> None:
    """Flip a byte, keeping size, mtime and inode: what a bad disk sector does."""
    st = path.stat()
    with path.open("r+b") as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0xFF]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_verify_on_use_always_catches_an_in_place_corruption(
        tmp_path: Path, server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    data = blob("kept", 20_000)
    model = served(server, "kept", data=data)
    client = make_client(tmp_path)
    with client.ensure(model) as f:
        path = f.path
    corrupt_in_place(path)
    # "changed" (the default) trusts an unchanged stat: that is its cost saving.
    with client.ensure(model) as f:
        assert f.path.read_bytes() != data and not f.rehashed
    server.reset_log()
    with client.ensure(model, verify_on_use="always") as f:
        assert f.path.read_bytes() == data
    assert "C011" in client_log(caplog) and server.count("/kept.bin") == 1
    always = make_client(tmp_path, verify_on_use="always")
    with always.ensure(model) as f:
        assert f.rehashed and f.path.read_bytes() == data
    with pytest.raises(ValueError):
        ClientConfig(verify_on_use="never")  # type: ignore[arg-type]


# --- the default cache directory ---------------------------------------------------------

def test_cache_dir_defaults_to_the_variable_then_the_platform_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPO_TOOLS_CACHE_DIR", str(tmp_path / "chosen"))
    client = ConfigClient("1.0.0", source=BundleSource("unused"), app_name="my-app")
    assert client.cache_dir == tmp_path / "chosen"
    monkeypatch.delenv("REPO_TOOLS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    client = ConfigClient("1.0.0", source=BundleSource("unused"), app_name="my-app")
    assert client.cache_dir == tmp_path / "xdg" / "my-app"
    assert client_api.default_cache_dir("my-app") == client.cache_dir


# --- download() ---------------------------------------------------------------------------

def test_download_checks_the_hash_resumes_and_skips_a_verified_file(
        tmp_path: Path, server: LoopbackServer) -> None:
    data = blob("plain", BIG)
    url = server.route("/plain.bin", Paced(data))
    dest = tmp_path / "out" / "plain.bin"
    stop = threading.Event()
    with pytest.raises(Cancelled):
        download(url, sha(data), dest, config=FAST, cancel=stop,
                 progress=lambda done, total: done > BIG // 4 and stop.set())
    assert not dest.exists() and (tmp_path / "out" / "plain.bin.partial").is_file()
    calls = Calls()
    assert download(url, sha(data), dest, config=FAST, progress=calls) == dest
    assert dest.read_bytes() == data and calls.seen[-1] == (BIG, BIG)
    assert server.requests[-1].headers["Range"].startswith("bytes=")
    server.reset_log()
    download(url, sha(data), dest, config=FAST)  # already there and verified
    assert server.count() == 0
    with pytest.raises(DownloadError) as raised:
        download(url, "0" * 64, tmp_path / "wrong.bin", config=FAST)
    assert raised.value.code == "C011" and not (tmp_path / "wrong.bin").exists()
    assert not (tmp_path / "wrong.bin.partial").exists()
    with pytest.raises(NotDownloadable):
        download(url, "not-a-digest", tmp_path / "x.bin", config=FAST)


# --- the error family and the typed model --------------------------------------------------

def test_every_client_exception_is_a_rule_error() -> None:
    for name in client_api.__all__:
        value = getattr(client_api, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, ClientError) and issubclass(value, RuleError), name


def test_ensure_takes_a_model_entry_and_explains_a_bad_one(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    raw = entry("m", "https://example.org/m.bin", "a" * 64)
    with pytest.raises(TypeError, match="ModelEntry"):
        client.ensure(raw)  # type: ignore[arg-type]
    raw["download"] = {"url": "https://example.org/m.bin"}
    with pytest.raises(NotDownloadable) as raised:
        client.ensure(entry_of(raw))
    assert raised.value.code == "C015" and isinstance(raised.value, ValueError)
    raw["download"] = {"url": "https://example.org/m.bin", "sha256": "a" * 64,
                       "cachePath": "../outside.bin"}
    with pytest.raises(NotDownloadable, match="cachePath"):
        client.ensure(entry_of(raw))


# --- export-defaults ---------------------------------------------------------------------

def test_export_defaults_writes_what_the_client_reads_from_a_release_or_a_checkout(
        lab: Lab) -> None:
    lab.standard_repo()
    release = lab.release()
    url = lab.serve(release.files)
    out = lab.root / "app" / "configs" / "defaults" / "models"
    run = cli("export-defaults", "--client-version", "1.7.0", "--platform", "linux",
              "--from", url, "--allowed-signers", lab.allowed, "--out", out)
    assert run.exit_code == 0, run.stderr
    assert "wrote 5 model(s) of config version v1.1.0 for client 1.7.0 on linux" in run.stdout
    # Verified as that client verifies it: the manifest, and its config version's archive.
    for config_version, fetched in (("v1.0.0", 0), ("v1.1.0", 1), ("v2.0.0", 0)):
        assert lab.server.count("/rel/" + release.archive_of(config_version)) == fetched
    # The client, with no remote at all, gets exactly what it would get from the release.
    online = lab.client("1.7.0").load()
    offline = ConfigClient("1.7.0", "linux", source=BundleSource(url),
                           allowed_signers=lab.allowed, defaults_dir=out,
                           cache_dir=lab.root / "fresh",
                           config=dataclasses.replace(FAST, offline=True)).load()
    assert offline.source is Source.DEFAULTS and offline.skipped == []
    assert [m.identity for m in offline.models] == [m.identity for m in online.models]

    from_repo = lab.root / "from-repo"
    run = cli("export-defaults", "--client-version", "2.3.0", "--from", lab.repo,
              "--out", from_repo)
    assert run.exit_code == 0, run.stderr
    written = json.loads((from_repo / "repo-tools-defaults.json").read_text())
    assert [m["model"] for m in written["models"]] == ["next", "tiny"]


def test_export_defaults_refuses_what_the_client_could_not_use(lab: Lab) -> None:
    lab.standard_repo()
    run = cli("export-defaults", "--client-version", "0.1.0", "--from", lab.repo,
              "--out", lab.root / "out1")
    assert run.exit_code == 1 and "C004" in run.stderr
    assert not (lab.root / "out1").exists()
    bad = entry("bad", "https://example.org/b.bin", "not-a-digest")
    lab.write_repo({"v1.0.0": [bad], "v1.1.0": [], "v2.0.0": []})
    run = cli("export-defaults", "--client-version", "1.2.0", "--from", lab.repo,
              "--out", lab.root / "out2")
    assert run.exit_code == 1 and "C006" in run.stderr
    assert not (lab.root / "out2" / "repo-tools-defaults.json").exists()
    run = cli("export-defaults", "--client-version", "1.2.0", "--from",
              lab.server.url("/rel/"), "--out", lab.root / "out3")
    assert run.exit_code == 2 and "--allowed-signers" in run.stderr


# --- progress-bar adapters ---------------------------------------------------------------

def test_a_rich_bar_follows_a_download(tmp_path: Path, server: LoopbackServer) -> None:
    import io

    from rich.console import Console
    from rich.progress import Progress

    from repo_tools.client.bars import RichProgress

    data = blob("rich", BIG)
    model = served(server, "rich", Paced(data), data=data)
    screen = io.StringIO()
    with Progress(console=Console(file=screen, width=100)) as progress:
        bar = RichProgress("rich.bin", progress=progress)
        make_client(tmp_path).ensure(model, progress=bar).release()
        [task] = progress.tasks
        assert (task.completed, task.total) == (BIG, BIG)
    assert "rich.bin" in screen.getvalue()


def test_a_tqdm_bar_follows_a_download(tmp_path: Path, server: LoopbackServer) -> None:
    import io

    pytest.importorskip("tqdm")
    from repo_tools.client.bars import TqdmProgress

    data = blob("tqdm", BIG)
    model = served(server, "tqdm", Paced(data), data=data)
    screen = io.StringIO()
    with TqdmProgress("tqdm.bin", file=screen) as bar:
        make_client(tmp_path).ensure(model, progress=bar).release()
        assert (bar.bar.n, bar.bar.total) == (BIG, BIG)
    assert "tqdm.bin" in screen.getvalue()


def test_threads_ensuring_one_model_share_one_download(tmp_path: Path,
                                                       server: LoopbackServer) -> None:
    data = blob("shared", BIG)
    model = served(server, "shared", Paced(data), data=data)
    client = make_client(tmp_path)
    paths: list[Path] = []

    def use() -> None:
        with client.ensure(model) as f:
            paths.append(f.path)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(paths) == 4 and paths[0].read_bytes() == data
    assert server.body_requests("/shared.bin") == 1


def test_application_credentials_are_checked_without_quoting_them() -> None:
    from repo_tools.net.credentials import CredentialsError

    with pytest.raises(CredentialsError) as raised:
        Credentials(env={}, tokens={"https://h.example/path": TOKEN})
    assert TOKEN not in str(raised.value)
    with pytest.raises(CredentialsError) as raised:
        Credentials(env={}, headers={"h.example": {"X-Key": API_KEY + "\n"}})
    assert API_KEY not in str(raised.value)
    both = Credentials(env={"REPO_TOOLS_TOKENS": "h.example=from-env"},
                       tokens={"https://h.example": TOKEN},
                       headers={"h.example:8443": {"X-Key": API_KEY}})
    assert both.headers_for("https://h.example/f") == {"Authorization": f"Bearer {TOKEN}"}
    assert both.headers_for("https://h.example:8443/f") == {"X-Key": API_KEY}
    assert both.headers_for("http://h.example/f") == {}
    assert {TOKEN, API_KEY} <= both.secrets()
