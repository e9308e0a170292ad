"""`probe --shard K/N --report FILE` and `probe-merge`, against a real server on 127.0.0.1.

The partition and the merge checks are pure and tested without I/O; the rest runs the
real CLI on real files, with git where a commit matters.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from repo_tools.probe.cache import CACHE_FILE, merged_entries
from repo_tools.probe.merge import MergeError, check_reports
from repo_tools.probe.shard import Shard, normalise_url, parse_shard, partition, shard_of
from repo_tools.probe.shard_report import ShardReport, parse_report
from repo_tools.rules import probe as probe_rules
from repo_tools.schemas import PROBE_REPORT, load_schema
from tests.support.helpers import Run, cli, findings_json, git, make_repo, model
from tests.support.httpserver import (
    Body,
    LoopbackServer,
    Redirect,
    RequireHeader,
    Status,
    sha256_hex,
)

pytestmark = pytest.mark.usefixtures("no_ambient_credentials")

FAST = ("--retries", "1", "--max-backoff", "0.01", "--connect-timeout", "2",
        "--read-timeout", "2")

# -- the partition (pure) --------------------------------------------------------------------

hosts = st.sampled_from(["example.com", "Example.COM", "files.example.org", "127.0.0.1",
                         "[::1]", "hf.co"])
paths = st.lists(st.text(alphabet="abcXYZ019._~-%/", min_size=1, max_size=6), max_size=4)
urls = st.builds(lambda scheme, host, path, query: f"{scheme}://{host}/{'/'.join(path)}"
                 + (f"?{query}" if query else ""),
                 st.sampled_from(["http", "https", "HTTPS"]), hosts, paths,
                 st.text(alphabet="abc=&1", max_size=5))


@given(st.lists(urls, max_size=40), st.integers(1, 64), st.randoms())
def test_every_distinct_url_is_in_exactly_one_shard_whatever_the_order(
        found: list[str], count: int, rng: random.Random) -> None:
    shards = partition(found, count)
    assert sorted(shards) == list(range(1, count + 1))
    placed = [url for members in shards.values() for url in members]
    assert sorted(placed) == sorted(set(found))  # each distinct URL once
    shuffled = list(found) * 2  # repeated entries of the same URLs, in another order
    rng.shuffle(shuffled)
    again = partition(shuffled, count)
    assert {k: set(v) for k, v in again.items()} == {k: set(v) for k, v in shards.items()}


@given(st.sampled_from(["http", "https"]), st.sampled_from(["example.com", "127.0.0.1"]),
       paths, st.integers(1, 64))
def test_spellings_of_one_url_share_a_shard(scheme: str, host: str, path: list[str],
                                            count: int) -> None:
    url = f"{scheme}://{host}/{'/'.join(path)}"
    default_port = {"http": 80, "https": 443}[scheme]
    variants = [
        url.upper().replace(f"/{'/'.join(path).upper()}", f"/{'/'.join(path)}"),
        f"{scheme}://{host}:{default_port}/{'/'.join(path)}",
        f"{scheme}://user:secret@{host}/{'/'.join(path)}",
        f"{url}#part",
        f" {url} ",
    ]
    for variant in variants:
        assert normalise_url(variant) == normalise_url(url), variant
        assert shard_of(variant, count) == shard_of(url, count)


def test_normalisation_keeps_what_servers_tell_apart() -> None:
    base = "https://example.com/a/b"
    assert normalise_url("https://example.com/a/%2fb") == normalise_url(
        "https://example.com/a/%2Fb")
    for other in ("https://example.com/A/b", "https://example.com/a/b?x=1",
                  "http://example.com/a/b", "https://example.com:8443/a/b"):
        assert normalise_url(other) != normalise_url(base), other
    assert normalise_url("https://[::1") == "https://[::1"  # unparseable: its own key


def test_the_partition_is_balanced_and_fixed() -> None:
    found = [f"https://files.example.com/m/{i}.gguf" for i in range(2000)]
    sizes = [len(members) for members in partition(found, 4).values()]
    assert sum(sizes) == 2000 and min(sizes) > 400 and max(sizes) < 600
    # sha256 of the URL, not Python's salted hash(): these never change between runs.
    assert [shard_of(f"https://files.example.com/m/{i}.gguf", 4) for i in range(6)] == [
        shard_of(f"https://FILES.example.com:443/m/{i}.gguf#x", 4) for i in range(6)]


@pytest.mark.parametrize(("text", "message"), [
    ("0/4", "K from 1 to N"), ("5/4", "K from 1 to N"), ("1/0", "from 1 to 256"),
    ("1/257", "from 1 to 256"), ("a/b", "is not K/N"), ("1-4", "is not K/N"), ("", "K/N"),
])
def test_bad_shards_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_shard(text)
    run = cli("probe", "--shard", text, "x.json")
    assert run.exit_code == 2 and "--shard" in run.stderr


def test_a_shard_does_not_write(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    run = cli("probe", "--write", "--shard", "1/2", "a.json", cwd=tmp_path)
    assert run.exit_code == 2 and "run probe-merge --write" in run.stderr


def test_shard_parses() -> None:
    assert parse_shard(" 2 / 4 ") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"


# -- the merge checks (pure) -----------------------------------------------------------------


def fake(index: int, count: int, *, commit: str | None = "a" * 40, inputs: str = "f" * 64,
         options: dict[str, Any] | None = None,
         entries: tuple[tuple[str, str], ...] = ()) -> ShardReport:
    from repo_tools.probe.run import UrlOutcome
    from repo_tools.probe.shard_report import UrlRecord

    urls = tuple(UrlRecord(f"https://h/{e[1]}", (e,), UrlOutcome(status=200)) for e in entries)
    return ShardReport(f"r{index}.json", Shard(index, count), commit, inputs, ("a.json",),
                       options or {"hash": "auto"}, 1, urls)


@pytest.mark.parametrize(("reports", "message"), [
    ([], "no reports"),
    ([fake(1, 3), fake(2, 3)], "missing shard(s) 3/3"),
    ([fake(1, 2), fake(1, 2), fake(2, 2)], "overlapping reports: r1.json and r1.json"),
    ([fake(1, 2), fake(2, 3)], "split the URLs differently"),
    ([fake(1, 2), fake(2, 2, commit="b" * 40)], "different commits"),
    ([fake(1, 2), fake(2, 2, inputs="e" * 64)], "probed different files"),
    ([fake(1, 2), fake(2, 2, options={"hash": "full"})],
     "different options: --hash 'auto' in r1.json, 'full' in r2.json"),
    ([fake(1, 2, entries=(("a.json", "/models/0/download"),)),
      fake(2, 2, entries=(("a.json", "/models/0/download"),))],
     "both probed a.json#/models/0/download"),
])
def test_reports_that_do_not_fit_together_are_refused(reports: list[ShardReport],
                                                      message: str) -> None:
    with pytest.raises(MergeError) as refused:
        check_reports(reports)
    assert message in str(refused.value)


def test_the_shards_of_one_run_fit_in_any_order() -> None:
    check_reports([fake(3, 3), fake(1, 3), fake(2, 3)])
    check_reports([fake(1, 1, commit=None)])


# -- a catalogue on a local server -----------------------------------------------------------

DATA = b"weights " * 5000
DATA_SHA = sha256_hex(DATA)


def entry(url: str, sha: str | None = DATA_SHA, name: str = "m") -> dict[str, Any]:
    download: dict[str, Any] = {"url": url, "cachePath": f"m/{name}.bin"}
    if sha is not None:
        download["sha256"] = sha
    return model(model=name, download=download)


def catalogue(root: Path, server: LoopbackServer, size: int = 24) -> Path:
    """Two model files whose entries share URLs, with every kind of outcome among them."""
    for i in range(size):
        server.route(f"/ok/{i}.bin", Body(DATA, etag=f'"ok-{i}"'))
    server.route("/gone.bin", Status(404))
    server.route("/page.bin", Body(b"<!doctype html><p>log in</p>", content_type="text/html"))
    server.route("/new.bin", Body(DATA + b"new", etag='"new"'))
    server.route("/moved.bin", Redirect("/ok/0.bin"))
    first = [entry(server.url(f"/ok/{i}.bin"), name=f"a{i}") for i in range(size)]
    first += [entry(server.url("/gone.bin"), name="gone"),
              entry(server.url("/page.bin"), name="page"),
              entry(server.url("/new.bin"), sha=None, name="unhashed"),
              entry(server.url("/moved.bin"), name="moved"),
              entry("ftp://example.com/x.bin", name="ftp")]
    # The second file uses half the same URLs (one spelt with a fragment: another URL to
    # probe, in the same shard), and one with the wrong digest.
    second = [entry(server.url(f"/ok/{i}.bin"), name=f"b{i}") for i in range(0, size, 2)]
    second.append(entry(server.url("/ok/1.bin") + "#copy", name="fragment"))
    second.append(entry(server.url("/new.bin"), sha="0" * 64, name="wrong"))
    make_repo(root, {"v1.0.0/first": {"schema_version": "2.0", "models": first},
                     "v1.1.0/second": {"schema_version": "2.0", "models": second}})
    (root / "versions/v1.1.0/models/broken.json").write_text('{"schema_version": "2.0",')
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "catalogue")
    return root


def probe(root: Path, *args: str | Path) -> Run:
    return cli("probe", "--format", "json", "--hash", "--no-cache", *FAST, *args, cwd=root)


def merge(root: Path, *args: str | Path) -> Run:
    return cli("probe-merge", "--format", "json", *args, cwd=root)


def requests_by_path(server: LoopbackServer) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for request in server.requests:
        key = (request.method, request.path)
        counts[key] = counts.get(key, 0) + 1
    return counts


def run_shards(root: Path, count: int, *args: str | Path) -> list[Run]:
    return [probe(root, "--shard", f"{k}/{count}", "--report", root / f"report-{k}.json",
                  *args) for k in range(1, count + 1)]


@pytest.mark.parametrize("count", [1, 3, 5])
def test_merged_shards_are_the_unsharded_run(tmp_path: Path, server: LoopbackServer,
                                             count: int) -> None:
    root = catalogue(tmp_path / "repo", server)
    whole = probe(root, "--report", tmp_path / "whole.json")
    assert whole.exit_code == 1
    expected = findings_json(whole)
    assert {f["rule"] for f in expected} >= {"P001", "P006", "P008", "P011", "P013", "J003"}
    unsharded_requests = requests_by_path(server)
    server.reset_log()

    shards = run_shards(root, count)
    assert requests_by_path(server) == unsharded_requests  # every URL as often in total
    # Each shard reports its own URLs' findings (file-level ones in shard 1): together,
    # the unsharded findings.
    together = sorted((f for run in shards for f in findings_json(run)),
                      key=lambda f: (f["path"], f["line"], f["column"], f["rule"]))
    assert together == sorted(expected, key=lambda f: (f["path"], f["line"], f["column"],
                                                       f["rule"]))
    reports = [root / f"report-{k}.json" for k in range(1, count + 1)]
    merged = merge(root, *reversed(reports))
    assert merged.exit_code == whole.exit_code == 1
    assert json.loads(merged.stdout) == json.loads(whole.stdout)

    for fmt in ("text", "github", "sarif"):
        assert (cli("probe-merge", "--format", fmt, *reports, cwd=root).stdout
                == cli("probe-merge", "--format", fmt, tmp_path / "whole.json",
                       cwd=root).stdout)


def test_reports_follow_their_schema(tmp_path: Path, server: LoopbackServer) -> None:
    root = catalogue(tmp_path / "repo", server, size=4)
    run_shards(root, 2)
    schema = load_schema(PROBE_REPORT)
    Draft202012Validator.check_schema(schema)
    check = Draft202012Validator(schema)
    outcomes = set()
    for k in (1, 2):
        doc = json.loads((root / f"report-{k}.json").read_text())
        assert list(check.iter_errors(doc)) == []
        assert doc["shard"] == {"index": k, "count": 2}
        assert doc["commit"] == git(root, "rev-parse", "HEAD")
        assert doc["options"]["hash"] == "auto" and "jobs" not in doc["options"]
        for item in doc["urls"]:
            outcomes.add(item["outcome"])
            assert item["shard"] == k and item["entries"]
    assert outcomes == {"hashed", "failed", "html"}
    ok = next(i for k in (1, 2) for i in json.loads(
        (root / f"report-{k}.json").read_text())["urls"] if i["url"].endswith("/ok/1.bin"))
    assert ok["sha256"] == DATA_SHA and ok["size"] == len(DATA) and ok["status"] == 200
    assert ok["validators"]["etag"] == '"ok-1"' and ok["sha256_source"] == "downloaded"
    assert len(ok["entries"]) == 1 and ok["seconds"] >= 0
    moved = next(i for k in (1, 2) for i in json.loads(
        (root / f"report-{k}.json").read_text())["urls"] if i["url"].endswith("/moved.bin"))
    assert moved["final_url"].endswith("/ok/0.bin")


def test_the_schema_names_every_way_a_url_can_fail() -> None:
    failure = load_schema(PROBE_REPORT)["$defs"]["url"]["properties"]["failure"]["oneOf"][1]
    codes = set(failure["properties"]["rule"]["enum"])
    assert codes <= {rule.code for rule in probe_rules.RULES}
    assert codes == {r.code for r in (probe_rules.HTTP_ERROR, probe_rules.CONNECTION_FAILED,
                                      probe_rules.BAD_REDIRECT, probe_rules.INCOMPLETE_BODY,
                                      probe_rules.DEADLINE, probe_rules.UNPROBEABLE_URL)}


def test_merge_write_is_probe_write(tmp_path: Path, server: LoopbackServer) -> None:
    root = catalogue(tmp_path / "repo", server, size=4)
    other = tmp_path / "copy"
    shutil.copytree(root, other)
    written = probe(root, "--write")
    run_shards(other, 3)
    merged = cli("probe-merge", "--format", "json", "--write", *sorted(other.glob("report-*")),
                 cwd=other)
    assert merged.exit_code == written.exit_code == 1
    assert json.loads(merged.stdout) == json.loads(written.stdout)
    for name in ("versions/v1.0.0/models/first.json", "versions/v1.1.0/models/second.json"):
        assert (other / name).read_bytes() == (root / name).read_bytes(), name
    assert "hashed" in written.stderr and merged.stderr == ""  # merge downloads nothing
    assert "P011" not in merged.stdout and "P006" not in merged.stdout  # fixed
    # The files changed, so the reports are no longer of them: a second merge refuses.
    again = cli("probe-merge", "--write", *sorted(other.glob("report-*")), cwd=other)
    assert again.exit_code == 2 and "differ from the ones the shards probed" in again.stderr


def test_merge_refusals_are_clear_errors(tmp_path: Path, server: LoopbackServer) -> None:
    root = catalogue(tmp_path / "repo", server, size=4)
    run_shards(root, 3)
    r1, r2, r3 = (root / f"report-{k}.json" for k in (1, 2, 3))

    def refused(*args: str | Path) -> str:
        run = merge(root, *args)
        assert run.exit_code == 2, run.stdout
        assert run.stdout == "" and "Traceback" not in run.stderr
        return run.stderr

    assert "missing shard(s) 2/3" in refused(r1, r3)
    assert "overlapping reports" in refused(r1, r1, r2, r3)
    # Another run of shard 2 with other options (--hash=full) does not fit.
    probe(root, "--shard", "2/3", "--report", tmp_path / "full-2.json", "--hash=full")
    assert "--hash 'auto' in" in refused(r1, tmp_path / "full-2.json", r3)
    # Shard 3 again after a commit (of an unrelated file): another commit.
    (root / "NOTES.md").write_text("notes\n")
    git(root, "add", "NOTES.md")
    git(root, "commit", "-q", "-m", "notes")
    probe(root, "--shard", "3/3", "--report", tmp_path / "later-3.json")
    assert "different commits" in refused(r1, r2, tmp_path / "later-3.json")

    cut = tmp_path / "cut.json"
    cut.write_bytes(r1.read_bytes()[:300])
    assert f"{cut} is not a probe report: not valid JSON at line" in refused(cut, r2, r3)
    assert "(cut short?)" in refused(cut, r2, r3)
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    assert "is not a probe report" in refused(tmp_path / "other.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    assert "not UTF-8" in refused(tmp_path / "bin.json")
    doc = json.loads(r1.read_text())
    doc["urls"][0]["status"] = "200"
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    assert "not a valid probe report: at /urls/0/status" in refused(tmp_path / "bad.json",
                                                                    r2, r3)
    doc = json.loads(r1.read_text())
    doc["version"] = 2
    (tmp_path / "v2.json").write_text(json.dumps(doc))
    assert "version 2" in refused(tmp_path / "v2.json", r2, r3)
    assert "cannot read" in refused(tmp_path / "absent.json")
    # Run elsewhere than where the shards ran: the files are not there.
    elsewhere = cli("probe-merge", r1, r2, r3, cwd=tmp_path)
    assert elsewhere.exit_code == 2 and "which is not here" in elsewhere.stderr


def test_a_report_of_other_files_is_refused(tmp_path: Path, server: LoopbackServer) -> None:
    root = catalogue(tmp_path / "repo", server, size=4)
    run_shards(root, 2)
    models = root / "versions/v1.0.0/models/first.json"
    models.write_text(models.read_text().replace('"a1"', '"renamed"'))
    run = merge(root, root / "report-1.json", root / "report-2.json")
    assert run.exit_code == 2 and "merge on that commit, before any edit" in run.stderr


@pytest.mark.parametrize("name", ["../outside.json", "/etc/passwd", "versions/../../x.json"])
def test_a_report_cannot_point_merge_outside_its_directory(tmp_path: Path,
                                                           server: LoopbackServer,
                                                           name: str) -> None:
    root = catalogue(tmp_path / "repo", server, size=2)
    run_shards(root, 1)
    doc = json.loads((root / "report-1.json").read_text())
    doc["files"].append(name)
    (root / "report-1.json").write_text(json.dumps(doc))
    run = merge(root, "--write", root / "report-1.json")
    assert run.exit_code == 2 and f"names {name}, outside" in run.stderr


def test_a_tampered_entry_list_is_refused(tmp_path: Path, server: LoopbackServer) -> None:
    root = catalogue(tmp_path / "repo", server, size=4)
    run_shards(root, 2)
    doc = json.loads((root / "report-1.json").read_text())
    moved = doc["urls"].pop()
    (root / "report-1.json").write_text(json.dumps(doc))
    run = merge(root, root / "report-1.json", root / "report-2.json")
    assert run.exit_code == 2 and "no report has" in run.stderr
    doc["urls"].append(moved)
    doc2 = json.loads((root / "report-2.json").read_text())
    doc2["urls"].append({**moved, "shard": 2})  # a URL in the wrong shard's report
    (root / "report-2.json").write_text(json.dumps(doc2))
    (root / "report-1.json").write_text(json.dumps({**doc, "urls": doc["urls"][:-1]}))
    run = merge(root, root / "report-1.json", root / "report-2.json")
    assert run.exit_code == 2 and "whose URL belongs to shard 1/2" in run.stderr


def test_parse_report_never_raises_other_errors() -> None:
    for data in (b"", b"[]", b"{", b'{"format": "repo-tools probe report", "version": 1}',
                 b'{"a": 1, "a": 2}', b"[" * 100_000, b"NaN"):
        with pytest.raises(Exception) as caught:
            parse_report(data, "r.json")
        assert type(caught.value).__name__ == "ReportError", data[:20]


# -- secrets ---------------------------------------------------------------------------------

TOKEN = "tok-PLANTED-4e1d"
USERINFO = "ui-PLANTED-8c2b"
QUERY = "q-PLANTED-0a7f"
SIGNATURE = "sig-PLANTED-51aa"


def test_planted_secrets_appear_in_no_report_or_output(tmp_path: Path, server: LoopbackServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPO_TOOLS_TOKENS", f"http://127.0.0.1:{server.port}={TOKEN}")
    server.route("/cdn.bin", Body(DATA, etag='"cdn"'))
    private = server.route("/private.bin", RequireHeader(
        "Authorization", f"Bearer {TOKEN}", Redirect(f"/cdn.bin?X-Amz-Signature={SIGNATURE}")))
    port = server.port
    models = [entry(f"{private}?token={QUERY}", sha="1" * 64, name="p"),
              entry(f"http://user:{USERINFO}@127.0.0.1:{port}/gone?token={QUERY}", name="g"),
              entry(f"http://127.0.0.1:{port}/cdn.bin?token={QUERY}", sha=None, name="c")]
    root = make_repo(tmp_path / "repo", {"v1.0.0/p": {"schema_version": "2.0",
                                                      "models": models}})
    outputs = [run.stdout + run.stderr for run in run_shards(root, 2)]
    reports = [root / "report-1.json", root / "report-2.json"]
    summary = tmp_path / "summary.md"
    for fmt in ("json", "text", "github", "sarif"):
        run = cli("probe-merge", "--format", fmt, "--summary", summary, "-v", *reports,
                  cwd=root)
        assert run.exit_code == 1
        outputs.append(run.stdout + run.stderr)
    assert any(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in server.requests)
    texts = [*outputs, summary.read_text(), *(r.read_text() for r in reports)]
    assert "P006" in summary.read_text() and "P011" in summary.read_text()
    for secret in (TOKEN, USERINFO, QUERY, SIGNATURE):
        for text in texts:
            assert secret not in text


# -- the hash cache as an artifact -----------------------------------------------------------


def test_shards_start_from_the_last_cache_and_hand_back_new_entries(
        tmp_path: Path, server: LoopbackServer) -> None:
    root = catalogue(tmp_path / "repo", server, size=6)
    cached = ("--hash", "--cache-dir")

    def nightly(previous: Path | None, out: Path) -> list[Path]:
        """One run of the workflow: each shard starts from the previous merged cache."""
        shard_caches = []
        for k in (1, 2, 3):
            shard_cache = tmp_path / f"{out.name}-shard-{k}"
            if previous is not None:
                shard_cache.mkdir()
                shutil.copy(previous / CACHE_FILE, shard_cache / CACHE_FILE)
            cli("probe", *FAST, *cached, shard_cache, "--shard", f"{k}/3", "--report",
                root / f"report-{k}.json", "--format", "json", cwd=root)
            shard_caches.append(shard_cache)
        args = [a for c in shard_caches for a in ("--cache-from", c)]
        run = cli("probe-merge", "--cache-dir", out, *args,
                  *(root / f"report-{k}.json" for k in (1, 2, 3)), cwd=root)
        assert run.exit_code == 1, run.stderr
        return shard_caches

    nightly(None, tmp_path / "night-1")
    assert server.body_requests() >= 8
    entries = json.loads((tmp_path / "night-1" / CACHE_FILE).read_text())["entries"]
    # ok/0-5, new.bin and moved.bin; not the HTML page, the 404 or the ftp URL. The URL
    # with a fragment is ok/1.bin's entry.
    assert len(entries) == 8
    server.reset_log()
    nightly(tmp_path / "night-1", tmp_path / "night-2")
    # A cached run: one HEAD per URL (11 distinct, plus the redirect's second hop), and
    # no body bytes.
    assert server.body_requests() == 0
    assert server.count(method="HEAD") == len(server.requests) == 12
    # A re-uploaded file (new ETag) is hashed again, and only it.
    server.route("/ok/2.bin", Body(DATA, etag='"ok-2-reuploaded"'))
    server.reset_log()
    nightly(tmp_path / "night-2", tmp_path / "night-3")
    assert [r.path for r in server.requests if r.method == "GET"] == ["/ok/2.bin"]


def test_merging_caches_is_safe(tmp_path: Path) -> None:
    sha = "ab" * 32
    old = {"k": {"sha256": sha, "size": 1, "stored": 10}}
    new = {"k": {"sha256": "cd" * 32, "size": 2, "stored": 20}}
    assert merged_entries(old, new) == merged_entries(new, old) == new  # newest wins
    bad = {"x": {"sha256": "not hex" * 9, "size": 1, "stored": 1},
           "y": {"sha256": sha, "size": -1, "stored": 1},
           "z": {"sha256": sha, "size": True, "stored": 1}}
    assert merged_entries(bad) == {}

    good = tmp_path / "good"
    good.mkdir()
    (good / CACHE_FILE).write_text(json.dumps({"format": 1, "entries": {**new, **bad}}))
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / CACHE_FILE).write_text('{"format": 1, "entries": {"k"')
    out = tmp_path / "merged"
    out.mkdir()
    (out / CACHE_FILE).write_text(json.dumps({"format": 1, "entries": {
        "kept": {"sha256": sha, "size": 3, "stored": 5}}}))
    root = make_repo(tmp_path / "repo", {"v1.0.0/p": {"schema_version": "2.0",
                                                      "models": []}})
    run = cli("probe", "--no-cache", "--report", root / "r.json", cwd=root)
    assert run.exit_code == 0, run.stderr
    run = cli("probe-merge", "--cache-dir", out, "--cache-from", good, "--cache-from",
              damaged, "--cache-from", tmp_path / "absent", root / "r.json", cwd=root)
    assert run.exit_code == 0, run.stderr
    assert "not JSON (damaged or cut short)" in run.stderr
    assert "absent" not in run.stderr  # a shard that hashed nothing has no cache file
    assert json.loads((out / CACHE_FILE).read_text())["entries"] == {
        "kept": {"sha256": sha, "size": 3, "stored": 5}, **new}
    assert not list(out.glob("*.tmp"))
    usage = cli("probe-merge", "--cache-from", good, root / "r.json", cwd=root)
    assert usage.exit_code == 2 and "--cache-from needs --cache-dir" in usage.stderr


# -- the job summary -------------------------------------------------------------------------


def test_summary_is_markdown_for_the_job(tmp_path: Path, server: LoopbackServer) -> None:
    root = catalogue(tmp_path / "repo", server, size=2)
    run_shards(root, 2)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    run = cli("probe-merge", "--summary", summary, "--write", root / "report-1.json",
              root / "report-2.json", cwd=root)
    assert run.exit_code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n## repo-tools probe\n")  # appended
    assert "in 2 shard(s) at `" in text
    assert "| P001 | `versions/v1.0.0/models/first.json:" in text
    assert "**Fixed by --write** (2, in 2 file(s)):" in text
    assert "| P011 |" in text.split("Fixed by --write")[1]


# -- the fast schema verdict against jsonschema's -------------------------------------------

VALID_REPORT: dict[str, Any] = {
    "format": "repo-tools probe report", "version": 1, "tool": "0.1.0",
    "shard": {"index": 2, "count": 4}, "commit": "c" * 40, "inputs": "d" * 64,
    "files": ["versions/v1.0.0/models/a.json"],
    "options": {"hash": "auto", "retries": 3, "deadline": None, "cache": True,
                "read-timeout": 30.0},
    "started": "2026-12-01T05:00:00Z", "seconds": 1.5, "requests": 3,
    "urls": [
        {"url": "https://h/a.bin", "shard": 2, "outcome": "hashed", "status": 200,
         "final_url": "https://h/a.bin", "size": 10, "sha256": "e" * 64,
         "sha256_source": "downloaded", "validators": {"etag": '"x"', "last_modified": None},
         "content_length": 10, "linked_size": None, "received": 10, "too_large": None,
         "html": False, "insecure_redirect": None, "failure": None, "seconds": 0.1,
         "entries": [{"path": "versions/v1.0.0/models/a.json",
                      "pointer": "/models/0/download"}]},
        {"url": "https://h/b.bin", "shard": 2, "outcome": "failed", "status": 404,
         "final_url": None, "size": None, "sha256": None, "sha256_source": None,
         "validators": {"etag": None, "last_modified": None}, "content_length": None,
         "linked_size": None, "received": None, "too_large": None, "html": False,
         "insecure_redirect": None, "failure": {"rule": "P001", "message": "404"},
         "seconds": 0, "entries": [{"path": "a", "pointer": "/models/1/download"}]},
    ],
}

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 700), st.floats(-1, 300), st.just(1.0),
    st.just(2.0),
    st.sampled_from(["", "x", "e" * 64, "e" * 64 + "\n", "E" * 64, "c" * 40, "c" * 64,
                     "c" * 40 + "\n", "2026-12-01T05:00:00Z", "2026-12-01T05:00:00Z\n",
                     "P001", "P004", "hashed", "cache", "repo-tools probe report", "a"]))
json_values = st.one_of(
    json_scalars, st.lists(json_scalars, max_size=2),
    st.dictionaries(st.sampled_from(["path", "pointer", "x", "rule", "message", "etag"]),
                    json_scalars, max_size=2))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@given(st.data())
def test_the_fast_verdict_is_the_schemas(data: st.DataObject) -> None:
    import copy

    from repo_tools.probe.shard_report import well_formed

    check = Draft202012Validator(load_schema(PROBE_REPORT))
    assert check.is_valid(VALID_REPORT) and well_formed(VALID_REPORT)
    doc = copy.deepcopy(VALID_REPORT)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)[1:]))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = data.draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["extra", "url", "shard"]))] = data.draw(
                json_values)
        else:
            parent.append(data.draw(json_values))
    assert well_formed(doc) == check.is_valid(doc), doc
