"""The client end to end: a real `repo-tools release`, served by a real HTTP server on
127.0.0.1, loaded and verified by `ConfigClient`, then attacked (tampered, older, gone)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from repo_tools.client import BundleSource, ClientConfig, ConfigClient
from repo_tools.client.loader import STATE_FILE
from repo_tools.release.archive import ReleaseFile
from tests.support.client_helpers import (
    FAST,
    KEY,
    Lab,
    capture,
    client_log,
    entry,
    fake_sha,
    names,
    release_files,
    sha,
)
from tests.support.helpers import cli
from tests.support.release_helpers import default_files, new_kit


def test_release_load_download_then_fall_back(lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab.standard_repo()
    lab.write_defaults()
    first = lab.release()
    lab.serve(first.files)

    # Three client versions, three config versions, all from the verified remote.
    # Ranking first, then provider and model name (the selection module's order).
    expected = {"1.2.0": ("v1.0.0", ["tiny", "m1", "builtin", "m0"]),
                "1.7.0": ("v1.1.0", ["tiny", "m2", "m1", "builtin", "linux-only", "m0"]),
                "2.3.0": ("v2.0.0", ["next", "tiny", "builtin"])}
    for version, (config_version, models) in expected.items():
        result = lab.client(version, cache=f"cache-{version}").load()
        assert result.source == "remote", result.reasons
        assert result.config_version == config_version
        assert names(result.models) == models
        assert result.origin is not None and result.origin.bundle_version == 1
        assert result.reasons == []
        tiny = next(m for m in result.models if m.model == "tiny")
        assert tiny.download.url == lab.model_url  # remote replaced the v1 default

    # A model file served by the same server: downloaded, verified, pinned while in use.
    client = lab.client("1.7.0", cache="cache-1.7.0")
    result = client.load()
    tiny = next(m for m in result.models if m.model == "tiny")
    with client.ensure(tiny) as model_file:
        assert model_file.path == lab.root / "cache-1.7.0" / "acme" / "tiny.bin"
        assert model_file.path.read_bytes() == lab.model_bytes
        assert client.cache.read().entries["acme/tiny.bin"].live_leases()
    assert not client.cache.read().entries["acme/tiny.bin"].live_leases()
    assert lab.server.body_requests("/files/tiny.bin") == 1

    # Release 2 adds a model, but the archive of this client's config version is tampered
    # with on the way: last known good (release 1), and the log says why.
    lab.standard_repo(extra=1)
    second = lab.release()
    archive_name = second.archive_of("v1.1.0")
    assert archive_name != first.archive_of("v1.1.0")  # v1.1.0 changed: a new archive
    bundle = bytearray(second.files[archive_name])
    bundle[600] ^= 0x01
    lab.serve({**second.files, archive_name: bytes(bundle)})
    caplog.clear()
    result = client.load()
    assert result.source == "last-known-good"
    assert "m3" not in names(result.models)
    assert result.origin and result.origin.bundle_version == 1
    assert [r.rule for r in result.reasons] == ["C002"]
    assert "R014" in result.reasons[0].message
    log = client_log(caplog)
    assert "C002" in log and "R014 archive-mismatch" in log
    assert "using the last known good config" in log

    # Release 2 as published: the client moves to it and remembers it.
    lab.serve(second.files)
    result = client.load()
    assert result.source == "remote" and result.origin and result.origin.bundle_version == 2
    assert "m3" in names(result.models)
    state = json.loads((client.state_dir / STATE_FILE).read_text())
    assert state["repositories"]["example.org/models"]["bundle_version"] == 2

    # The archive tampered with after the client verified it: the manifest is the same,
    # so the client keeps the release it verified and never fetches (or uses) the archive.
    lab.serve({**second.files, archive_name: bytes(bundle)})
    lab.server.reset_log()
    result = client.load()
    assert result.source == "remote" and result.check == "unchanged"
    assert "m3" in names(result.models) and result.reasons == []
    assert lab.server.count("/rel/" + archive_name) == 0

    # An older release replayed: refused as a rollback.
    lab.serve(first.files)
    caplog.clear()
    result = client.load()
    assert result.source == "last-known-good" and "m3" in names(result.models)
    assert "R010 rollback" in client_log(caplog)
    assert "using the last known good config" in client_log(caplog)

    # Nothing at all: the server is gone.
    url = lab.server.url("/rel/")
    lab.server.close()
    caplog.clear()
    result = ConfigClient("1.7.0", "linux", source=BundleSource(url),
                          allowed_signers=lab.allowed, defaults_dir=lab.defaults,
                          cache_dir=lab.root / "cache-1.7.0", config=FAST).load()
    assert result.source == "last-known-good" and "m3" in names(result.models)
    assert [r.rule for r in result.reasons] == ["C001"]
    assert "C001" in client_log(caplog)
    assert "using the last known good config" in client_log(caplog)
    # The cached model is still good offline.
    with client.ensure(tiny) as model_file:
        assert model_file.path.read_bytes() == lab.model_bytes


def test_untrusted_key_on_first_use_gives_defaults(lab: Lab,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab.standard_repo()
    lab.write_defaults()
    lab.serve(lab.release().files)
    other = lab.root / "other_signers"
    other.write_text("someone@example.org ssh-ed25519 "
                     "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")
    client = ConfigClient("1.7.0", "linux", source=BundleSource(lab.server.url("/rel/")),
                          allowed_signers=other, defaults_dir=lab.defaults,
                          cache_dir=lab.root / "cache", config=FAST)
    result = client.load()
    assert result.source == "defaults"
    assert names(result.models) == ["builtin", "tiny"]  # the v1 defaults, converted
    assert [r.rule for r in result.reasons] == ["C002", "C007"]
    assert "R005" in result.reasons[0].message
    assert "no last known good config yet" in client_log(caplog)
    assert not client.last_known_good_path.exists()


def test_compatibility_violation_keeps_the_last_known_good(
        lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab.standard_repo()
    lab.serve(lab.release().files)
    client = lab.client("1.7.0")
    assert client.load().config_version == "v1.1.0"
    # The maintainers raise every range above this client.
    lab.write_repo({"v3.0.0": [entry("only-new", "https://example.org/x.bin", fake_sha("x"))]},
                   {"versions": {"v3.0.0": {"min_client_version": "3.0.0",
                                            "max_client_version": None}}})
    lab.serve(lab.release().files)
    caplog.clear()
    result = client.load()
    assert result.source == "last-known-good" and result.config_version == "v1.1.0"
    assert [r.rule for r in result.reasons] == ["C004"]
    assert "admits client 1.7.0" in client_log(caplog)


def test_a_remote_dropping_most_models_is_suspect(lab: Lab,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab.standard_repo()
    lab.serve(lab.release().files)
    client = lab.client("1.7.0")
    before = client.load()
    assert len(before.models) == 5
    lab.write_repo({"v1.1.0": [entry("m0", "https://example.org/m0.bin", fake_sha("m0"))]},
                   {"versions": {"v1.1.0": {"min_client_version": "1.0.0",
                                            "max_client_version": None}}})
    lab.serve(lab.release().files)
    caplog.clear()
    result = client.load()
    assert result.source == "last-known-good"
    assert names(result.models) == names(before.models)
    assert [r.rule for r in result.reasons] == ["C005"]
    assert "would drop 4 of the 5 models" in client_log(caplog)
    # An application that allows it takes the release.
    relaxed = lab.client("1.7.0", config=ClientConfig(max_drop_fraction=1.0))
    assert names(relaxed.load().models) == ["m0"]


def test_invalid_models_are_skipped_and_the_rest_load(lab: Lab,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    good = entry("good", "https://example.org/g.bin", fake_sha("g"))
    bad = entry("bad", "https://example.org/b.bin", "NOT-A-HASH")
    lab.write_repo({"v1.1.0": [good, bad]}, index={"versions": {"v1.1.0": {
        "min_client_version": "1.1.0", "max_client_version": None}}})
    out = lab.root / "out"
    # `release` refuses such a repo, so this one is published unchecked by hand: it is
    # what a client must survive (a release made by an older or buggy tool).
    from repo_tools.release import signing
    from repo_tools.release.publish import ReleaseRequest, prepare_release, write_release
    from tests.support.client_helpers import KEY
    from tests.support.release_helpers import NOW

    prepared = prepare_release(ReleaseRequest(lab.repo, out, "example.org/models",
                                              created="now"), now=NOW)
    write_release(prepared, signing.sign(prepared.manifest_bytes, KEY), out)
    lab.serve(release_files(out))
    client = ConfigClient("1.7.0", "linux", source=BundleSource(lab.server.url("/rel/")),
                          allowed_signers=lab.allowed, cache_dir=lab.root / "cache",
                          config=FAST, clock=lambda: NOW)
    result = client.load()
    assert result.source == "remote" and names(result.models) == ["good"]
    assert [s.rule for s in result.skipped] == ["C006"]
    assert result.skipped[0].path == "versions/v1.1.0/models/acme.json"
    assert "V005" in result.skipped[0].message and "acme/bad" in result.skipped[0].message
    assert result.skipped[0].line > 0
    assert "C006" in client_log(caplog)


def test_an_expired_release_is_stale(lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    import datetime as dt

    capture(caplog)
    lab.standard_repo()
    lab.serve(lab.release().files)
    assert lab.client("1.7.0").load().source == "remote"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    frozen = ConfigClient("1.7.0", "linux", source=BundleSource(lab.server.url("/rel/")),
                          allowed_signers=lab.allowed, cache_dir=lab.root / "cache",
                          config=FAST, clock=lambda: later)
    result = frozen.load()
    assert result.source == "last-known-good" and result.config_version == "v1.1.0"
    assert "R012 expired" in result.reasons[0].message
    assert "R012 expired" in client_log(caplog)


def test_damaged_last_known_good_is_reported(lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab.write_defaults()
    client = lab.client("1.7.0", url=lab.server.url("/nothing/"))
    client.last_known_good_path.parent.mkdir(parents=True)
    client.last_known_good_path.write_text("{not json")
    result = client.load()
    assert result.source == "defaults" and names(result.models) == ["builtin", "tiny"]
    assert [r.rule for r in result.reasons] == ["C001", "C007"]
    assert "is damaged" in client_log(caplog)


def test_new_client_version_reselects_from_the_last_known_good(lab: Lab) -> None:
    lab.standard_repo()
    lab.write_defaults()
    release = lab.release()
    lab.serve(release.files)
    assert lab.client("1.2.0").load().config_version == "v1.0.0"
    from tests.support.httpserver import Body, Status

    lab.server.route("/rel/manifest.json", Status(503))  # the host is down
    # The app was updated (same cache) and now selects v2.0.0 from the stored index; the
    # last known good config holds the one config version the old app used, so the
    # defaults are used, and the reason says which config version is missing.
    upgraded = lab.client("2.3.0").load()
    assert upgraded.source == "defaults" and upgraded.config_version is None
    assert [r.rule for r in upgraded.reasons] == ["C001", "C007"]
    assert "does not hold config version v2.0.0" in upgraded.reasons[1].message
    # A client of the old version still has its config meanwhile.
    old = lab.client("1.2.0").load()
    assert old.source == "last-known-good" and old.config_version == "v1.0.0"

    # The host is back: the updated app fetches the manifest (unchanged) and the one
    # archive it now needs.
    lab.server.route("/rel/manifest.json", Body(release.files["manifest.json"]))
    lab.server.reset_log()
    back = lab.client("2.3.0").load()
    assert back.source == "remote" and back.check == "unchanged"
    assert names(back.models) == ["next", "tiny", "builtin"]
    assert lab.server.count("/rel/" + release.archive_of("v2.0.0")) == 1
    assert lab.server.count("/rel/" + release.archive_of("v1.0.0")) == 0
    # The old version's archive is still in the archive cache (the last few used are
    # kept): going back to it costs no download, and neither does a fallback to it.
    lab.server.reset_log()
    assert lab.client("1.2.0").load().check == "unchanged"
    assert lab.server.count("/rel/" + release.archive_of("v1.0.0")) == 0
    lab.server.route("/rel/manifest.json", Status(503))
    again = lab.client("2.3.0").load()
    assert again.source == "last-known-good" and again.config_version == "v2.0.0"


def test_platform_filter_and_a_release_url_naming_the_manifest(lab: Lab) -> None:
    lab.standard_repo()
    lab.serve(lab.release().files)
    mac = lab.client("1.7.0", platform="macos", url=lab.server.url("/rel/manifest.json"))
    result = mac.load()
    assert result.source == "remote"
    assert "linux-only" not in names(result.models)


def test_directory_source(lab: Lab) -> None:
    lab.standard_repo()
    release = lab.release()
    client = ConfigClient("2.3.0", source=BundleSource(str(release.out)),
                          allowed_signers=lab.allowed.read_text(), cache_dir=lab.root / "c")
    result = client.load()
    assert result.source == "remote" and result.config_version == "v2.0.0"
    stored = json.loads(client.last_known_good_path.read_text())
    assert stored["result"]["config_version"] == "v2.0.0"
    # Only what this client uses is stored: its config version and that archive's hash.
    assert list(stored["versions"]) == ["v2.0.0"]
    archive = release.archive_of("v2.0.0")
    assert stored["archives"] == {"v2.0.0": archive.removesuffix(".tar")}
    # A local folder holds its archives already: nothing is copied into the cache.
    assert not client.archive_cache.exists()


def test_bad_client_version_is_a_programming_error(lab: Lab) -> None:
    with pytest.raises(ValueError):
        lab.client("v1.0")


def test_model_download_sha_is_checked_against_the_config(lab: Lab) -> None:
    lab.standard_repo()
    lab.serve(lab.release().files)
    client = lab.client("1.7.0")
    tiny = next(m for m in client.load().models if m.model == "tiny")
    assert tiny.download.sha256 == sha(lab.model_bytes)


DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError, not ValueError


def test_deeply_nested_state_files_are_damaged_files(lab: Lab,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    from tests.support.helpers import cli, run_tool

    capture(caplog)
    lab.standard_repo()
    lab.write_defaults()
    lab.serve(lab.release().files)
    client = lab.client("1.7.0")
    assert client.load().source == "remote"
    tiny = next(m for m in client.load().models if m.model == "tiny")
    client.ensure(tiny).release()

    state = client.state_dir / STATE_FILE
    state.write_bytes(DEEP)  # the rollback state: the remote cannot be checked against it
    caplog.clear()
    result = client.load()
    assert result.source == "last-known-good"
    assert [r.rule for r in result.reasons] == ["C002"]
    assert "R023" in result.reasons[0].message and "nested too deeply" in result.reasons[0].message

    client.last_known_good_path.write_bytes(DEEP)
    caplog.clear()
    result = client.load()
    assert result.source == "defaults" and [r.rule for r in result.reasons] == ["C002", "C007"]
    assert "is damaged: it is not JSON (nested too deeply)" in client_log(caplog)

    client.cache.index_path.write_bytes(DEEP)
    caplog.clear()
    with client.ensure(tiny) as model_file:  # hashed again, found good
        assert model_file.path.read_bytes() == lab.model_bytes
    assert "index" in client_log(caplog) and "damaged" in client_log(caplog)
    assert lab.server.body_requests("/files/tiny.bin") == 1

    client.cache.index_path.write_bytes(DEEP)
    listed = run_tool("cache", "ls", "--cache-dir", client.cache_dir)
    assert listed.exit_code == 0 and "Traceback" not in listed.stderr, listed.stderr
    verified = cli("verify", lab.out, "--allowed-signers", lab.allowed, "--state", state,
                   "--format", "json")
    assert verified.exit_code == 1, verified.stderr
    found = json.loads(verified.stdout)["findings"]
    assert [(f["rule"], f["path"]) for f in found] == [("R023", str(state))]
    assert "nested too deeply" in found[0]["message"]


def test_a_hung_holder_of_the_state_lock_is_a_clear_error(
        lab: Lab, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from repo_tools import locks
    from tests.support.helpers import cli
    from tests.test_cache import Holder

    capture(caplog)
    lab.standard_repo()
    lab.serve(lab.release().files)
    client = lab.client("1.7.0")
    state = client.state_dir / STATE_FILE
    lock = state.with_name(state.name + ".lock")
    monkeypatch.setattr(locks, "DEFAULT_TIMEOUT", 0.3)
    holder = Holder(lab.root, "path", lab.root, lock)
    try:
        result = client.load()  # never raises: the state is just not recorded this time
        assert result.source == "remote"
        assert f"another repo-tools process holds the lock {lock}" in client_log(caplog)
        assert not state.exists()
        run = cli("verify", lab.out, "--allowed-signers", lab.allowed, "--state", state)
        assert run.exit_code == 2 and f"holds the lock {lock}" in run.stderr, run.stderr
    finally:
        holder.kill()
    assert cli("verify", lab.out, "--allowed-signers", lab.allowed, "--state",
               state).exit_code == 0


@pytest.mark.parametrize("options", [
    'valid-after="20241301"',  # month 13
    'valid-before="00000101"',  # year 0
    "bogus-option",  # what the parser always refused
])
def test_malformed_allowed_signers_fail_the_client_with_the_parse_error(
        tmp_path: Path, options: str) -> None:
    # A bad timestamp is refused like any other malformed line: AllowedSignersError
    # (a ValueError) naming the line and the valid form, never a bare ValueError.
    from repo_tools.release import sshsig
    from tests.support.release_helpers import allowed_line

    text = "# release keys\n" + allowed_line(KEY, options=options)
    (tmp_path / "allowed_signers").write_text(text)
    for given in (text, tmp_path / "allowed_signers"):
        with pytest.raises(sshsig.AllowedSignersError, match="line 2: ") as caught:
            ConfigClient("1.0.0", "linux", source=BundleSource("http://127.0.0.1:9/rel/"),
                         allowed_signers=given, cache_dir=tmp_path / "cache")
        if "valid-" in options:
            assert "YYYYMMDD[HHMM[SS]][Z]" in str(caught.value)


@pytest.mark.parametrize(("index", "reason"), [
    (None, "index.json has no `versions` object"),
    (b'{"version": {}}', "index.json has no `versions` object"),
    (b'{"versions": ["v1.0.0"]}', "index.json has no `versions` object"),
])
def test_a_signed_release_without_a_usable_index_is_an_invalid_remote(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, index: bytes | None,
        reason: str) -> None:
    # Signed by the trusted key and intact, so it passes verification (not C002), but a
    # release that `repo-tools release` would refuse to build: the client keeps its
    # defaults and says C003; `resolve --bundle` reports the same.
    capture(caplog)
    kit = new_kit()
    files = [f for f in default_files() if f.path != "index.json"]
    if index is not None:
        files.append(ReleaseFile("index.json", index))
    files.sort(key=lambda f: f.path.encode())  # a manifest lists its files in order
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    release = kit.release(files, created=now - dt.timedelta(minutes=1),
                          expires=now + dt.timedelta(days=1))
    out = release.folder(tmp_path / "release")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(kit.allowed)

    client = ConfigClient("1.0.0", source=BundleSource(str(out)), allowed_signers=allowed,
                          cache_dir=tmp_path / "cache", config=FAST)
    result = client.load()
    assert result.source == "defaults"
    assert [r.rule for r in result.reasons] == ["C003", "C007"]
    assert reason in result.reasons[0].message
    assert "C003" in client_log(caplog)

    run = cli("resolve", "--client-version", "1.0.0", "--bundle", str(out),
              "--allowed-signers", allowed, "--format", "json")
    assert run.exit_code == 1, run.stdout + run.stderr
    assert "C003" in run.stdout + run.stderr and reason in run.stdout + run.stderr
