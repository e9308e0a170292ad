"""The client's repeated `load()`: a real `repo-tools release`, served from its folder by a
real static HTTP server on 127.0.0.1 that answers conditional requests (ETag,
Last-Modified, 304) and logs every exchange with its status and body bytes."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from repo_tools.client import (
    BundleSource,
    ClientConfig,
    ConfigClient,
    Credentials,
    RemoteCheck,
    Source,
)
from repo_tools.client.catalog import RemoteConfig
from repo_tools.client.events import Event, LoadFinished
from repo_tools.client.lkg import (
    CONFIRMATION_FILE,
    Confirmation,
    LastKnownGood,
    confirmation_bytes,
    current_release,
    lkg_bytes,
    parse_confirmation,
    parse_lkg,
)
from repo_tools.client.loader import STATE_FILE
from repo_tools.client.sources import ManifestCopy, Origin
from repo_tools.net.conditional import Validators
from repo_tools.release import signing
from tests.support.client_helpers import FAST, Lab, entry, fake_sha, names
from tests.support.httpserver import Body, Reset
from tests.support.release_helpers import allowed_line
from tests.support.staticserver import Exchange, StaticServer, etag_of

MANIFEST, SIGNATURE = "/manifest.json", "/manifest.json.sig"


@pytest.fixture
def published(lab: Lab) -> Iterator[StaticServer]:
    """Release 1 of the standard repo, in lab.out, served by a conditional server."""
    lab.standard_repo()
    lab.release()
    with StaticServer(lab.out) as server:
        yield server


def client_of(lab: Lab, server: StaticServer, *, config: ClientConfig = FAST,
              clock: dt.datetime | None = None, events: list[Event] | None = None,
              url: str | None = None) -> ConfigClient:
    return ConfigClient("1.7.0", "linux", source=BundleSource(url or server.url("/")),
                        allowed_signers=lab.allowed, defaults_dir=lab.defaults,
                        cache_dir=lab.root / "cache", config=config,
                        on_event=None if events is None else events.append,
                        clock=(lambda: clock) if clock is not None else _now)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def paths(log: list[Exchange]) -> list[tuple[str, str, int]]:
    return [(e.method, e.path, e.status) for e in log]


def body_bytes(log: list[Exchange], suffix: str = "") -> int:
    return sum(e.body_bytes for e in log if e.path.endswith(suffix))


def archive_path(lab: Lab, config_version: str) -> str:
    """The URL path of a config version's archive in the release published last."""
    manifest = json.loads((lab.out / "manifest.json").read_bytes())
    return "/" + manifest["versions"][config_version]["archive"]


def test_a_second_load_is_one_conditional_request_answered_304(
        lab: Lab, published: StaticServer) -> None:
    events: list[Event] = []
    client = client_of(lab, published, events=events)
    first = client.load()
    assert first.source is Source.REMOTE and first.check is RemoteCheck.DOWNLOADED
    log = published.take_log()
    assert paths(log) == [("GET", MANIFEST, 200), ("GET", SIGNATURE, 200),
                          ("GET", archive_path(lab, "v1.1.0"), 200)]
    assert not any(e.conditional for e in log)
    manifest = (lab.out / "manifest.json").read_bytes()

    second = client.load()
    [exchange] = published.take_log()
    assert (exchange.method, exchange.path, exchange.status) == ("GET", MANIFEST, 304)
    assert exchange.headers["If-None-Match"] == etag_of(manifest)
    assert "If-Modified-Since" in exchange.headers
    assert exchange.body_bytes == 0
    # Checked and unchanged: the remote's models, not a fallback, and no reason.
    assert second.source is Source.REMOTE and second.check is RemoteCheck.NOT_MODIFIED
    assert second.reasons == [] and second.origin == first.origin
    assert names(second.models) == names(first.models)
    assert second.config_version == first.config_version
    finished = [e for e in events if isinstance(e, LoadFinished)]
    assert [e.check for e in finished] == ["downloaded", "not-modified"]

    # Still so on the next load: the validators are kept across loads.
    assert client.load().check is RemoteCheck.NOT_MODIFIED
    assert paths(published.take_log()) == [("GET", MANIFEST, 304)]


def test_a_new_release_fetches_the_new_archive_of_its_config_version(
        lab: Lab, published: StaticServer) -> None:
    client = client_of(lab, published)
    client.load()
    client.load()
    lab.standard_repo(extra=1)  # adds m3 to v1.1.0, this client's config version
    lab.release()
    published.take_log()
    result = client.load()
    assert paths(published.take_log()) == [("GET", MANIFEST, 200), ("GET", SIGNATURE, 200),
                                           ("GET", archive_path(lab, "v1.1.0"), 200)]
    assert result.check is RemoteCheck.DOWNLOADED and "m3" in names(result.models)
    assert result.origin is not None and result.origin.bundle_version == 2
    again = client.load()
    assert paths(published.take_log()) == [("GET", MANIFEST, 304)]
    assert again.check is RemoteCheck.NOT_MODIFIED and "m3" in names(again.models)


def test_within_the_refresh_interval_a_load_makes_no_request(
        lab: Lab, published: StaticServer) -> None:
    start = dt.datetime.now(dt.UTC)
    config = dataclasses.replace(FAST, refresh_interval=600)
    client_of(lab, published, config=config, clock=start).load()
    assert len(published.take_log()) == 3

    result = client_of(lab, published, config=config,
                       clock=start + dt.timedelta(seconds=599)).load()
    assert published.take_log() == []
    assert result.source is Source.REMOTE and result.check is RemoteCheck.NOT_DUE
    assert result.reasons == [] and "tiny" in names(result.models)

    # Past the interval: one conditional request, and the 304 restarts the interval.
    later = start + dt.timedelta(seconds=601)
    assert client_of(lab, published, config=config, clock=later).load().check == "not-modified"
    assert paths(published.take_log()) == [("GET", MANIFEST, 304)]
    soon = later + dt.timedelta(seconds=300)
    assert client_of(lab, published, config=config, clock=soon).load().check == "not-due"
    assert published.take_log() == []

    # A clock set back (before the last check) is no proof of freshness; None (the
    # default) always asks.
    assert client_of(lab, published, config=config,
                     clock=start + dt.timedelta(seconds=60)).load().check == "not-modified"
    assert client_of(lab, published, clock=soon).load().check == "not-modified"
    assert paths(published.take_log()) == [("GET", MANIFEST, 304)] * 2


def test_an_expired_release_answered_304_is_not_accepted(
        lab: Lab, published: StaticServer) -> None:
    start = dt.datetime.now(dt.UTC)
    client_of(lab, published, clock=start).load()
    published.take_log()
    expired = start + dt.timedelta(days=31)  # `release` signs for 30 days
    # Not even within a refresh interval: the stored release must pass every check.
    config = dataclasses.replace(FAST, refresh_interval=100 * 86400)
    result = client_of(lab, published, config=config, clock=expired).load()
    assert paths(published.take_log()) == [("GET", MANIFEST, 304)]
    assert result.source is Source.LAST_KNOWN_GOOD and result.check is None
    assert [r.rule for r in result.reasons] == ["C002"]
    assert "R012" in result.reasons[0].message and "304" in result.reasons[0].message


def test_a_server_that_ignores_conditional_requests_costs_one_manifest(
        lab: Lab) -> None:
    lab.standard_repo()
    lab.release()
    with StaticServer(lab.out, honour_conditionals=False) as server:
        client = client_of(lab, server)
        client.load()
        server.take_log()
        result = client.load()
        log = server.take_log()
    assert paths(log) == [("GET", MANIFEST, 200)] and log[0].conditional
    assert body_bytes(log) == (lab.out / "manifest.json").stat().st_size
    assert result.source is Source.REMOTE and result.check is RemoteCheck.UNCHANGED
    assert result.reasons == []


def test_transient_failures_are_retried_without_falling_back(
        lab: Lab, published: StaticServer) -> None:
    client = client_of(lab, published)
    published.fail_next(MANIFEST, 503)
    first = client.load()
    assert paths(published.take_log()) == [
        ("GET", MANIFEST, 503), ("GET", MANIFEST, 200), ("GET", SIGNATURE, 200),
        ("GET", archive_path(lab, "v1.1.0"), 200)]
    assert first.source is Source.REMOTE and first.reasons == []
    published.fail_next(MANIFEST, 503, 429)
    second = client.load()
    assert paths(published.take_log()) == [("GET", MANIFEST, 503), ("GET", MANIFEST, 429),
                                           ("GET", MANIFEST, 304)]
    assert second.check is RemoteCheck.NOT_MODIFIED and second.reasons == []


def test_an_archive_cut_off_midway_is_fetched_again(lab: Lab) -> None:
    # The transport retried a failed request until its head arrived; a body that breaks
    # off (reset, closed early) went straight to the fallback.
    lab.standard_repo()
    release = lab.release()
    lab.serve(release.files)
    name = release.archive_of("v1.1.0")
    archive = release.files[name]
    lab.server.route("/rel/" + name, Reset(archive, 1000), Body(archive))
    result = lab.client("1.7.0").load()
    assert result.source is Source.REMOTE and result.reasons == []
    assert lab.server.count("/rel/" + name) == 2


def test_the_validators_belong_to_their_url(lab: Lab, published: StaticServer) -> None:
    client_of(lab, published).load()
    published.take_log()
    # The same release through another URL (host): no validator is sent there, but the
    # manifest is the one held, so nothing else is fetched.
    other = published.url("/").replace("127.0.0.1", "localhost")
    result = client_of(lab, published, url=other).load()
    [exchange] = published.take_log()
    assert (exchange.path, exchange.status, exchange.conditional) == (MANIFEST, 200, False)
    assert result.check is RemoteCheck.UNCHANGED and result.reasons == []
    # That URL's answer is what is kept now: the next load there is conditional.
    assert client_of(lab, published, url=other).load().check is RemoteCheck.NOT_MODIFIED


def test_a_last_known_good_without_its_release_is_used_then_replaced(
        lab: Lab, published: StaticServer) -> None:
    client = client_of(lab, published)
    client.load()
    path = client.last_known_good_path
    old = json.loads(path.read_text())
    del old["release"]  # as an unsigned git checkout is stored
    path.write_text(json.dumps(old))
    published.take_log()
    published.fail_next(MANIFEST, 404)  # the remote is gone for one load: fallback works
    fallback = client.load()
    assert fallback.source is Source.LAST_KNOWN_GOOD and "tiny" in names(fallback.models)
    published.take_log()
    assert client.load().check is RemoteCheck.DOWNLOADED
    log = published.take_log()
    # No validators to send; the archive's models are held (same hash): not fetched.
    assert paths(log) == [("GET", MANIFEST, 200), ("GET", SIGNATURE, 200)]
    assert not any(e.conditional for e in log)
    assert client.load().check is RemoteCheck.NOT_MODIFIED


def test_the_same_manifest_signed_again_with_a_new_key_is_checked_with_its_new_signature(
        lab: Lab, published: StaticServer) -> None:
    client_of(lab, published).load()
    # Key rotation: the application now trusts only a new key, and the maintainers signed
    # the very same manifest with it.
    new_key = Ed25519PrivateKey.generate()
    manifest = (lab.out / "manifest.json").read_bytes()
    (lab.out / "manifest.json.sig").write_bytes(signing.sign(manifest, new_key))
    lab.allowed.write_text(allowed_line(new_key))
    published.take_log()
    result = client_of(lab, published).load()
    assert paths(published.take_log()) == [("GET", MANIFEST, 304), ("GET", SIGNATURE, 200)]
    assert result.source is Source.REMOTE and result.check is RemoteCheck.NOT_MODIFIED
    # The new signature is the one kept: the next load asks for the manifest only.
    assert client_of(lab, published).load().check is RemoteCheck.NOT_MODIFIED
    assert paths(published.take_log()) == [("GET", MANIFEST, 304)]
    # A manifest no trusted key signs is refused, even unchanged.
    lab.allowed.write_text(allowed_line(Ed25519PrivateKey.generate()))
    refused = client_of(lab, published).load()
    assert refused.source is Source.LAST_KNOWN_GOOD and "R005" in refused.reasons[0].message


def test_an_unchanged_load_restores_the_rollback_state(lab: Lab, published: StaticServer) -> None:
    client = client_of(lab, published)
    client.load()
    state = client.state_dir / STATE_FILE
    recorded = state.read_bytes()
    state.unlink()
    assert client.load().check is RemoteCheck.NOT_MODIFIED
    assert state.read_bytes() == recorded
    mtime = state.stat().st_mtime_ns
    client.load()
    assert state.stat().st_mtime_ns == mtime  # already recorded: not written again


def test_offline_still_makes_no_request(lab: Lab, published: StaticServer) -> None:
    client_of(lab, published).load()
    published.take_log()
    result = client_of(lab, published, config=dataclasses.replace(FAST, offline=True)).load()
    assert published.take_log() == []
    assert result.source is Source.LAST_KNOWN_GOOD and result.check is None
    assert [r.rule for r in result.reasons] == ["C016"]


TOKEN = "tok-PLANTED-c0nd1t10nal"
PASSWORD = "pw-PLANTED-9d41"


def test_no_secret_reaches_the_last_known_good_or_the_state(
        lab: Lab, published: StaticServer) -> None:
    origin = published.url("")
    credentials = Credentials(env={}, tokens={origin: TOKEN})
    config = dataclasses.replace(FAST, credentials=credentials)
    url = published.url("/").replace("http://", f"http://reader:{PASSWORD}@")
    client = client_of(lab, published, config=config, url=url)
    assert client.load().check is RemoteCheck.DOWNLOADED
    assert client.load().check is RemoteCheck.NOT_MODIFIED
    sent = [e.headers.get("Authorization", "") for e in published.log]
    assert sent and all(h.startswith("Basic ") for h in sent)  # the URL's user info wins
    client = client_of(lab, published, config=config)
    assert client.load().check is RemoteCheck.NOT_MODIFIED  # now with the token
    assert published.log[-1].headers["Authorization"] == f"Bearer {TOKEN}"

    state = client.state_dir
    written = [state / "last-known-good.json", state / CONFIRMATION_FILE, state / STATE_FILE]
    assert all(path.is_file() for path in written)
    secrets = [TOKEN, PASSWORD, base64.b64encode(f"reader:{PASSWORD}".encode()).decode()]
    for path in state.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in content, (path, secret)
    stored = json.loads((state / "last-known-good.json").read_text())
    assert stored["release"]["locator"] == published.url("/manifest.json")


def test_confirmation_is_a_small_file_and_the_lkg_is_not_rewritten(
        lab: Lab, published: StaticServer) -> None:
    client = client_of(lab, published)
    client.load()
    lkg = client.last_known_good_path
    before = lkg.read_bytes(), lkg.stat().st_mtime_ns
    assert client.load().check is RemoteCheck.NOT_MODIFIED
    assert (lkg.read_bytes(), lkg.stat().st_mtime_ns) == before
    confirmation = json.loads((client.state_dir / CONFIRMATION_FILE).read_text())
    assert confirmation["etag"] == etag_of((lab.out / "manifest.json").read_bytes())


def test_an_app_update_reselects_from_the_unchanged_release(
        lab: Lab, published: StaticServer, tmp_path: Path) -> None:
    client_of(lab, published).load()
    published.take_log()
    upgraded = ConfigClient("2.3.0", "linux", source=BundleSource(published.url("/")),
                            allowed_signers=lab.allowed, defaults_dir=lab.defaults,
                            cache_dir=lab.root / "cache", config=FAST)
    result = upgraded.load()
    # The release is unchanged, but this client needs another config version: its
    # archive, and nothing else.
    assert paths(published.take_log()) == [("GET", MANIFEST, 304),
                                           ("GET", archive_path(lab, "v2.0.0"), 200)]
    assert result.check is RemoteCheck.NOT_MODIFIED and result.config_version == "v2.0.0"
    stored = json.loads(upgraded.last_known_good_path.read_text())
    assert stored["result"]["client_version"] == "2.3.0"
    assert list(stored["versions"]) == ["v2.0.0"]
    assert upgraded.load().check is RemoteCheck.NOT_MODIFIED
    assert paths(published.take_log()) == [("GET", MANIFEST, 304)]


# -- the last known good file -------------------------------------------------------------

def _origin(sha: str | None) -> Origin:
    return Origin("bundle", "https://cdn.example.org/rel", True, "example.org/models", 3, sha)


def _lkg(release: ManifestCopy | None, sha: str | None = None) -> LastKnownGood:
    remote = RemoteConfig({"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}},
                          {"v1.0.0": [{"model": "m"}]})
    origin = _origin(sha or (release.sha256 if release else "0" * 64))
    return LastKnownGood(remote, origin, "2026-12-01T08:00:00Z", {"config_version": "v1.0.0"},
                         release)


COPY = ManifestCopy("https://cdn.example.org/rel/manifest.json", b'{"bundle_version": 3}\n',
                    b"-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
                    Validators('W/"abc"', "Tue, 01 Dec 2026 08:00:00 GMT"))


def test_the_last_known_good_keeps_its_release_and_validators() -> None:
    lkg = _lkg(COPY)
    assert parse_lkg(lkg_bytes(lkg)) == lkg
    doc = json.loads(lkg_bytes(lkg))
    assert doc["release"]["etag"] == 'W/"abc"' and doc["release"]["manifest_sha256"] == COPY.sha256
    no_validators = _lkg(dataclasses.replace(COPY, validators=Validators()))
    assert parse_lkg(lkg_bytes(no_validators)) == no_validators


def test_a_last_known_good_without_a_release_loads_and_one_of_format_1_is_damaged() -> None:
    # An unsigned git checkout is stored without a `release` member.
    doc = {"schema": "repo-tools-client-lkg/2", "saved": "2026-11-30T10:00:00Z",
           "origin": dataclasses.asdict(_origin("ab" * 32)),
           "index": {"versions": {}}, "versions": {"v1.0.0": []}, "archives": {},
           "result": {}}
    lkg = parse_lkg(json.dumps(doc).encode())
    assert lkg.release is None and lkg.origin.manifest_sha256 == "ab" * 32
    assert current_release(lkg, None) is None
    # Format 1 (every config version) was only written by development builds.
    with pytest.raises(ValueError, match="not a repo-tools-client-lkg/2 document"):
        parse_lkg(json.dumps({**doc, "schema": "repo-tools-client-lkg/1"}).encode())
    # An archive hash must be one, and name a config version whose models are held.
    for archives in ({"v1.0.0": "AB" * 32}, {"v9.0.0": "ab" * 32}, ["ab" * 32]):
        with pytest.raises(ValueError, match="archives"):
            parse_lkg(json.dumps({**doc, "archives": archives}).encode())
    assert parse_lkg(json.dumps({**doc, "archives": {"v1.0.0": "ab" * 32}}).encode()
                     ).remote.archives == {"v1.0.0": "ab" * 32}


def test_a_release_block_that_is_not_the_configs_is_ignored() -> None:
    other = _lkg(COPY, sha="cd" * 32)  # bound to another manifest than the one it holds
    assert parse_lkg(lkg_bytes(other)).release is None
    doc = json.loads(lkg_bytes(_lkg(COPY)))
    for damage in ({"manifest": "not base64!"}, {"locator": 7}, {"etag": "a\r\nb"}):
        damaged = {**doc, "release": {**doc["release"], **damage}}
        release = parse_lkg(json.dumps(damaged).encode()).release
        assert release is None or release.validators.etag is None, damage


def test_a_confirmation_updates_the_validators_and_time_of_its_own_release_only() -> None:
    lkg = _lkg(COPY)
    later = Confirmation(COPY.locator, COPY.sha256, "2026-12-01T09:30:00Z",
                         Validators('"new"'))
    assert parse_confirmation(confirmation_bytes(later)) == later
    held = current_release(lkg, later)
    assert held is not None
    assert held[0].validators == Validators('"new"')
    assert held[1] == dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    for stale in (dataclasses.replace(later, manifest_sha256="0" * 64),
                  dataclasses.replace(later, locator="https://elsewhere.example/m.json")):
        kept = current_release(lkg, stale)
        assert kept is not None and kept[0] == COPY
        assert kept[1] == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    assert parse_confirmation(b"{") is None


def test_refresh_interval_must_be_a_finite_non_negative_number() -> None:
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="refresh_interval"):
            ClientConfig(refresh_interval=bad)
    assert ClientConfig(refresh_interval=0).refresh_interval == 0


# -- a client downloads its config version only --------------------------------------------

MANY = {"versions": {f"v1.{i}.0": {"min_client_version": f"1.{i}.0", "max_client_version": None}
                     for i in range(6)}}


def _many_versions(lab: Lab, changed: dict[str, int] | None = None) -> None:
    """Six config versions of eight models each; `changed` adds that many models to a
    config version (a new archive for it, the same archives for the others)."""
    changed = changed or {}
    lab.write_repo({
        version: [entry(f"m{i}", f"https://example.org/{version}/m{i}.bin",
                        fake_sha(f"{version}/{i}"), ranking=i)
                  for i in range(8 + changed.get(version, 0))]
        for version in MANY["versions"]}, MANY)


def _published_bytes(lab: Lab) -> int:
    return sum(p.stat().st_size for p in lab.out.rglob("*") if p.is_file())


def test_a_client_downloads_only_the_archive_of_its_config_version(lab: Lab) -> None:
    _many_versions(lab)
    lab.release()
    with StaticServer(lab.out) as server:
        # Client 1.3.5 selects v1.3.0: not the newest config version, nor the oldest.
        client = ConfigClient("1.3.5", "linux", source=BundleSource(server.url("/")),
                              allowed_signers=lab.allowed, cache_dir=lab.root / "cache",
                              config=FAST)
        first = client.load()
        log = server.take_log()
        assert first.source is Source.REMOTE and first.config_version == "v1.3.0"
        assert first.check is RemoteCheck.DOWNLOADED and len(first.models) == 8
        own = archive_path(lab, "v1.3.0")
        assert paths(log) == [("GET", MANIFEST, 200), ("GET", SIGNATURE, 200),
                              ("GET", own, 200)]
        manifest = json.loads((lab.out / "manifest.json").read_bytes())
        assert body_bytes(log, ".tar") == manifest["versions"]["v1.3.0"]["size"]
        published = _published_bytes(lab)
        assert body_bytes(log) < published / 2, (body_bytes(log), published)
        # The archive is kept by its hash; the last known good config holds this config
        # version only, compactly.
        cached = sorted(p.name for p in client.archive_cache.iterdir())
        assert cached == [own.rpartition("/")[2]]
        stored = client.last_known_good_path.read_bytes()
        assert b"\n" not in stored and list(json.loads(stored)["versions"]) == ["v1.3.0"]

        # Nothing changed: one conditional request, answered 304, no archive bytes.
        second = client.load()
        log = server.take_log()
        assert paths(log) == [("GET", MANIFEST, 304)] and log[0].conditional
        assert body_bytes(log) == 0
        assert second.check is RemoteCheck.NOT_MODIFIED and second.models == first.models

        # A release that changes another config version only: the manifest and its
        # signature, and no archive (this client's archive has the same name, and the
        # client holds it).
        _many_versions(lab, {"v1.1.0": 1})
        lab.release()
        assert archive_path(lab, "v1.3.0") == own
        third = client.load()
        log = server.take_log()
        assert paths(log) == [("GET", MANIFEST, 200), ("GET", SIGNATURE, 200)]
        assert third.check is RemoteCheck.DOWNLOADED and third.reasons == []
        assert third.origin is not None and third.origin.bundle_version == 2
        assert third.models == first.models

        # A release that changes this client's config version: that new archive only.
        _many_versions(lab, {"v1.1.0": 1, "v1.3.0": 1})
        lab.release()
        new = archive_path(lab, "v1.3.0")
        assert new != own
        fourth = client.load()
        log = server.take_log()
        assert paths(log) == [("GET", MANIFEST, 200), ("GET", SIGNATURE, 200),
                              ("GET", new, 200)]
        assert fourth.check is RemoteCheck.DOWNLOADED and len(fourth.models) == 9
        assert client.load().check is RemoteCheck.NOT_MODIFIED
        assert paths(server.take_log()) == [("GET", MANIFEST, 304)]


def test_a_damaged_cached_archive_is_fetched_again(lab: Lab) -> None:
    _many_versions(lab)
    lab.release()
    with StaticServer(lab.out) as server:
        def load(version: str) -> ConfigClient:
            client = ConfigClient(version, source=BundleSource(server.url("/")),
                                  allowed_signers=lab.allowed, cache_dir=lab.root / "cache",
                                  config=FAST)
            assert client.load().source is Source.REMOTE
            return client

        client = load("1.3.5")
        load("1.5.0")  # the last known good config now holds v1.5.0 instead
        own = archive_path(lab, "v1.3.0")
        cached = client.archive_cache / own.rpartition("/")[2]
        server.take_log()
        load("1.3.5")  # back to v1.3.0: the cached archive, not a download
        assert paths(server.take_log()) == [("GET", MANIFEST, 304)]
        load("1.5.0")
        data = bytearray(cached.read_bytes())
        data[700] ^= 1
        cached.write_bytes(bytes(data))  # same size, other content
        server.take_log()
        load("1.3.5")
        assert paths(server.take_log()) == [("GET", MANIFEST, 304), ("GET", own, 200)]
        assert cached.read_bytes() == (lab.out / own.lstrip("/")).read_bytes()
