"""The report of a probe run (`probe --report FILE`): what each URL turned out to be.

One JSON document per run or shard, described by `schemas/probe_report.schema.json`:
which shard of how many, the commit and the files (by content) it probed, the options
that change outcomes, and per URL its outcome, the entries that use it and timing.
`probe-merge` reads the shards' reports back into outcomes and concludes from them
exactly as one unsharded run would.

URLs are shown as `redact_url` shows them and every message is scrubbed of the run's
credentials: reports are uploaded as CI artifacts, which others can download.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from repo_tools import __version__
from repo_tools.jsonfile import DuplicateKeyError, parse_strict
from repo_tools.net import scrub
from repo_tools.net.transport import redact_url
from repo_tools.probe.run import ProbeResult, UrlOutcome
from repo_tools.probe.shard import Shard
from repo_tools.rules import ALL_RULES
from repo_tools.schemas import PROBE_REPORT, validator

FORMAT = "repo-tools probe report"
VERSION = 1


class ReportError(Exception):
    """A file is not a probe report this version can read; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class UrlRecord:
    url: str  # as shown (redacted)
    entries: tuple[tuple[str, str], ...]  # (path, pointer of the download object)
    outcome: UrlOutcome


@dataclasses.dataclass(frozen=True, slots=True)
class ShardReport:
    source: str  # the file it was read from, for messages
    shard: Shard
    commit: str | None
    inputs: str
    files: tuple[str, ...]
    options: Mapping[str, Any]
    requests: int
    urls: tuple[UrlRecord, ...]


# -- writing ----------------------------------------------------------------------------------


def outcome_name(outcome: UrlOutcome) -> str:
    """One word for what the URL turned out to be (the finer facts are fields beside it)."""
    if outcome.failure is not None:
        return "failed"
    if outcome.html:
        return "html"
    if outcome.too_large is not None:
        return "too-large"
    return "hashed" if outcome.sha256 is not None else "answered"


def build_report(result: ProbeResult, *, shard: Shard | None, commit: str | None,
                 options: Mapping[str, Any], started: dt.datetime, seconds: float,
                 secrets: set[str]) -> dict[str, Any]:
    """The report document of a finished run (an unsharded run is shard 1/1)."""
    shard = shard or Shard(1, 1)

    def clean(text: str | None) -> str | None:
        return None if text is None else scrub(text, secrets)

    urls = []
    for url, targets in result.by_url.items():
        o = result.outcomes[url]
        urls.append({
            "url": clean(redact_url(url)),
            "shard": shard.index,
            "outcome": outcome_name(o),
            "status": o.status,
            "final_url": clean(redact_url(o.final_url)) if o.final_url else None,
            "size": o.linked_size or o.content_length or o.received,
            "sha256": o.sha256,
            "sha256_source": o.sha256_source,
            "validators": {"etag": clean(o.etag), "last_modified": clean(o.last_modified)},
            "content_length": o.content_length,
            "linked_size": o.linked_size,
            "received": o.received,
            "too_large": o.too_large,
            "html": o.html,
            "insecure_redirect": clean(o.insecure_redirect),
            "failure": None if o.failure is None else {
                "rule": o.failure[0].code, "message": clean(o.failure[1])},
            "seconds": round(o.seconds, 3),
            "entries": [{"path": t.path, "pointer": t.pointer} for t in targets],
        })
    return {
        "format": FORMAT,
        "version": VERSION,
        "tool": __version__,
        "shard": {"index": shard.index, "count": shard.count},
        "commit": commit,
        "inputs": result.inputs,
        "files": result.files,
        "options": dict(options),
        "started": started.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(seconds, 3),
        "requests": result.stats.requests,
        "urls": urls,
    }


def dumps(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"


# -- reading ----------------------------------------------------------------------------------


def load_report(path: Path) -> ShardReport:
    """Read and check one report; ReportError for anything that is not one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_report(data, str(path))


def parse_report(data: bytes, source: str) -> ShardReport:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportError(f"{source} is not a probe report: not UTF-8") from None
    try:
        doc = parse_strict(text)
    except json.JSONDecodeError as exc:
        # An upload or download that stopped half-way ends the text inside a value.
        ended = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        cut = " (cut short?)" if ended else ""
        raise ReportError(f"{source} is not a probe report: not valid JSON at line "
                          f"{exc.lineno} column {exc.colno}: {exc.msg}{cut}") from None
    except (DuplicateKeyError, ValueError, RecursionError) as exc:
        raise ReportError(f"{source} is not a probe report: {exc}") from None
    if not (isinstance(doc, dict) and doc.get("format") == FORMAT):
        raise ReportError(f"{source} is not a probe report (made by `repo-tools probe "
                          "--report`)")
    if doc.get("version") != VERSION:
        raise ReportError(f"{source} is a probe report of version {doc.get('version')!r}; "
                          f"this repo-tools reads version {VERSION}")
    error = _schema_error(doc)
    if error is not None:
        raise ReportError(f"{source} is not a valid probe report: {error}")
    try:
        # int(): JSON Schema's integers include 4.0.
        shard = Shard(int(doc["shard"]["index"]), int(doc["shard"]["count"]))
    except ValueError as exc:
        raise ReportError(f"{source} is not a valid probe report: {exc}") from None
    urls = []
    for item in doc["urls"]:
        if int(item["shard"]) != shard.index:
            raise ReportError(f"{source} is not a valid probe report: {item['url']} is "
                              f"marked shard {item['shard']} in the report of shard {shard}")
        urls.append(UrlRecord(item["url"], tuple((e["path"], e["pointer"])
                                                 for e in item["entries"]),
                              _outcome(item)))
    return ShardReport(source, shard, doc["commit"], doc["inputs"], tuple(doc["files"]),
                       doc["options"], doc["requests"], tuple(urls))


def _schema_error(doc: Any) -> str | None:
    if well_formed(doc):
        return None  # the common case: jsonschema takes seconds on a 2,000-URL report
    from jsonschema.exceptions import best_match

    error = best_match(validator(PROBE_REPORT).iter_errors(doc))
    if error is None:
        return None
    where = "/" + "/".join(str(p) for p in error.absolute_path)
    return f"at {where}: {error.message}"


def _outcome(item: Mapping[str, Any]) -> UrlOutcome:
    failure = item["failure"]
    validators = item["validators"]
    return UrlOutcome(
        failure=None if failure is None else (ALL_RULES[failure["rule"]], failure["message"]),
        status=item["status"], insecure_redirect=item["insecure_redirect"],
        content_length=item["content_length"], linked_size=item["linked_size"],
        html=item["html"], sha256=item["sha256"], sha256_source=item["sha256_source"],
        received=item["received"], too_large=item["too_large"], final_url=item["final_url"],
        etag=validators["etag"], last_modified=validators["last_modified"],
        seconds=item["seconds"])


# -- the schema's verdict, fast ----------------------------------------------------------------
# jsonschema is asked only for a report these reject, for its error message; a differential
# test (tests/test_probe_shard.py) holds them to the schema's verdict.

# As the schema says them (a pattern is searched, and `$` also matches before a final
# newline, which the schema's maxLength then refuses).
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMITS = (re.compile(r"^[0-9a-f]{40}$"), re.compile(r"^[0-9a-f]{64}$"))
_STARTED = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")


def _matches(value: Any, pattern: re.Pattern[str], max_length: int) -> bool:
    return (isinstance(value, str) and len(value) <= max_length
            and pattern.search(value) is not None)

_URL_KEYS = frozenset({
    "url", "shard", "outcome", "status", "final_url", "size", "sha256", "sha256_source",
    "validators", "content_length", "linked_size", "received", "too_large", "html",
    "insecure_redirect", "failure", "seconds", "entries"})
_TOP_KEYS = frozenset({"format", "version", "tool", "shard", "commit", "inputs", "files",
                       "options", "started", "seconds", "requests", "urls"})
_OUTCOMES = frozenset({"hashed", "answered", "failed", "html", "too-large"})
_SOURCES = frozenset({"downloaded", "host", "cache"})
_FAILURE_RULES = frozenset({"P001", "P002", "P003", "P009", "P012", "P013"})


def _int(value: Any, low: int | None = None, high: int | None = None) -> bool:
    # JSON Schema's integer: 1.0 is one, True is not.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not value.is_integer():
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _count(value: Any) -> bool:
    return value is None or _int(value, 0)


def _text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _url_ok(item: Any) -> bool:
    if not isinstance(item, dict) or item.keys() != _URL_KEYS:
        return False
    validators, failure, entries = item["validators"], item["failure"], item["entries"]
    return (isinstance(item["url"], str) and _int(item["shard"], 1)
            and _string_in(item["outcome"], _OUTCOMES)
            and (item["status"] is None or _int(item["status"], 100, 599))
            and _text(item["final_url"]) and _text(item["insecure_redirect"])
            and all(_count(item[k]) for k in ("size", "content_length", "linked_size",
                                              "received", "too_large"))
            and (item["sha256"] is None or _matches(item["sha256"], _SHA256, 64))
            and (item["sha256_source"] is None or _string_in(item["sha256_source"], _SOURCES))
            and isinstance(validators, dict)
            and validators.keys() == {"etag", "last_modified"}
            and _text(validators["etag"]) and _text(validators["last_modified"])
            and isinstance(item["html"], bool) and _number(item["seconds"])
            and (failure is None or (isinstance(failure, dict)
                                     and failure.keys() == {"rule", "message"}
                                     and _string_in(failure["rule"], _FAILURE_RULES)
                                     and isinstance(failure["message"], str)))
            and isinstance(entries, list) and len(entries) >= 1
            and all(isinstance(e, dict) and e.keys() == {"path", "pointer"}
                    and isinstance(e["path"], str) and isinstance(e["pointer"], str)
                    for e in entries))


def _string_in(value: Any, allowed: frozenset[str]) -> bool:
    return isinstance(value, str) and value in allowed


def well_formed(doc: Any) -> bool:
    """True exactly when doc follows schemas/probe_report.schema.json."""
    if not isinstance(doc, dict) or doc.keys() != _TOP_KEYS:
        return False
    shard, commit, options = doc["shard"], doc["commit"], doc["options"]
    return (doc["format"] == FORMAT and _int(doc["version"]) and doc["version"] == VERSION
            and isinstance(doc["tool"], str)
            and isinstance(shard, dict) and shard.keys() == {"index", "count"}
            and _int(shard["index"], 1, 256) and _int(shard["count"], 1, 256)
            and (commit is None or _matches(commit, _COMMITS[0], 40)
                 or _matches(commit, _COMMITS[1], 64))
            and _matches(doc["inputs"], _SHA256, 64)
            and isinstance(doc["files"], list) and all(isinstance(f, str) for f in doc["files"])
            and isinstance(options, dict)
            and all(v is None or isinstance(v, str | int | float) for v in options.values())
            and _matches(doc["started"], _STARTED, 20)
            and _number(doc["seconds"]) and _int(doc["requests"], 0)
            and isinstance(doc["urls"], list) and all(_url_ok(u) for u in doc["urls"]))
