"""`repo-tools probe` against a real HTTP(S) server on 127.0.0.1 (tests/support/httpserver.py).

Limits are small (ms backoff, sub-second timeouts) so that retries and timeouts are
exercised for real without slow tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.helpers import Run, cli, findings_json, make_repo, model, rules_of
from tests.support.httpserver import (
    BackgroundServer,
    Body,
    Delay,
    LoopbackServer,
    QuietHTTPServer,
    Redirect,
    RequireHeader,
    Reset,
    Short,
    Stall,
    Status,
    http_date,
    make_certificate,
    sha256_hex,
)

DATA = bytes(range(256)) * 4096  # 1 MiB
DATA_SHA = sha256_hex(DATA)
FAST = ("--retries", "2", "--max-backoff", "0.02", "--max-retry-after", "0.2",
        "--connect-timeout", "2", "--read-timeout", "0.5")


pytestmark = pytest.mark.usefixtures("no_ambient_credentials")


def entry(url: str, sha: str | None = DATA_SHA, **download: Any) -> dict[str, Any]:
    dl: dict[str, Any] = {"url": url, **download}
    if sha is not None:
        dl["sha256"] = sha
    dl.setdefault("cachePath", "m/" + url.rsplit("/", 1)[-1].split("?")[0] + ".bin")
    return model(model=f"m-{abs(hash(url)) % 10**8}", download=dl)


def repo_with(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    make_repo(tmp_path / "repo", {"v1.0.0/huggingface": {"schema_version": "2.0",
                                                         "models": list(entries)}})
    return model_file(tmp_path)


def model_file(tmp_path: Path) -> Path:
    return tmp_path / "repo" / "versions" / "v1.0.0" / "models" / "huggingface.json"


def probe(tmp_path: Path, *args: str | Path, fmt: str = "json") -> Run:
    return cli("probe", "--format", fmt, "--cache-dir", tmp_path / "cache", *FAST, *args,
               model_file(tmp_path))


def only(run: Run) -> dict[str, Any]:
    found = findings_json(run)
    assert len(found) == 1, found
    return found[0]


# -- status codes and retries ----------------------------------------------------------------


def test_200_with_matching_sha_is_clean_and_hashed(tmp_path: Path,
                                                   server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/ok.bin", Body(DATA))))
    run = probe(tmp_path, "--hash")
    assert run.exit_code == 0, run.stdout
    assert findings_json(run) == []
    assert server.count("/ok.bin", "HEAD") == 1
    assert server.body_requests("/ok.bin") == 1


def test_without_hash_no_body_is_requested(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/ok.bin", Body(DATA)), sha="0" * 64))
    run = probe(tmp_path)
    assert run.exit_code == 0
    assert server.body_requests() == 0


def test_404_is_reported_and_never_retried(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/gone.bin", Status(404))))
    run = probe(tmp_path, "--hash")
    assert run.exit_code == 1
    f = only(run)
    assert f["rule"] == "P001"
    assert "404" in f["message"]
    assert f["line"] > 1 and f["pointer"].endswith("/download/url")
    assert server.count("/gone.bin") == 1


def test_500_then_200_is_retried_to_success(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/flaky.bin", Status(500), Status(502), Body(DATA))))
    run = probe(tmp_path, "--hash")
    assert run.exit_code == 0, run.stdout
    assert server.count("/flaky.bin", "HEAD") == 3


def test_persistent_500_is_reported_after_the_retries(tmp_path: Path,
                                                      server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/down.bin", Status(503))))
    run = probe(tmp_path)
    f = only(run)
    assert f["rule"] == "P001" and "503" in f["message"]
    assert server.count("/down.bin") == 3  # 1 + --retries 2


def test_429_with_retry_after_is_honoured(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route(
        "/busy.bin", Status(429, headers={"Retry-After": "0"}), Body(DATA))))
    run = probe(tmp_path, "--hash")
    assert run.exit_code == 0, run.stdout
    assert server.count("/busy.bin", "HEAD") == 2


def test_retry_after_caps_and_dates(server: LoopbackServer) -> None:
    """The waits asked for by Retry-After, as the fetcher would sleep them (recorded)."""
    from repo_tools.net import Deadline, NetworkLimits
    from repo_tools.net.transport import Transport

    slept: list[float] = []
    limits = NetworkLimits(retries=3, retry_after_cap=30.0, backoff_base=1.0, backoff_cap=8.0)
    fetcher = Transport(limits, sleep=slept.append, rng=lambda: 1.0)
    unbounded = Deadline(None)
    url = server.route("/ra", Status(429, headers={"Retry-After": "7"}),
                       Status(503, headers={"Retry-After": "1000"}),
                       Status(503, headers={"Retry-After": http_date(60)}), Body(b"x"))
    response = fetcher.send("GET", url, unbounded)
    assert response.status == 200
    assert slept[0] == 7.0
    assert slept[1] == 30.0  # capped
    assert 29.0 <= slept[2] <= 30.0  # an HTTP-date a minute away, capped
    slept.clear()
    url = server.route("/backoff", Status(500), Status(500), Status(500), Body(b"x"))
    assert fetcher.send("GET", url, unbounded).status == 200
    assert slept == [1.0, 2.0, 4.0]  # exponential (jitter pinned to its top)
    fetcher.close()


# -- redirects ----------------------------------------------------------------------------------


def test_redirect_chain_is_followed(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/c", Body(DATA))
    server.route("/b", Redirect("/c", 307))
    repo_with(tmp_path, entry(server.route("/a", Redirect(server.url("/b"), 301))))
    run = probe(tmp_path, "--hash")
    assert run.exit_code == 0, run.stdout
    assert [r.path for r in server.requests if r.method == "GET"] == ["/a", "/b", "/c"]


def test_redirect_loop_is_reported(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/y", Redirect("/x"))
    repo_with(tmp_path, entry(server.route("/x", Redirect("/y"))))
    f = only(probe(tmp_path))
    assert f["rule"] == "P003"
    assert "loop" in f["message"] and "/x -> " in f["message"]
    assert server.count() == 2


def test_too_many_redirects_are_reported(tmp_path: Path, server: LoopbackServer) -> None:
    for i in range(15):
        server.route(f"/r{i}", Redirect(f"/r{i + 1}"))
    repo_with(tmp_path, entry(server.url("/r0")))
    f = only(probe(tmp_path))
    assert f["rule"] == "P003" and "more than 10 redirects" in f["message"]


def test_a_3xx_that_is_not_a_redirect_is_an_error_status(tmp_path: Path,
                                                         server: LoopbackServer) -> None:
    # Only 301/302/303/307/308 are followed; a 300 is an answer, Location or not.
    repo_with(tmp_path, entry(server.route("/choices.bin",
                                           Status(300, headers={"Location": "/a.bin"}))))
    f = only(probe(tmp_path))
    assert f["rule"] == "P001"
    assert f["message"] == "the server answers 300 Multiple Choices"
    assert server.count("/a.bin") == 0


def test_https_redirect_to_http_is_flagged(tmp_path: Path, server: LoopbackServer) -> None:
    cert = make_certificate(tmp_path / "tls")
    target = server.route("/plain.bin", Body(DATA))
    with LoopbackServer(cert.server_context()) as tls:
        repo_with(tmp_path, entry(tls.route("/secure.bin", Redirect(target))))
        run = probe(tmp_path, "--hash", "--ca-bundle", cert.cert)
        f = only(run)
        assert f["rule"] == "P004" and f["severity"] == "warning"
        assert "plain http" in f["message"]
        assert run.exit_code == 0
        assert probe(tmp_path, "--ca-bundle", cert.cert, "--strict").exit_code == 1
        # Without the CA the self-signed certificate is refused, and said so.
        untrusted = only(probe(tmp_path, "--retries", "0"))
        assert untrusted["rule"] == "P002" and "certificate" in untrusted["message"]


def test_credentials_never_follow_a_redirect_down_to_plain_http(
        tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Same host name (127.0.0.1) on both hops: only the scheme drops, and with it the token.
    cert = make_certificate(tmp_path / "tls")
    target = server.route("/plain.bin", Body(DATA))
    with LoopbackServer(cert.server_context()) as tls:
        monkeypatch.setenv("REPO_TOOLS_TOKENS", f"127.0.0.1:{tls.port}=downgrade-PLANTED-77f1 "
                           f"http://127.0.0.1:{server.port}=downgrade-PLANTED-77f1")
        repo_with(tmp_path, entry(tls.route("/secure.bin", Redirect(target))))
        run = probe(tmp_path, "--hash", "--ca-bundle", cert.cert)
        assert only(run)["rule"] == "P004"
        secure = [r.headers.get("Authorization") for r in tls.requests]
    plain = [r.headers.get("Authorization") for r in server.requests]
    assert secure and all(a == "Bearer downgrade-PLANTED-77f1" for a in secure)
    assert plain and all(a is None for a in plain)


# -- bodies ---------------------------------------------------------------------------------------


def test_connection_reset_mid_body(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/reset.bin", Reset(DATA, sent=100_000))))
    f = only(probe(tmp_path, "--hash"))
    assert f["rule"] == "P009"
    assert f"of {len(DATA)} bytes" in f["message"] and "3 attempts" in f["message"]
    assert server.body_requests("/reset.bin") == 3


def test_reset_then_good_body_recovers(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/once.bin", Body(DATA), Reset(DATA, 5000),
                                           Body(DATA))))
    run = probe(tmp_path, "--hash")
    assert run.exit_code == 0, run.stdout
    assert server.body_requests("/once.bin") == 2


def test_body_shorter_than_content_length(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/short.bin", Short(DATA[:1000], announced=5000))))
    f = only(probe(tmp_path, "--hash", "--retries", "1"))
    assert f["rule"] == "P009"
    assert "1000 of 5000 bytes" in f["message"]


def test_slow_server_trips_the_read_timeout(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/slow.bin", Delay(3, Body(DATA)))))
    f = only(probe(tmp_path, "--retries", "0", "--read-timeout", "0.3"))
    assert f["rule"] == "P002" and "read timeout" in f["message"]


def test_stall_mid_body_trips_the_read_timeout(tmp_path: Path,
                                               server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/stall.bin", Stall(DATA, sent=50_000, seconds=3))))
    f = only(probe(tmp_path, "--hash", "--retries", "0", "--read-timeout", "0.3"))
    assert f["rule"] == "P002" and "read timeout" in f["message"]


def test_html_page_with_200(tmp_path: Path, server: LoopbackServer) -> None:
    page = b"<!DOCTYPE html><html><body>Please log in</body></html>"
    repo_with(tmp_path,
              entry(server.route("/login", Body(page, content_type="text/html; charset=utf-8"))),
              entry(server.route("/disguised.bin", Body(b"\n  <html>error</html>"))))
    run = probe(tmp_path, "--hash")
    found = findings_json(run)
    assert [f["rule"] for f in found] == ["P008", "P008"]
    assert run.exit_code == 1


def test_size_differs_from_recorded_size(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/ok.bin", Body(DATA)), size=len(DATA) + 1))
    f = only(probe(tmp_path))
    assert f["rule"] == "P005" and f["pointer"].endswith("/download/size")
    assert str(len(DATA)) in f["message"]


def test_checksum_mismatch(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/ok.bin", Body(DATA)), sha="f" * 64))
    f = only(probe(tmp_path, "--hash"))
    assert f["rule"] == "P006" and DATA_SHA in f["message"]
    assert f["pointer"].endswith("/download/sha256")


def test_max_size_refuses_large_bodies(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/big.bin", Body(DATA))))
    f = only(probe(tmp_path, "--hash", "--max-size", "100K"))
    assert f["rule"] == "P010" and f["severity"] == "warning"
    assert server.body_requests() == 0


# -- host-stated digests and the cache ---------------------------------------------------------


def _hf_like(server: LoopbackServer, path: str, linked: str) -> str:
    """Like huggingface.co's resolve URLs: a redirect that states the LFS sha256."""
    server.route(path + "-cdn", Body(DATA, etag='"cdn"'))
    return server.route(path, Redirect(path + "-cdn", headers={
        "X-Linked-Etag": f'"{linked}"', "X-Linked-Size": str(len(DATA))}))


def test_x_linked_etag_is_used_without_downloading(tmp_path: Path,
                                                   server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(_hf_like(server, "/hf.bin", DATA_SHA)))
    run = probe(tmp_path, "--hash", "-v", fmt="text")
    assert run.exit_code == 0, run.stdout
    assert server.body_requests() == 0
    assert "X-Linked-Etag" in run.stderr


def test_x_linked_etag_mismatch_and_hash_full(tmp_path: Path, server: LoopbackServer) -> None:
    stated = "c" * 64  # the host states a digest the body does not have
    repo_with(tmp_path, entry(_hf_like(server, "/hf.bin", stated), sha=stated))
    assert probe(tmp_path, "--hash").exit_code == 0
    f = only(probe(tmp_path, "--hash=full"))
    assert f["rule"] == "P006" and DATA_SHA in f["message"]
    assert server.body_requests("/hf.bin-cdn") == 1
    repo_with(tmp_path, entry(_hf_like(server, "/hf.bin", DATA_SHA), sha="d" * 64))
    f = only(probe(tmp_path, "--hash"))
    assert f["rule"] == "P006" and "X-Linked-Etag" in f["message"]


def test_second_run_downloads_nothing(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path,
              entry(server.route("/etag.bin", Body(DATA, etag='"v1"'))),
              entry(server.route("/lm.bin", Body(DATA, last_modified=http_date(-3600)))))
    assert probe(tmp_path, "--hash").exit_code == 0
    assert server.body_requests() == 2
    server.reset_log()
    run = probe(tmp_path, "--hash", fmt="text")
    assert run.exit_code == 0
    assert server.body_requests() == 0
    assert server.count(method="HEAD") == 2
    assert "2 from the hash cache" in run.stderr


def test_changed_validator_means_a_new_download(tmp_path: Path,
                                                server: LoopbackServer) -> None:
    url = server.route("/v.bin", Body(DATA, etag='"v1"'))
    repo_with(tmp_path, entry(url))
    assert probe(tmp_path, "--hash").exit_code == 0
    other = DATA[::-1]
    server.route("/v.bin", Body(other, etag='"v2"'))  # re-uploaded upstream
    f = only(probe(tmp_path, "--hash"))
    assert f["rule"] == "P006" and sha256_hex(other) in f["message"]
    assert server.body_requests("/v.bin") == 2


def test_no_validators_means_no_caching(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/plain.bin", Body(DATA))))
    probe(tmp_path, "--hash")
    probe(tmp_path, "--hash")
    assert server.body_requests() == 2


def test_no_cache_flag(tmp_path: Path, server: LoopbackServer) -> None:
    repo_with(tmp_path, entry(server.route("/e.bin", Body(DATA, etag='"e"'))))
    probe(tmp_path, "--hash", "--no-cache")
    probe(tmp_path, "--hash", "--no-cache")
    assert server.body_requests() == 2
    assert not (tmp_path / "cache").exists()


# -- --write --------------------------------------------------------------------------------------


def test_write_fixes_and_fills_in_sha256(tmp_path: Path, server: LoopbackServer) -> None:
    path = repo_with(tmp_path,
                     entry(server.route("/wrong.bin", Body(DATA)), sha="e" * 64),
                     entry(server.route("/none.bin", Body(DATA[:1000]))))
    doc = json.loads(path.read_text())
    del doc["models"][1]["download"]["sha256"]
    path.write_text(json.dumps(doc, indent=4) + "\n")
    before = path.read_text()
    run = probe(tmp_path, "--write", fmt="text")
    # Both were fixed: nothing is left to report, and stderr says what was fixed.
    assert run.exit_code == 0, run.stdout
    assert "Found" not in run.stdout
    fixed = [line for line in run.stderr.splitlines() if line.startswith("fixed ")]
    assert len(fixed) == 2 and all("written by --write" in line for line in fixed)
    assert {line.split(": ")[1].split()[0] for line in fixed} == {"P006", "P011"}
    assert all(f"{path}:" in line for line in fixed)
    after = path.read_text()
    expected = json.loads(before)
    expected["models"][0]["download"]["sha256"] = DATA_SHA
    expected["models"][1]["download"]["sha256"] = sha256_hex(DATA[:1000])
    assert json.loads(after) == expected
    # Only the digests changed: the rest keeps its 4-space layout and key order.
    assert after.replace(DATA_SHA, "e" * 64).count("\n") == before.count("\n") + 1
    assert after.startswith(before.split('"sha256"')[0])
    assert list(json.loads(after)["models"][1]["download"]) == ["url", "sha256", "cachePath"]
    again = probe(tmp_path, "--write")
    assert again.exit_code == 0, again.stdout
    assert path.read_text() == after


def test_write_leaves_a_file_with_duplicate_keys_alone(tmp_path: Path,
                                                       server: LoopbackServer) -> None:
    path = repo_with(tmp_path, entry(server.route("/dup.bin", Body(DATA)), sha="e" * 64))
    text = path.read_text().replace('"model": ', '"model": "first", "model": ', 1)
    path.write_text(text)
    run = probe(tmp_path, "--write")
    assert run.exit_code == 1, run.stderr
    assert rules_of(run) == {"J004", "P006"}
    assert "written by --write" not in run.stdout
    assert path.read_text() == text


def test_write_through_a_symlink_keeps_the_link(tmp_path: Path,
                                                server: LoopbackServer) -> None:
    real = repo_with(tmp_path, entry(server.route("/link.bin", Body(DATA)), sha="e" * 64))
    link = tmp_path / "link.json"
    link.symlink_to(real)
    run = cli("probe", "--format", "json", "--cache-dir", tmp_path / "cache", *FAST,
              "--write", link)
    assert run.exit_code == 0 and rules_of(run) == set()
    assert link.is_symlink()
    assert json.loads(real.read_text())["models"][0]["download"]["sha256"] == DATA_SHA


def test_write_leaves_unreachable_entries_alone(tmp_path: Path,
                                                server: LoopbackServer) -> None:
    path = repo_with(tmp_path, entry(server.route("/gone.bin", Status(404)), sha="e" * 64))
    before = path.read_bytes()
    run = probe(tmp_path, "--write")
    assert rules_of(run) == {"P001"}
    assert path.read_bytes() == before


# -- whole-run behaviour --------------------------------------------------------------------------


def test_each_distinct_url_is_probed_once(tmp_path: Path, server: LoopbackServer) -> None:
    url = server.route("/shared.bin", Body(DATA))
    make_repo(tmp_path / "repo", {
        f"v1.{i}.0/huggingface": {"schema_version": "2.0", "models": [entry(url)]}
        for i in range(3)})
    run = cli("probe", "--format", "json", "--cache-dir", tmp_path / "cache", *FAST, "--hash",
              "--repo", tmp_path / "repo")
    assert run.exit_code == 0, run.stdout
    assert server.count("/shared.bin", "HEAD") == 1
    assert server.body_requests("/shared.bin") == 1


def test_deadline_reports_what_was_not_checked(tmp_path: Path,
                                               server: LoopbackServer) -> None:
    repo_with(tmp_path, *[entry(server.route(f"/d{i}", Delay(0.4, Body(DATA))))
                          for i in range(4)])
    run = probe(tmp_path, "--jobs", "1", "--deadline", "0.6", "--read-timeout", "2")
    rules = [f["rule"] for f in findings_json(run)]
    assert "P012" in rules and run.exit_code == 1
    assert server.count() < 4


def test_offline_url_rules(tmp_path: Path) -> None:
    repo_with(tmp_path,
              entry("https://huggingface.co/org/repo/blob/main/model.gguf"),
              entry("ftp://example.com/model.bin"))
    run = probe(tmp_path)
    found = {f["rule"]: f for f in findings_json(run)}
    assert set(found) == {"P007", "P013"}
    assert "/resolve/" in found["P007"]["message"]


@pytest.mark.parametrize("fmt", ["github", "sarif", "text"])
def test_every_output_format(tmp_path: Path, server: LoopbackServer, fmt: str) -> None:
    repo_with(tmp_path, entry(server.route("/gone.bin", Status(404))))
    run = probe(tmp_path, fmt=fmt)
    assert run.exit_code == 1
    if fmt == "github":
        assert run.stdout.startswith("::error file=") and "title=P001" in run.stdout
    elif fmt == "sarif":
        rule = json.loads(run.stdout)["runs"][0]["tool"]["driver"]["rules"][0]
        assert rule["id"] == "P001" and rule["name"] == "http-error"
    else:
        assert ": P001 the server answers 404" in run.stdout
        assert "\r" not in run.stderr and "hashing" not in run.stderr


def test_hash_flag_before_file_names(tmp_path: Path, server: LoopbackServer) -> None:
    """pre-commit passes `args` first and file names after them."""
    path = repo_with(tmp_path, entry(server.route("/ok.bin", Body(DATA)), sha="0" * 64))
    run = cli("probe", "--cache-dir", tmp_path / "cache", "--hash", path)
    assert run.exit_code == 1 and "P006" in run.stdout


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    run = cli("probe", tmp_path / "nope.json")
    assert run.exit_code == 2


# -- credentials never leak ------------------------------------------------------------------------

TOKEN = "tok-PLANTED-9f3a1c77"
NETRC_PASSWORD = "pw-PLANTED-77aa31"
QUERY_TOKEN = "q-PLANTED-55e0d2"
USERINFO_PASSWORD = "ui-PLANTED-1b9c44"
SIGNATURE = "sig-PLANTED-a0b1c2"


def test_planted_credentials_appear_nowhere(tmp_path: Path, server: LoopbackServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    basic = base64.b64encode(f"maintainer:{NETRC_PASSWORD}".encode()).decode()
    planted = [TOKEN, NETRC_PASSWORD, basic, QUERY_TOKEN, USERINFO_PASSWORD, SIGNATURE]
    monkeypatch.setenv("REPO_TOOLS_TOKENS", f"http://127.0.0.1:{server.port}={TOKEN}")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine localhost login maintainer password {NETRC_PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    port = server.port
    # 127.0.0.1 needs the bearer token; it redirects to `localhost` (another host name for
    # the same server), which needs the netrc login and must never see the token.
    server.route("/cdn.bin", RequireHeader("Authorization", f"Basic {basic}",
                                            Body(DATA, etag='"cdn-1"')))
    private = server.route("/private.bin", RequireHeader(
        "Authorization", f"Bearer {TOKEN}",
        Redirect(f"http://localhost:{port}/cdn.bin?X-Amz-Signature={SIGNATURE}")))
    server.route("/loop", Redirect(f"/loop2?sig={SIGNATURE}"))
    server.route("/loop2", Redirect("/loop"))
    path = repo_with(
        tmp_path,
        entry(f"{private}?token={QUERY_TOKEN}", sha="1" * 64),
        entry(f"http://user:{USERINFO_PASSWORD}@127.0.0.1:{port}/gone?token={QUERY_TOKEN}"),
        entry(server.url("/loop")),
        entry(f"http://localhost:{port}/cdn.bin?token={QUERY_TOKEN}", sha=None),
    )
    outputs: list[str] = []
    for fmt in ("json", "text", "github", "sarif"):
        run = probe(tmp_path, "--hash", "-v", "--output", tmp_path / f"report.{fmt}", fmt=fmt)
        outputs += [run.stdout, run.stderr, (tmp_path / f"report.{fmt}").read_text()]
    run = probe(tmp_path, "--write", "-v", fmt="text")
    outputs += [run.stdout, run.stderr]
    # P006 and P011 were fixed by --write (said on stderr); the loop is still there.
    assert "P003" in run.stdout
    assert "P006" in run.stderr and "P011" in run.stderr

    # The credentials were really used, each only on its own host.
    to_ip = [r for r in server.requests if r.headers.get("Host", "").startswith("127.0.0.1")
             and r.path.startswith("/private")]
    to_name = [r for r in server.requests if r.headers.get("Host", "").startswith("localhost")]
    assert to_ip and all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in to_ip)
    assert to_name and all(r.headers.get("Authorization") == f"Basic {basic}"
                           for r in to_name)

    written = [p.read_bytes().decode("utf-8", "replace")
               for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert written, "the cache should hold entries"
    model_text = path.read_text()
    for secret in planted:
        for text in [*outputs, *written]:
            assert secret not in text
        # Only the catalog's own URLs (which the maintainer wrote) may carry them.
        if secret in (TOKEN, NETRC_PASSWORD, basic, SIGNATURE):
            assert secret not in model_text


# -- progress --------------------------------------------------------------------------------------


def _run_with_tty_stderr(args: list[str], cwd: Path) -> tuple[int, str, str]:
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    proc = subprocess.Popen([sys.executable, "-m", "repo_tools", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    stdout = proc.stdout.read() if proc.stdout else b""
    code = proc.wait(timeout=60)
    os.close(master)
    return code, stdout.decode(), seen.decode("utf-8", "replace")


def test_progress_bar_only_on_a_terminal_in_text_format(tmp_path: Path,
                                                        server: LoopbackServer) -> None:
    path = repo_with(tmp_path, entry(server.route("/ok.bin", Body(DATA))))
    common = ["probe", "--no-cache", "--hash", str(path)]
    code, stdout, tty = _run_with_tty_stderr(common, tmp_path)
    assert code == 0, stdout + tty
    assert "hashing" in tty and "/s" in tty
    assert "hashing" not in stdout and "\x1b" not in stdout
    code, stdout, tty = _run_with_tty_stderr([*common, "--format", "json"], tmp_path)
    assert code == 0
    assert "hashing" not in tty
    assert json.loads(stdout)["findings"] == []


# -- the hook --------------------------------------------------------------------------------------


def test_probe_hook_is_manual_only() -> None:
    import yaml

    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "probe-downloads")
    assert hook["entry"] == "repo-tools probe"
    assert hook["stages"] == ["manual"]  # it needs the network


# -- review fixes ----------------------------------------------------------------------------


def test_netrc_default_entry_is_never_sent(tmp_path: Path, server: LoopbackServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("default login anyone password default-PLANTED-9f\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    url = server.route("/public.bin", Body(DATA))
    repo_with(tmp_path, entry(url))
    assert probe(tmp_path).exit_code == 0
    assert server.requests and all("Authorization" not in r.headers for r in server.requests)


class EditWhileServing:
    """Serves the body, but first edits the model file, as a person might mid-run."""

    def __init__(self, path: Path, body: Body) -> None:
        self.path, self.body = path, body

    def serve(self, handler: Any) -> None:
        text = self.path.read_text()
        if "edited-by-a-person" not in text:
            self.path.write_text(text.replace('"ranking": 10', '"ranking": 11, '
                                              '"metadata": {"note": "edited-by-a-person"}'))
        self.body.serve(handler)


def test_write_never_overwrites_an_edit_made_during_the_run(tmp_path: Path,
                                                            server: LoopbackServer) -> None:
    path = model_file(tmp_path)
    url = server.route("/edited.bin", EditWhileServing(path, Body(DATA)))
    repo_with(tmp_path, entry(url, sha="0" * 64))
    run = probe(tmp_path, "--hash=full", "--write")
    assert run.exit_code == 2
    assert "changed while probing" in run.stderr
    text = path.read_text()
    assert "edited-by-a-person" in text and "0" * 64 in text


@pytest.mark.parametrize("option", ["--read-timeout=nan", "--connect-timeout=inf",
                                    "--deadline=nan", "--max-backoff=inf", "--jobs=100000"])
def test_non_finite_or_absurd_limits_are_usage_errors(tmp_path: Path, option: str) -> None:
    repo_with(tmp_path, entry("https://example.invalid/x.bin"))
    run = cli("probe", option, model_file(tmp_path))
    assert run.exit_code == 2


# -- the http.client transport ---------------------------------------------------------------


class OnConnection:
    """Records which client connection (its source port) carried each request."""

    def __init__(self, ports: list[int], then: Any) -> None:
        self.ports, self.then = ports, then

    def serve(self, handler: Any) -> None:
        self.ports.append(handler.client_address[1])
        self.then.serve(handler)


class Chunked:
    """200 with `Transfer-Encoding: chunked` and no Content-Length."""

    def __init__(self, data: bytes, chunk: int = 70_000) -> None:
        self.data, self.chunk = data, chunk

    def serve(self, handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        if handler.command == "HEAD":
            return
        for start in range(0, len(self.data), self.chunk):
            piece = self.data[start:start + self.chunk]
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        handler.wfile.write(b"0\r\n\r\n")


def test_one_keep_alive_connection_carries_every_request(tmp_path: Path,
                                                         server: LoopbackServer) -> None:
    ports: list[int] = []
    repo_with(tmp_path, *[entry(server.route(f"/k{i}.bin", OnConnection(ports, Body(DATA))))
                          for i in range(3)])
    run = probe(tmp_path, "--hash=full", "--jobs", "1")
    assert run.exit_code == 0, run.stdout
    assert len(ports) == 6 and len(set(ports)) == 1  # HEAD and GET of each, one connection


def test_chunked_and_compressed_bodies_are_hashed_as_the_file(tmp_path: Path,
                                                              server: LoopbackServer) -> None:
    import gzip
    import zlib

    repo_with(tmp_path,
              entry(server.route("/chunked.bin", Chunked(DATA))),
              entry(server.route("/gzip.bin", Body(gzip.compress(DATA),
                                                   headers={"Content-Encoding": "gzip"}))),
              entry(server.route("/deflate.bin", Body(zlib.compress(DATA),
                                                      headers={"Content-Encoding": "deflate"}))))
    run = probe(tmp_path, "--hash=full")
    assert run.exit_code == 0, run.stdout


@pytest.mark.parametrize("compressible", [True, False])
def test_content_length_of_a_compressed_body_is_not_the_file_size(
        tmp_path: Path, server: LoopbackServer, compressible: bool) -> None:
    # We ask for `Accept-Encoding: identity`; a server that compresses anyway announces the
    # compressed length, which is neither what download.size records nor what we hash.
    import gzip
    import random

    data = DATA if compressible else random.Random(7).randbytes(len(DATA))
    body = gzip.compress(data)
    assert (len(body) < len(data)) is compressible
    repo_with(tmp_path, entry(server.route("/z.bin", Body(body,
                                                          headers={"Content-Encoding": "gzip"})),
                              sha=sha256_hex(data), size=len(data)))
    run = probe(tmp_path)
    assert run.exit_code == 0, run.stdout
    assert findings_json(run) == []
    run = probe(tmp_path, "--hash=full")
    assert run.exit_code == 0, run.stdout
    assert findings_json(run) == []
    assert server.body_requests("/z.bin") == 1  # hashed once, never retried as short


def test_plain_http_goes_through_the_environment_proxy(
        tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The loopback server stands in for the proxy: it sees the absolute URL, and the host
    # (which does not resolve) is never contacted directly.
    url = "http://files.example.invalid/p.bin"
    server.route(url, Body(DATA))
    repo_with(tmp_path, entry(url))
    monkeypatch.setenv("HTTP_PROXY", f"http://user:pw-PLANTED-31@127.0.0.1:{server.port}")
    run = probe(tmp_path, "--hash=full")
    assert run.exit_code == 0, run.stdout
    assert server.body_requests(url) == 1
    proxy_auth = {r.headers.get("Proxy-Authorization") for r in server.requests}
    assert proxy_auth == {"Basic dXNlcjpwdy1QTEFOVEVELTMx"}
    monkeypatch.setenv("NO_PROXY", "localhost,.example.invalid")
    f = only(probe(tmp_path, "--retries", "0"))
    assert f["rule"] == "P002" and f["message"] == "the host name does not resolve"


@pytest.mark.parametrize("proxy_scheme", ["http", "https"])
def test_https_tunnels_through_the_environment_proxy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxy_scheme: str) -> None:
    import select
    import socket
    import ssl
    from http.server import BaseHTTPRequestHandler

    tunnels: list[str] = []

    class Connect(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_CONNECT(self) -> None:
            tunnels.append(self.path)
            host, port = self.path.rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                self.send_response(200)
                self.end_headers()
                ends = [self.connection, upstream]
                while True:
                    # TLS to the proxy may hold decrypted bytes the socket no longer shows.
                    buffered = isinstance(self.connection, ssl.SSLSocket) and \
                        self.connection.pending()
                    readable = [self.connection] if buffered else \
                        select.select(ends, [], [], 5)[0]
                    data = readable[0].recv(65536) if readable else b""
                    if not data:
                        return
                    (upstream if readable[0] is self.connection else self.connection
                     ).sendall(data)

    cert = make_certificate(tmp_path / "tls")
    proxy = QuietHTTPServer(("127.0.0.1", 0), Connect)
    if proxy_scheme == "https":  # TLS to the proxy, and TLS inside the tunnel
        proxy.socket = cert.server_context().wrap_socket(proxy.socket, server_side=True)
    with BackgroundServer(proxy), LoopbackServer(cert.server_context()) as tls:
        repo_with(tmp_path, entry(tls.route("/t.bin", Body(DATA))))
        monkeypatch.setenv("HTTPS_PROXY",
                           f"{proxy_scheme}://127.0.0.1:{proxy.server_address[1]}")
        run = probe(tmp_path, "--hash=full", "--ca-bundle", cert.cert)
        assert run.exit_code == 0, run.stdout
        assert tls.body_requests("/t.bin") == 1
    assert tunnels and set(tunnels) == {f"127.0.0.1:{tls.port}"}


def test_off_a_terminal_each_hashed_url_gets_a_log_line(tmp_path: Path,
                                                        server: LoopbackServer) -> None:
    # CI logs: no live line to redraw, but never minutes of silence either.
    hashed = server.route("/logged.bin", Body(DATA)) + "?sig=PLANTED-s1"
    repo_with(tmp_path, entry(hashed), entry(server.route("/gone.bin", Status(404))))
    run = probe(tmp_path, "--hash=full")
    lines = [line for line in run.stderr.splitlines() if line.startswith("hashed ")]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"hashed {server.url('/logged.bin')}?…: 1.0 MiB (1 so far, ")
    assert "PLANTED" not in run.stderr
    assert "\r" not in run.stderr and "\x1b" not in run.stderr


def test_the_progress_log_repeats_the_progress_line_while_hashing() -> None:
    import io

    from repo_tools.cli.probe import ProgressLog

    now = [0.0]
    stream = io.StringIO()
    log = ProgressLog(stream, every=30.0, clock=lambda: now[0])
    log.expect(4 << 30)
    for _ in range(10):
        now[0] += 10.0
        log.advance(100 << 20)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3  # at 30, 60 and 90 s of a 100 s download
    assert lines[0].startswith("hashing 300.0 MiB / 4.0 GiB")
