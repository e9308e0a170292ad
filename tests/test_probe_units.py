"""The pure parts of probe: URL handling, backoff, the cache, --write's text edit."""

from __future__ import annotations

import io
import json
import multiprocessing
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.cli.common import parse_byte_size
from repo_tools.cli.probe import ProgressBar, format_progress
from repo_tools.net.transport import (
    backoff_delay,
    is_retryable_status,
    parse_retry_after,
    redact_url,
)
from repo_tools.probe import NetworkLimits, ProbeOptions, ProbeResult, ProbeStats, hashing
from repo_tools.probe.cache import HashCache, cache_key, default_cache_dir
from repo_tools.probe.rewrite import RewriteError, set_sha256_values
from repo_tools.probe.run import UrlOutcome, findings_for, needs_write
from repo_tools.probe.targets import (
    Target,
    host_declared_sha256,
    huggingface_resolve_url,
    url_problem,
)
from repo_tools.probe_options import PROBE_OPTIONS, PROBE_SETTINGS, to_probe_options
from repo_tools.rules import ALL_RULES
from repo_tools.rules import probe as rules
from repo_tools.settings import parse_settings
from tests.support.docs import all_text
from tests.support.helpers import cli

SHA = "ab" * 32

# -- URLs ----------------------------------------------------------------------------------------

secret_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=8, max_size=20)


@given(user=secret_text, password=secret_text, token=secret_text,
       path=st.lists(st.text(alphabet="abcxyz09._-", min_size=1, max_size=8), max_size=4))
def test_redacted_urls_carry_no_user_info_or_query(user: str, password: str, token: str,
                                                   path: list[str]) -> None:
    url = f"https://{user}:{password}@files.example.com/{'/'.join(path)}?token={token}#{token}"
    shown = redact_url(url)
    assert password not in shown and token not in shown and user not in shown
    assert shown.startswith("https://files.example.com/")
    assert shown.endswith("?…")


def test_redact_keeps_plain_urls() -> None:
    assert redact_url("http://127.0.0.1:8080/a/b.bin") == "http://127.0.0.1:8080/a/b.bin"


@pytest.mark.parametrize(("url", "resolve"), [
    ("https://huggingface.co/org/repo/blob/main/m.gguf",
     "https://huggingface.co/org/repo/resolve/main/m.gguf"),
    ("https://hf.co/org/repo/blob/v1.0/dir/m.gguf?download=true",
     "https://hf.co/org/repo/resolve/v1.0/dir/m.gguf?download=true"),
    ("https://huggingface.co/datasets/org/d/blob/main/x.bin",
     "https://huggingface.co/datasets/org/d/resolve/main/x.bin"),
    ("https://huggingface.co/org/repo/resolve/main/m.gguf", None),
    ("https://example.com/org/repo/blob/main/m.gguf", None),
])
def test_huggingface_blob_urls(url: str, resolve: str | None) -> None:
    assert huggingface_resolve_url(url) == resolve


@pytest.mark.parametrize(("url", "problem"), [
    ("https://example.com/m.bin", None),
    ("http://127.0.0.1:9/m.bin", None),
    ("ftp://example.com/m.bin", "scheme"),
    ("example.com/m.bin", "no scheme"),
    ("https:///m.bin", "no host"),
    ("https://example.com:99999/m.bin", "cannot be parsed"),
    ("https://example.com/a b", "whitespace"),
])
def test_url_problems(url: str, problem: str | None) -> None:
    found = url_problem(url)
    assert (found is None) if problem is None else (problem in (found or ""))


@pytest.mark.parametrize(("header", "expected"), [
    (f'"{SHA}"', SHA), (f'W/"{SHA.upper()}"', SHA), (SHA, SHA),
    ('"abc123"', None), ('"' + "a" * 40 + '"', None), (None, None), ("", None),
])
def test_host_declared_sha256(header: str | None, expected: str | None) -> None:
    assert host_declared_sha256(header) == expected


# -- retries -------------------------------------------------------------------------------------


@given(attempt=st.integers(0, 5000), base=st.floats(0.01, 5), cap=st.floats(0.01, 60),
       r=st.floats(0, 1))
def test_backoff_is_bounded_and_jittered(attempt: int, base: float, cap: float,
                                         r: float) -> None:
    delay = backoff_delay(attempt, base, cap, lambda: r)
    ceiling = cap if attempt > 60 else min(cap, base * 2 ** attempt)  # 0.01 * 2**60 > 60
    assert ceiling / 2 - 1e-9 <= delay <= ceiling + 1e-9


def test_backoff_grows_exponentially() -> None:
    delays = [backoff_delay(a, 1.0, 100.0, lambda: 1.0) for a in range(5)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0]


@pytest.mark.parametrize(("status", "retry"), [
    (200, False), (404, False), (403, False), (429, True), (500, True), (501, False),
    (503, True), (599, True),
])
def test_retryable_statuses(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry


def test_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:15:00 GMT", now) == pytest.approx(100.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# -- the cache -------------------------------------------------------------------------------------


def test_cache_key_needs_a_validator_and_follows_each() -> None:
    url = "https://example.com/m.bin"
    assert cache_key(url, None, None, "10") is None
    keys = {cache_key(url, '"a"', None, "10"), cache_key(url, '"b"', None, "10"),
            cache_key(url, '"a"', None, "11"), cache_key(url, None, "Mon", "10"),
            cache_key(url + "?v=2", '"a"', None, "10")}
    assert len(keys) == 5
    assert (cache_key("https://u:p@example.com/m.bin", '"a"', None, "10")
            == cache_key(url, '"a"', None, "10"))


def test_cache_round_trip_and_damaged_file(tmp_path: Path) -> None:
    cache = HashCache(tmp_path)
    cache.store("k1", SHA, 5)
    assert HashCache(tmp_path).lookup("k1") is not None
    assert cache.path is not None
    cache.path.write_text("{ not json")
    fresh = HashCache(tmp_path)
    assert fresh.lookup("k1") is None
    fresh.store("k2", SHA, 6)
    assert json.loads(cache.path.read_text())["entries"]["k2"]["size"] == 6


def test_unwritable_cache_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = HashCache(blocker / "sub")
    cache.store("k", SHA, 1)
    assert cache.problem is not None and "cannot write the hash cache" in cache.problem


def _store_many(directory: str, worker: int) -> None:
    cache = HashCache(Path(directory))
    for i in range(25):
        cache.store(f"w{worker}-{i}", SHA, i)


def test_concurrent_processes_never_lose_or_tear_entries(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=_store_many, args=(str(tmp_path), w)) for w in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    cache = HashCache(tmp_path)
    assert all(cache.lookup(f"w{w}-{i}") is not None for w in range(4) for i in range(25))
    assert not list(tmp_path.glob("*.tmp"))


# -- hashing ---------------------------------------------------------------------------------------


@given(data=st.binary(max_size=5000), chunk=st.integers(1, 700))
def test_streamed_digest_equals_hashlib(data: bytes, chunk: int) -> None:
    import hashlib

    stream = io.BytesIO(data)
    digest = hashing.hash_stream(stream.read, chunk_size=chunk)
    assert digest.sha256 == hashlib.sha256(data).hexdigest()
    assert digest.size == len(data)


def test_hashing_stops_past_max_size_and_on_read_errors() -> None:
    closed: list[bool] = []
    with pytest.raises(hashing.TooLarge):
        hashing.hash_stream(io.BytesIO(b"x" * 100).read, max_size=10, chunk_size=8,
                            abort=lambda: closed.append(True))
    assert closed == [True]

    def broken(n: int) -> bytes:
        raise ConnectionResetError

    with pytest.raises(hashing.BodyError) as info:
        hashing.hash_stream(broken)
    assert isinstance(info.value.__cause__, ConnectionResetError)


# -- outcome -> findings ---------------------------------------------------------------------------


def _target(sha: str | None = SHA, size: int | None = None) -> Target:
    return Target("m.json", "/models/0/download", "https://x/m", sha, size)


def test_findings_for_outcomes() -> None:
    assert findings_for(_target(), UrlOutcome(status=200, sha256=SHA)) == []
    assert findings_for(_target(SHA.upper()), UrlOutcome(status=200, sha256=SHA)) == []
    assert not needs_write(_target(SHA.upper()), UrlOutcome(status=200, sha256=SHA))
    assert needs_write(_target(None), UrlOutcome(status=200, sha256=SHA))
    assert not needs_write(_target(None), UrlOutcome(status=200, sha256=SHA, html=True))
    [f] = findings_for(_target(), UrlOutcome(status=200, sha256="cd" * 32,
                                             sha256_source="host"))
    assert f.rule == "P006" and "X-Linked-Etag" in f.message
    [f] = findings_for(_target(None), UrlOutcome(status=200, sha256=SHA), written=True)
    assert f.rule == "P011" and "written" in f.message
    [f] = findings_for(_target(size=3), UrlOutcome(status=200, content_length=4))
    assert f.rule == "P005" and f.pointer.endswith("/size")
    [f] = findings_for(_target(), UrlOutcome(failure=(rules.HTTP_ERROR, "the server answers 404")))
    assert f.rule == "P001"


def test_every_probe_rule_is_registered_and_documented() -> None:
    codes = [rule.code for rule in rules.RULES]
    assert codes == [f"P{i:03d}" for i in range(1, len(codes) + 1)]
    for rule in rules.RULES:
        assert ALL_RULES[rule.code] is rule and rule.summary and rule.fix
    docs = all_text()
    assert all(code in docs for code in codes)


# -- --write's text edit -------------------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                         st.text(max_size=12))
downloads = st.fixed_dictionaries(
    {"url": st.just("https://example.com/m.bin")},
    optional={"sha256": st.one_of(st.text(max_size=70), st.none(), st.integers()),
              "cachePath": st.text(max_size=10), "size": st.integers(0, 10**12),
              "extra": st.lists(json_scalars, max_size=3)})
documents = st.lists(st.fixed_dictionaries({"model": st.text(max_size=8),
                                            "download": downloads}), min_size=1, max_size=4)
layouts = st.sampled_from([
    {"indent": 2}, {"indent": 4}, {"indent": None}, {"indent": "\t"},
    {"indent": None, "separators": (",", ":")}, {"indent": 1, "separators": (",", " : ")},
])


@given(models=documents, layout=layouts, ascii_only=st.booleans(), data=st.data())
def test_set_sha256_changes_only_the_digests(models: list[dict[str, Any]],
                                             layout: dict[str, Any], ascii_only: bool,
                                             data: st.DataObject) -> None:
    doc = {"schema_version": "2.0", "models": models}
    text = json.dumps(doc, ensure_ascii=ascii_only, **layout)
    chosen = data.draw(st.lists(st.integers(0, len(models) - 1), min_size=1, unique=True))
    updates = {f"/models/{i}/download": f"{i:x}" * 64 for i in chosen}
    updates = {k: v[:64] for k, v in updates.items()}
    result = set_sha256_values(text, updates)
    parsed = json.loads(result)
    for i, model in enumerate(parsed["models"]):
        expected = dict(models[i]["download"])
        if i in chosen:
            expected["sha256"] = updates[f"/models/{i}/download"]
        assert model["download"] == expected
        assert {k: v for k, v in model.items() if k != "download"} == {
            k: v for k, v in models[i].items() if k != "download"}
    # Everything outside the edited values is byte-identical.
    if all("sha256" in models[i]["download"] for i in chosen):
        stripped = result
        for i in chosen:
            old = json.dumps(models[i]["download"]["sha256"], ensure_ascii=ascii_only)
            stripped = stripped.replace(json.dumps(updates[f"/models/{i}/download"]), old, 1)
        assert stripped == text


def test_set_sha256_inserts_after_the_url_keeping_layout() -> None:
    text = ('{\r\n    "models": [\r\n        {"download": {\r\n            "url": "u",\r\n'
            '            "cachePath": "c"\r\n        }}\r\n    ]\r\n}\r\n')
    result = set_sha256_values(text, {"/models/0/download": SHA})
    assert result == text.replace('"url": "u",\r\n',
                                  f'"url": "u",\r\n            "sha256": "{SHA}",\r\n')


def test_set_sha256_into_an_empty_object() -> None:
    result = set_sha256_values('{"models": [{"download": {}}]}', {"/models/0/download": SHA})
    assert json.loads(result) == {"models": [{"download": {"sha256": SHA}}]}


def test_rewrite_refuses_a_text_it_cannot_check() -> None:
    # Duplicate keys: which value wins depends on the reader, so no edit is known good.
    with pytest.raises(RewriteError):
        set_sha256_values('{"models": [{"download": {"sha256": "a", "sha256": "b"}}]}',
                          {"/models/0/download": SHA})
    with pytest.raises(RewriteError):
        set_sha256_values('{"models": []}', {"/models/0/download": SHA})


# -- CLI helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "size"), [
    ("1048576", 1 << 20), ("512M", 512 << 20), ("2G", 2 << 30), ("1.5GiB", 3 << 29),
    ("10k", 10240), ("3 MB", 3 << 20), ("1.0", 1), ("0.1K", 102),
    ("9" * 400 + ".5G", int("9" * 400 + "5") * (1 << 30) // 10),  # no float: no overflow
    # What `cache --max-bytes` took before it shared this parser: whole numbers exactly,
    # and the unit letters in their Unicode case forms.
    ("9007199254740993", (1 << 53) + 1), ("3\u212a", 3 << 10), ("2 \u0131B", 2),
])
def test_byte_sizes(text: str, size: int) -> None:
    assert parse_byte_size(text) == size


@pytest.mark.parametrize("text", ["lots", "0.5", "1.9", "-1G", "9" * 5000])
def test_bad_byte_size(text: str) -> None:
    # A fraction of a byte, or a number past int()'s digit limit: an error, not a traceback.
    with pytest.raises(ValueError):
        parse_byte_size(text)


def test_progress_line() -> None:
    line = format_progress(512 << 20, 1 << 30, 2.0)
    assert line == "hashing 512.0 MiB / 1.0 GiB  256.0 MiB/s  ETA 0:00:02"
    assert "ETA" not in format_progress(10, 0, 1.0)


def test_progress_bar_draws_and_clears() -> None:
    now = [100.0]
    stream = io.StringIO()
    bar = ProgressBar(stream, clock=lambda: now[0])
    bar.expect(1 << 20)
    now[0] = 101.0
    bar.advance(1 << 19)
    now[0] = 101.05
    bar.advance(1)  # within 0.1 s: not redrawn
    bar.close()
    out = stream.getvalue()
    assert out.count("hashing") == 1 and out.endswith("\r\x1b[2K")


# -- the option table: one declaration for the flags, `[probe]` and the defaults -----------------

# A value for each option that is not its default, as `[probe]` and as command-line words.
EXAMPLES: dict[str, tuple[Any, list[str]]] = {
    "hash": ("full", ["--hash=full"]),
    "jobs": (4, ["--jobs", "4"]),
    "connect-timeout": (2.5, ["--connect-timeout", "2.5"]),
    "read-timeout": (7, ["--read-timeout", "7"]),
    "retries": (0, ["--retries", "0"]),
    "max-backoff": (0, ["--max-backoff", "0"]),
    "max-retry-after": (1.5, ["--max-retry-after", "1.5"]),
    "deadline": (60, ["--deadline", "60"]),
    "max-size": (2048, ["--max-size", "2K"]),
    "cache-dir": ("hash-cache", ["--cache-dir", "hash-cache"]),
    "cache": (False, ["--no-cache"]),
    "ca-bundle": ("ca.pem", ["--ca-bundle", "ca.pem"]),
}
# Options of the command that are not probe settings: what to check, how to report it,
# and --write, which lint never does. The table's own flag-only options (--shard,
# --report) are in the table too.
COMMAND_ONLY = {"--repo", "--format", "--strict", "--output", "--write", "--verbose", "--help",
                "--quiet", "--color"}
TABLE_FLAGS_ONLY = {"--shard", "--report"}


def probe_flags() -> set[str]:
    help_text = cli("probe", "--help").stdout
    return set(re.findall(r"^  (?:-\w, )?(--[\w-]+)", help_text, re.MULTILINE))


def test_every_option_is_a_flag_and_a_setting_and_nothing_else_is() -> None:
    assert set(EXAMPLES) == set(PROBE_SETTINGS)
    flags = probe_flags()
    assert flags == {o.flag for o in PROBE_OPTIONS.values()} | COMMAND_ONLY
    assert {o.flag for o in PROBE_OPTIONS.values() if not o.setting} == TABLE_FLAGS_ONLY
    for flag in COMMAND_ONLY | TABLE_FLAGS_ONLY:
        key = flag.removeprefix("--")
        [f] = parse_settings({"probe": {key: True}}, ".repo-tools.toml").findings
        assert f.rule == "L001" and f"probe.{key}" in f.message


def test_the_defaults_are_the_libraries_defaults() -> None:
    # The network defaults are NetworkLimits' too (the client and release use them).
    limits, options = NetworkLimits(), ProbeOptions()
    for option in PROBE_OPTIONS.values():
        if option.field is not None:
            group, _, name = option.field.rpartition(".")
            assert getattr(limits if group else options, name) == option.default, option.key
    # The one difference: the library probes without a cache unless it is given one.
    assert to_probe_options({}) == ProbeOptions(cache_dir=default_cache_dir())


@pytest.fixture
def captured_options(monkeypatch: pytest.MonkeyPatch) -> list[ProbeOptions]:
    """What `repo-tools probe` hands the library, with no network behind it."""
    seen: list[ProbeOptions] = []

    def fake_probe_paths(paths: Any, base: Any, options: ProbeOptions, **_: Any) -> ProbeResult:
        seen.append(options)
        return ProbeResult(findings=[], files_checked=len(paths), changed_files=[],
                           stats=ProbeStats(), notes=[])

    monkeypatch.setattr("repo_tools.probe.probe_paths", fake_probe_paths)
    return seen


def probe_options_of(tmp_path: Path, captured: list[ProbeOptions],
                     *args: str) -> ProbeOptions | str:
    """The options `repo-tools probe ARGS` runs with, or its error when it refuses them."""
    (tmp_path / "a.json").write_text("{}")
    run = cli("probe", *args, "a.json", cwd=tmp_path)
    if run.exit_code == 2:
        return run.stderr
    assert run.exit_code == 0, run.stderr
    return captured.pop()


@pytest.mark.parametrize("key", list(EXAMPLES))
def test_each_option_means_the_same_as_a_flag_and_as_a_setting(
        tmp_path: Path, key: str, captured_options: list[ProbeOptions]) -> None:
    (tmp_path / "ca.pem").write_text("")  # --ca-bundle must exist; settings check it later
    setting, words = EXAMPLES[key]
    loaded = parse_settings({"probe": {key: setting}}, ".repo-tools.toml")
    assert loaded.findings == [] and loaded.settings.probe == {key: setting}
    from_settings = to_probe_options(loaded.settings.probe)  # relative: to the cwd, as the CLI
    from_flags = probe_options_of(tmp_path, captured_options, *words)
    assert from_flags == from_settings
    assert from_settings != to_probe_options({})  # the option changed something
    # and without it, both are the default
    assert probe_options_of(tmp_path, captured_options) == to_probe_options({})


@pytest.mark.parametrize(("key", "setting", "word"), [
    ("hash", "yes", "--hash=yes"),
    ("jobs", 0, "0"), ("jobs", 257, "257"),
    ("connect-timeout", 0, "0"), ("read-timeout", float("nan"), "nan"),
    ("retries", -1, "-1"), ("max-backoff", -1, "-1"),
    ("max-retry-after", float("inf"), "inf"), ("deadline", 0, "0"),
    ("max-size", 1.5, "lots"),
])
def test_a_value_refused_as_a_setting_is_refused_as_a_flag(
        tmp_path: Path, key: str, setting: Any, word: str,
        captured_options: list[ProbeOptions]) -> None:
    [f] = parse_settings({"probe": {key: setting}}, ".repo-tools.toml").findings
    assert f.rule == "L002" and f"probe.{key}" in f.message
    words = [word] if word.startswith("--") else [f"--{key}", word]
    refused = probe_options_of(tmp_path, captured_options, *words)
    assert isinstance(refused, str) and f"--{key}" in refused and not captured_options


def test_settings_and_the_probe_flags_import_no_network_code() -> None:
    # Both are on the hooks' path: settings for lint, the flags for `repo-tools --help`.
    code = ("import sys, repo_tools.settings, repo_tools.cli.probe; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('urllib3', 'certifi')"
            " or m.startswith(('repo_tools.net', 'repo_tools.probe.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
