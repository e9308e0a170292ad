"""The network layer (`repo_tools.net`) through its users: probe, the client and release
fetches, against real servers on 127.0.0.1 that trickle, never end, or redirect.

A few tests bound wall time: the issue they guard is a run that did not end (a probe
killed at 45 s, a `load()` blocked for 16 s), so the bound is the behaviour, with seconds
of slack, not a performance figure.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest

from repo_tools.client import ClientConfig, DownloadError
from repo_tools.model import entry_of
from repo_tools.net import Credentials, CredentialsError, Deadline
from repo_tools.net.transport import DEADLINE, NetworkError, Transport, classify
from repo_tools.probe import hashing
from tests.support.client_helpers import FAST, Lab, entry
from tests.support.helpers import cli, findings_json, make_repo, model
from tests.support.httpserver import Body, Endless, LoopbackServer, Redirect, Trickle, sha256_hex

TOKEN = "tok-PLANTED-4e1d90"


pytestmark = pytest.mark.usefixtures("no_ambient_credentials")


def probe_repo(tmp_path: Path, *urls: str) -> Path:
    models = [model(model=f"m{i}", download={"url": url, "sha256": "0" * 64,
                                              "cachePath": f"m/{i}.bin"})
              for i, url in enumerate(urls)]
    make_repo(tmp_path / "repo", {"v1.0.0/acme": {"schema_version": "2.0", "models": models}})
    return tmp_path / "repo" / "versions" / "v1.0.0" / "models" / "acme.json"


# -- credentials: exact origins -----------------------------------------------------------


def test_a_token_goes_to_its_exact_origin_only() -> None:
    creds = Credentials(env={"REPO_TOOLS_TOKENS": f"files.example.com={TOKEN} "
                                                  "http://127.0.0.1:8080=other-token"})
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert creds.headers_for("https://files.example.com/a.bin") == bearer
    assert creds.headers_for("https://FILES.Example.com:443/b?x=1") == bearer
    for elsewhere in ("https://files-example.com/a.bin", "https://files.example_com/a.bin",
                      "http://files.example.com/a.bin", "https://files.example.com:8443/a",
                      "https://cdn.files.example.com/a.bin", "https://example.com/a.bin"):
        assert creds.headers_for(elsewhere) == {}, elsewhere
    assert creds.headers_for("http://127.0.0.1:8080/x")["Authorization"].endswith("other-token")
    assert creds.headers_for("http://127.0.0.1:8081/x") == {}


def test_a_tokens_file_and_bad_items_are_explained_without_the_token(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# private mirrors\nmodels.example.org = {TOKEN}\n".replace(" = ", "="))
    creds = Credentials(env={"REPO_TOOLS_TOKENS_FILE": str(tokens)})
    assert creds.headers_for("https://models.example.org/m")["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN in creds.secrets()
    for bad in (f"https://x.example/path={TOKEN}", f"{TOKEN}", "x.example="):
        with pytest.raises(CredentialsError) as raised:
            Credentials(env={"REPO_TOOLS_TOKENS": bad})
        assert TOKEN not in str(raised.value) and "ORIGIN=TOKEN" in str(raised.value)


def test_a_redirect_to_a_look_alike_host_never_gets_the_token(
        tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The loopback server is the proxy: it sees every host by name, none of which resolves.
    # The old per-host variable named files.example.com and files-example.com alike.
    origin, look_alike = "http://files.example.com/m.bin", "http://files-example.com/m.bin"
    server.route(origin, Redirect(look_alike))
    server.route(look_alike, Body(b"model bytes"))
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("REPO_TOOLS_TOKENS", f"http://files.example.com={TOKEN}")
    monkeypatch.setenv("REPO_TOOLS_TOKEN_FILES_EXAMPLE_COM", TOKEN)
    run = cli("probe", "--format", "json", "--hash=full", "--no-cache",
              probe_repo(tmp_path, origin))
    to_origin = [r for r in server.requests if r.path == origin]
    to_look_alike = [r for r in server.requests if r.path == look_alike]
    assert to_origin and all(r.headers.get("Authorization") == f"Bearer {TOKEN}"
                             for r in to_origin)
    assert to_look_alike and all("Authorization" not in r.headers for r in to_look_alike)
    assert "REPO_TOOLS_TOKEN_FILES_EXAMPLE_COM is no longer read" in run.stderr
    assert TOKEN not in run.stdout + run.stderr


# -- deadlines against trickling servers ----------------------------------------------------


def test_a_trickling_answer_ends_at_the_deadline(server: LoopbackServer) -> None:
    transport = Transport()
    for path, trickle in (("/head", Trickle(in_head=True)), ("/body", Trickle())):
        url = server.route(path, trickle)
        start = time.monotonic()
        with pytest.raises(NetworkError) as raised:
            answer = transport.follow("GET", url, Deadline(1.0, name="the test's limit"))
            while answer.response.read(1 << 20):
                pass
        assert time.monotonic() - start < 3.0
        assert raised.value.kind == DEADLINE
        assert raised.value.message.startswith("the test's limit ran out")
    transport.close()


def test_probe_against_trickling_servers_ends_within_its_deadline(
        tmp_path: Path, server: LoopbackServer) -> None:
    head = server.route("/slow-head.bin", Trickle(in_head=True))
    body = server.route("/slow-body.bin", Trickle())
    fine = server.route("/fine.bin", Body(b"fine"))
    start = time.monotonic()
    run = cli("probe", "--format", "json", "--hash=full", "--no-cache", "--deadline", "3",
              "--read-timeout", "2", "--retries", "0", probe_repo(tmp_path, head, body, fine))
    assert time.monotonic() - start < 3 + 2
    by_url = {f["message"]: f["rule"] for f in findings_json(run)}
    rules = sorted(f["rule"] for f in findings_json(run))
    assert rules == ["P006", "P012", "P012"], by_url  # fine.bin's digest is not 0...0
    assert run.exit_code == 1


def test_a_hash_waiting_on_a_silent_reader_stops_when_told() -> None:
    never = threading.Event()

    def silent(n: int) -> bytes:
        never.wait(10)  # a reader stuck on a socket that sends nothing
        return b""

    stop_at = time.monotonic() + 0.3
    start = time.monotonic()
    with pytest.raises(hashing.Stopped):
        hashing.hash_stream(silent, should_stop=lambda: time.monotonic() > stop_at,
                            abort=never.set)
    assert time.monotonic() - start < 5


def test_client_load_against_a_trickling_release_falls_back_in_time(lab: Lab) -> None:
    lab.standard_repo()
    release = lab.release()
    url = lab.serve(release.files)
    lab.server.route("/rel/manifest.json", Trickle())
    config = dataclasses.replace(FAST, load_timeout=2.0, network=dataclasses.replace(
        FAST.network, read_timeout=1.0))
    start = time.monotonic()
    result = lab.client("1.1.0", config=config, url=url).load()
    assert time.monotonic() - start < 2.0 + 2
    assert result.source != "remote"
    assert result.reasons[0].rule == "C001"
    assert "load time limit (ClientConfig.load_timeout) ran out" in result.reasons[0].message


# -- sizes, errors ---------------------------------------------------------------------------


def test_an_undeclared_size_is_capped_and_leaves_nothing(tmp_path: Path,
                                                         server: LoopbackServer) -> None:
    from repo_tools.client import BundleSource, ConfigClient

    url = server.route("/endless.bin", Endless(limit=64 << 20))
    budget = 1 << 20
    client = ConfigClient("1.0.0", source=BundleSource("unused"), cache_dir=tmp_path / "cache",
                          config=dataclasses.replace(FAST, cache_budget_bytes=budget))
    with pytest.raises(DownloadError) as raised:
        client.ensure(entry_of(entry("endless", url, "0" * 64)))
    assert raised.value.rule.code == "C010"
    assert f"passed {budget} bytes" in raised.value.message
    assert "declares no download.size" in raised.value.message
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.endswith(".partial")]
    assert sum(p.stat().st_size for p in files) < budget


def test_client_download_errors_name_the_url_and_what_happened(tmp_path: Path) -> None:
    from repo_tools.client import BundleSource, ConfigClient

    with LoopbackServer() as gone:
        url = gone.url("/m.bin?token=q-PLANTED-1")
    client = ConfigClient("1.0.0", source=BundleSource("unused"), cache_dir=tmp_path / "cache",
                          config=FAST)
    with pytest.raises(DownloadError) as raised:
        client.ensure(entry_of(entry("m", url, sha256_hex(b"m"))))
    message = raised.value.message
    assert message.startswith(f"http://127.0.0.1:{url.split(':')[2].split('/')[0]}/m.bin?…: ")
    assert "the connection was refused" in message and "(after 4 attempts)" in message
    assert "PLANTED" not in message


def test_error_messages_never_quote_the_url() -> None:
    url = "https://host.example/file?token=SECRET-TOKEN-123"
    exc = OSError(f"cannot reach {url}")
    exc.__context__ = ConnectionRefusedError(111, "Connection refused")
    assert classify(exc, FAST.network)[1] == "the connection was refused"
    from urllib3 import exceptions as u3

    for raw in (OSError(url), u3.ProtocolError(url), u3.LocationParseError(url),
                u3.ProxyError(url, OSError(url))):
        kind, message = classify(raw, FAST.network)
        assert "SECRET" not in message and "host.example" not in message, kind


def test_release_fetches_refuse_a_redirect_down_to_plain_http(lab: Lab) -> None:
    from tests.support.httpserver import make_certificate

    cert = make_certificate(lab.root / "tls")
    target = lab.server.route("/plain/manifest.json", Body(b"{}"))
    with LoopbackServer(cert.server_context()) as tls:
        url = tls.route("/rel/manifest.json", Redirect(target))
        transport = Transport(dataclasses.replace(FAST.network, ca_bundle=Path(cert.cert)))
        with pytest.raises(NetworkError) as raised:
            transport.get_bytes(url, 1000, Deadline(5))
    assert raised.value.kind == "insecure-redirect"
    assert lab.server.count("/plain/manifest.json") == 0


def test_client_config_rejects_impossible_limits() -> None:
    for bad in ({"load_timeout": 0}, {"fetch_timeout": -1}, {"download_timeout": 0},
                {"max_undeclared_size": -1}):
        with pytest.raises(ValueError):
            ClientConfig(**bad)  # type: ignore[arg-type]


# -- conditional requests and retries of a whole GET --------------------------------------


def test_a_conditional_get_sends_the_validators_and_returns_the_answers(
        tmp_path: Path) -> None:
    from repo_tools.net.conditional import Validators
    from tests.support.staticserver import StaticServer, etag_of

    (tmp_path / "f.json").write_bytes(b"{}\n")
    with StaticServer(tmp_path) as server, Transport() as transport:
        url = server.url("/f.json")
        first = transport.get(url, 100, Deadline(10))
        assert (first.status, first.body) == (200, b"{}\n")
        assert first.validators.etag == etag_of(b"{}\n") and first.validators.last_modified
        again = transport.get(url, 100, Deadline(10), validators=first.validators)
        assert (again.status, again.body, again.validators) == (304, b"", first.validators)
        by_date = transport.get(url, 100, Deadline(10),
                                validators=Validators(last_modified=first.validators.last_modified))
        assert by_date.status == 304
        (tmp_path / "f.json").write_bytes(b"[]\n")
        changed = transport.get(url, 100, Deadline(10), validators=first.validators)
        assert (changed.status, changed.body) == (200, b"[]\n")
        sent = [e.headers for e in server.log]
    assert "If-None-Match" not in sent[0] and sent[1]["If-None-Match"] == first.validators.etag
    assert sent[1]["If-Modified-Since"] == first.validators.last_modified
    assert "If-None-Match" not in sent[2]


def test_validators_that_could_not_be_sent_back_are_dropped() -> None:
    from repo_tools.net.conditional import Validators

    headers = {"ETag": '"a"\r\nX-Injected: 1', "Last-Modified": "x" * 600}
    assert Validators.of(headers) == Validators()
    assert not Validators.of(headers) and Validators.of({"ETag": 'W/"a"'}).etag == 'W/"a"'
    with pytest.raises(ValueError):
        Validators(etag="a\nb")
    assert Validators('"e"', "Tue, 01 Dec 2026 08:00:00 GMT").request_headers() == {
        "If-None-Match": '"e"', "If-Modified-Since": "Tue, 01 Dec 2026 08:00:00 GMT"}


def test_a_body_cut_off_midway_is_fetched_again(server: LoopbackServer) -> None:
    from tests.support.httpserver import Reset, Short

    data = b"x" * 50_000
    url = server.route("/b.bin", Reset(data, 1000), Short(data[:10], len(data)), Body(data))
    limits = FAST.network
    with Transport(limits) as transport:
        assert transport.get(url, len(data), Deadline(10)).body == data
    assert server.count("/b.bin") == 3
    server.route("/b.bin", Reset(data, 1000))
    with Transport(dataclasses.replace(limits, retries=1)) as transport, \
            pytest.raises(NetworkError) as raised:
        transport.get(url, len(data), Deadline(10))
    assert raised.value.attempts == 2 and raised.value.kind in ("reset", "closed")
