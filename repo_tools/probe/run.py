"""A probe run: read the model files, check each distinct URL once, turn outcomes into
findings, and (with --write) record the digests found.

`check_url` does the network work for one URL and returns a plain `UrlOutcome`;
`findings_for` turns an outcome into findings for one entry without any I/O.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from repo_tools import repo as repo_layout
from repo_tools.atomic import write_atomic
from repo_tools.findings import Finding, Rule, RuleError, finding, sort_findings
from repo_tools.jsonfile import UTF8_BOM, JsonDocument, load_json_file
from repo_tools.net import Credentials, Deadline, NetworkLimits, scrub
from repo_tools.net import transport as net
from repo_tools.net.transport import NetworkError, Transport
from repo_tools.probe import hashing
from repo_tools.probe.cache import HashCache, cache_key
from repo_tools.probe.rewrite import RewriteError, set_sha256_values
from repo_tools.probe.shard import Shard
from repo_tools.probe.targets import (
    Target,
    host_declared_sha256,
    huggingface_resolve_url,
    parse_size,
    targets_of,
    url_problem,
)
from repo_tools.probe_options import DEFAULT_JOBS as DEFAULT_JOBS  # repo_tools.probe re-exports it
from repo_tools.rules import core
from repo_tools.rules import probe as rules

USER_AGENT = "repo-tools-probe"
SOURCE_DOWNLOAD = "downloaded"
SOURCE_HOST = "host"  # X-Linked-Etag
SOURCE_CACHE = "cache"


class Progress(Protocol):
    """Told about body bytes as they arrive and about each URL when it is done; called from
    worker threads."""

    def expect(self, size: int) -> None: ...

    def advance(self, size: int) -> None: ...

    def finished(self, url: str, outcome: UrlOutcome) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class ProbeOptions:
    hash_mode: str | None = None  # None, "auto" or "full"
    write: bool = False
    jobs: int = DEFAULT_JOBS
    limits: NetworkLimits = dataclasses.field(default_factory=NetworkLimits)
    deadline: float | None = None
    max_size: int | None = None
    cache_dir: Path | None = None  # None: no cache
    shard: Shard | None = None  # None: every URL


@dataclasses.dataclass(slots=True)
class UrlOutcome:
    """What one URL turned out to be; failure set means it could not be fully checked."""

    failure: tuple[Rule, str] | None = None  # why it could not be checked, and how
    status: int | None = None
    insecure_redirect: str | None = None
    content_length: int | None = None
    linked_size: int | None = None
    html: bool = False
    sha256: str | None = None
    sha256_source: str | None = None
    received: int | None = None
    too_large: int | None = None
    final_url: str | None = None  # where the redirects ended (as sent: may hold a token)
    etag: str | None = None
    last_modified: str | None = None
    seconds: float = 0.0  # spent on this URL, retries and pauses included


@dataclasses.dataclass(slots=True)
class ProbeStats:
    urls: int = 0
    requests: int = 0
    downloaded: int = 0
    downloaded_bytes: int = 0
    from_host: int = 0
    from_cache: int = 0
    cache_problem: str | None = None


@dataclasses.dataclass(slots=True)
class ProbeResult:
    findings: list[Finding]
    files_checked: int
    changed_files: list[str]
    stats: ProbeStats
    notes: list[str]
    fixed: list[Finding] = dataclasses.field(default_factory=list)  # what --write fixed
    # What a shard report records (`shard_report.py`): the entries of each URL probed,
    # what it turned out to be, and which files (by content) they came from.
    by_url: dict[str, list[Target]] = dataclasses.field(default_factory=dict)
    outcomes: dict[str, UrlOutcome] = dataclasses.field(default_factory=dict)
    files: list[str] = dataclasses.field(default_factory=list)
    inputs: str = ""


# -- one URL --------------------------------------------------------------------------------


class ProbeFailure(RuleError):
    """A URL could not be checked; carries the rule and a message safe to show."""


_RULE_OF_KIND = {
    net.INVALID_URL: rules.UNPROBEABLE_URL,
    net.REDIRECTS: rules.BAD_REDIRECT,
    net.DEADLINE: rules.DEADLINE,
}


def failure_of(error: NetworkError) -> ProbeFailure:
    """The finding's rule and message for a failed request (no URL: the finding has it)."""
    message = error.message
    if error.attempts > 1:
        message += f" (after {error.attempts} attempts)"
    return ProbeFailure(_RULE_OF_KIND.get(error.kind, rules.CONNECTION_FAILED), message)


@dataclasses.dataclass(frozen=True, slots=True)
class _Run:
    transport: Transport
    deadline: Deadline
    cache: HashCache
    options: ProbeOptions
    progress: Progress | None


def check_url(url: str, run: _Run) -> UrlOutcome:
    outcome = UrlOutcome()
    try:
        if run.deadline.expired():
            raise net.deadline_error(run.deadline, "before this URL was checked")
        answer = run.transport.head(url, run.deadline, allow_downgrade=True)
        _describe_answer(outcome, answer)
        if outcome.status is not None and outcome.status >= 300:
            outcome.failure = (rules.HTTP_ERROR, _status_message(answer, run.transport))
            return outcome
        options = run.options
        if options.hash_mode is None or outcome.html:
            return outcome
        linked = host_declared_sha256(answer.linked_etag)
        if options.hash_mode == "auto" and linked:
            outcome.sha256, outcome.sha256_source = linked, SOURCE_HOST
            return outcome
        key = cache_key(url, answer.headers.get("ETag"), answer.headers.get("Last-Modified"),
                        answer.headers.get("Content-Length"))
        cached = run.cache.lookup(key) if options.hash_mode == "auto" else None
        if cached is not None:
            outcome.sha256, outcome.sha256_source = cached.sha256, SOURCE_CACHE
            outcome.received = cached.size
            return outcome
        known = outcome.linked_size or outcome.content_length
        if options.max_size is not None and known is not None and known > options.max_size:
            outcome.too_large = known
            return outcome
        _download(url, outcome, run)
    except NetworkError as exc:
        failure = failure_of(exc)
        outcome.failure = (failure.rule, failure.message)
    except ProbeFailure as exc:
        outcome.failure = (exc.rule, exc.message)
    return outcome


def _describe_answer(outcome: UrlOutcome, answer: net.Answer) -> None:
    outcome.status = answer.status
    outcome.final_url = answer.url
    outcome.etag = answer.headers.get("ETag")
    outcome.last_modified = answer.headers.get("Last-Modified")
    outcome.insecure_redirect = outcome.insecure_redirect or answer.insecure_redirect
    encoding = (answer.headers.get("Content-Encoding") or "").strip().lower()
    # A server that compresses although we ask for identity announces the compressed
    # length: neither the file's size nor the count of the decoded bytes that are hashed.
    length = answer.headers.get("Content-Length") if encoding in ("", "identity") else None
    outcome.content_length = parse_size(length)
    outcome.linked_size = parse_size(answer.linked_size)
    content_type = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
    outcome.html = answer.status < 300 and content_type in ("text/html",
                                                            "application/xhtml+xml")


def _status_message(answer: net.Answer, transport: Transport) -> str:
    status = answer.status
    message = f"the server answers {status}"
    reason = answer.response.reason
    if reason:
        message += f" {reason}"
    if status in (401, 403):
        message += f"; if the file is private, {transport.credentials.hint(answer.url)}"
    return message


def _download(url: str, outcome: UrlOutcome, run: _Run) -> None:
    transport, deadline, options, progress = (run.transport, run.deadline, run.options,
                                              run.progress)
    attempt = 0
    while True:
        answer = transport.follow("GET", url, deadline, allow_downgrade=True)
        try:
            _describe_answer(outcome, answer)
            if answer.status >= 300:
                outcome.failure = (rules.HTTP_ERROR, _status_message(answer, transport))
                return
            expected = outcome.content_length
            if progress is not None and expected:
                progress.expect(expected)
            try:
                digest = hashing.hash_stream(
                    answer.response.read, max_size=options.max_size,
                    on_bytes=progress.advance if progress is not None else None,
                    should_stop=deadline.expired, abort=answer.response.abort)
            except hashing.TooLarge as exc:
                outcome.too_large = exc.received
                return
            except (hashing.Stopped, hashing.BodyError) as exc:
                cause = exc.__cause__
                error = cause if isinstance(cause, NetworkError) else None
                if error is None or deadline.expired():
                    error = net.deadline_error(deadline, "while downloading")
                if error.kind == net.DEADLINE:
                    raise ProbeFailure(rules.DEADLINE, f"{deadline.name} ran out while "
                                       f"downloading (after {exc.received} bytes)") from None
                failure = ProbeFailure(rules.INCOMPLETE_BODY,
                                       f"{error.message} after {exc.received} of "
                                       f"{_of(expected)} bytes")
                if error.kind == net.READ_TIMEOUT:
                    failure = ProbeFailure(rules.CONNECTION_FAILED,
                                           f"{error.message} after {exc.received} bytes")
                _retry_or_raise(run, attempt, failure)
                attempt += 1
                continue
        finally:
            answer.close()
        if expected is not None and digest.size < expected:
            failure = ProbeFailure(rules.INCOMPLETE_BODY,
                                   f"the server closed the connection after {digest.size} of "
                                   f"{expected} bytes")
            _retry_or_raise(run, attempt, failure)
            attempt += 1
            continue
        break
    outcome.received = digest.size
    if hashing.looks_like_html(digest.head):
        outcome.html = True
        return
    outcome.sha256, outcome.sha256_source = digest.sha256, SOURCE_DOWNLOAD
    run.cache.store(cache_key(url, answer.headers.get("ETag"),
                              answer.headers.get("Last-Modified"),
                              answer.headers.get("Content-Length")), digest.sha256, digest.size)


def _of(expected: int | None) -> str:
    return "an unknown number of" if expected is None else str(expected)


def _retry_or_raise(run: _Run, attempt: int, failure: ProbeFailure) -> None:
    if attempt >= run.transport.limits.retries:
        if attempt:
            failure.message += f" (after {attempt + 1} attempts)"
        raise failure
    run.transport.pause(attempt, run.deadline)


# -- outcome -> findings ----------------------------------------------------------------------


def findings_for(target: Target, outcome: UrlOutcome, *, written: bool = False) -> list[Finding]:
    """The findings for one entry, given what its URL turned out to be."""
    found: list[Finding] = []
    path, where = target.path, target.url_pointer
    if outcome.insecure_redirect:
        found.append(finding(rules.INSECURE_REDIRECT, path, outcome.insecure_redirect, where))
    if outcome.failure is not None:
        rule, message = outcome.failure
        found.append(finding(rule, path, message, where))
    if outcome.html:
        found.append(finding(rules.HTML_RESPONSE, path,
                             "the URL answers with an HTML page, not the file "
                             "(a login, error or landing page)", where))
        return found
    reported = outcome.linked_size or outcome.content_length or outcome.received
    if target.size is not None and reported is not None and reported != target.size:
        found.append(finding(rules.SIZE_MISMATCH, path,
                             f"the server reports {reported} bytes but download.size is "
                             f"{target.size}", f"{target.pointer}/size"))
    if outcome.too_large is not None:
        found.append(finding(rules.TOO_LARGE, path,
                             f"the file is larger than --max-size ({outcome.too_large}+ bytes); "
                             "its sha256 was not checked", where))
    if outcome.sha256 is None:
        return found
    source = _source_text(outcome.sha256_source)
    fixed = "; written by --write" if written else ""
    if target.sha256 is None:
        found.append(finding(rules.MISSING_SHA256, path,
                             f"download.sha256 is missing; the file's sha256 is "
                             f"{outcome.sha256} ({source}){fixed}", where))
    elif target.sha256.lower() != outcome.sha256:
        found.append(finding(rules.CHECKSUM_MISMATCH, path,
                             f"the file's sha256 is {outcome.sha256} ({source}), not "
                             f"{target.sha256}{fixed}", target.sha256_pointer))
    return found


def _source_text(source: str | None) -> str:
    return {
        SOURCE_HOST: "as stated by the host's X-Linked-Etag; --hash=full downloads to verify",
        SOURCE_CACHE: "from the hash cache; the server's validators are unchanged",
    }.get(source or "", "downloaded and hashed")


def needs_write(target: Target, outcome: UrlOutcome) -> bool:
    return (outcome.sha256 is not None and outcome.failure is None and not outcome.html
            and (target.sha256 or "").lower() != outcome.sha256)


# -- a whole run ------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class _Loaded:
    docs: dict[str, JsonDocument]
    real_paths: dict[str, Path]
    targets: list[Target]
    findings: list[Finding]
    # Files --write must leave alone: with duplicate keys, which value a reader takes
    # depends on the reader, so no edit of one of them can be known good.
    unwritable: set[str] = dataclasses.field(default_factory=set)


def _load(paths: Sequence[Path], base: Path) -> _Loaded:
    loaded = _Loaded({}, {}, [], [])
    for path in paths:
        shown = repo_layout.display_path(path, base)
        doc, problems = load_json_file(path, shown)
        loaded.findings.extend(problems)
        if doc is None:
            continue
        if _is_v1(doc.data):
            loaded.findings.append(finding(
                core.V1_FORMAT, shown, "file is in the legacy v1 format; run `repo-tools "
                f"migrate {shown}` before probing it"))
            continue
        loaded.docs[shown] = doc
        loaded.real_paths[shown] = path
        if any(p.rule == core.DUPLICATE_KEY.code for p in problems):
            loaded.unwritable.add(shown)
        loaded.targets.extend(targets_of(doc))
    return loaded


def _is_v1(data: object) -> bool:
    if isinstance(data, dict) and "schema_version" in data:
        return False  # the common case, without importing validate (and jsonschema)
    from repo_tools.checks.validate import is_v1_document

    return is_v1_document(data)


def _offline_findings(target: Target) -> Finding | None:
    problem = url_problem(target.url)
    if problem is not None:
        return finding(rules.UNPROBEABLE_URL, target.path, f"{problem}; it cannot be probed",
                       target.url_pointer)
    resolve = huggingface_resolve_url(target.url)
    if resolve is not None:
        return finding(rules.HF_BLOB_URL, target.path,
                       "the URL is a Hugging Face /blob/ page (HTML), not the file; use "
                       "/resolve/ instead of /blob/", target.url_pointer)
    return None


@dataclasses.dataclass(slots=True)
class Plan:
    """What a run probes, known before any request: the files, the entries of each distinct
    URL (of the shard, if one is given) and the findings that need no network."""

    loaded: _Loaded
    by_url: dict[str, list[Target]]
    findings: list[Finding]
    files: list[str]  # as shown, in the order given
    inputs: str  # a digest of the files' names and bytes (`fingerprint`)


def plan_run(paths: Sequence[Path], base: Path, shard: Shard | None = None) -> Plan:
    """Load the files and group their entries by URL, keeping only the shard's URLs.

    File-level findings go to shard 1 and a URL's offline findings to its shard, so the
    shards' findings together are the findings of one unsharded run.
    """
    loaded = _load(paths, base)
    findings = list(loaded.findings) if shard is None or shard.index == 1 else []
    by_url: dict[str, list[Target]] = defaultdict(list)
    for target in loaded.targets:
        if shard is not None and not shard.holds(target.url):
            continue
        offline = _offline_findings(target)
        if offline is not None:
            findings.append(offline)
        else:
            by_url[target.url].append(target)
    files = [repo_layout.display_path(path, base) for path in paths]
    return Plan(loaded, dict(by_url), findings, files, fingerprint(paths, files))


def fingerprint(paths: Sequence[Path], shown: Sequence[str]) -> str:
    """One digest of the files as named and as they are now: the runs that agree on it
    probed the same entries at the same JSON pointers."""
    digest = hashlib.sha256()
    for path, name in sorted(zip(paths, shown, strict=True), key=lambda pair: pair[1]):
        try:
            data = path.read_bytes()
        except OSError:
            data = None
        size = -1 if data is None else len(data)
        digest.update(f"{name}\0{size}\0".encode("utf-8", "surrogatepass"))
        digest.update(hashlib.sha256(data or b"").digest())
    return digest.hexdigest()


def probe_paths(paths: Sequence[Path], base: Path, options: ProbeOptions, *,
                credentials: Credentials | None = None,
                progress: Progress | None = None) -> ProbeResult:
    """Probe every download URL in the named model files (each distinct URL once), or
    with `options.shard` only the URLs of that shard."""
    credentials = credentials if credentials is not None else Credentials()
    plan = plan_run(paths, base, options.shard)
    transport = Transport(options.limits, credentials, user_agent=USER_AGENT,
                          pool_size=max(1, options.jobs))
    run = _Run(transport, Deadline(options.deadline, name="the run's --deadline"),
               HashCache(options.cache_dir), options, progress)
    with transport:
        outcomes = _check_all(list(plan.by_url), run)
    stats = stats_of(outcomes, transport.requests_sent, run.cache.problem)
    return conclude(plan, outcomes, stats, write=options.write,
                    secrets=credentials.secrets(), files_checked=len(paths))


def conclude(plan: Plan, outcomes: dict[str, UrlOutcome], stats: ProbeStats, *, write: bool,
             secrets: set[str], files_checked: int) -> ProbeResult:
    """Findings from what each URL turned out to be; with `write`, the digests found are
    written into the files first (probe --write and probe-merge --write alike)."""
    loaded, by_url = plan.loaded, plan.by_url
    findings = list(plan.findings)
    updates: dict[str, dict[str, str]] = defaultdict(dict)
    if write:
        for url, targets in by_url.items():
            for target in targets:
                digest = outcomes[url].sha256
                if (digest is not None and target.path not in loaded.unwritable
                        and needs_write(target, outcomes[url])):
                    updates[target.path][target.pointer] = digest
    changed = _write(loaded, updates)
    fixed: list[Finding] = []
    for url, targets in by_url.items():
        for target in targets:
            written = target.path in changed and target.pointer in updates[target.path]
            for found in findings_for(target, outcomes[url], written=written):
                # What --write fixed is reported as fixed, not as a problem still there.
                fixing = written and found.rule in _DIGEST_RULES
                (fixed if fixing else findings).append(found)

    return ProbeResult(_finish(findings, loaded, secrets), files_checked, sorted(changed),
                       stats, _notes(by_url, outcomes), _finish(fixed, loaded, secrets),
                       by_url=by_url, outcomes=outcomes, files=plan.files,
                       inputs=plan.inputs)


_DIGEST_RULES = frozenset({rules.MISSING_SHA256.code, rules.CHECKSUM_MISMATCH.code})


def _finish(findings: list[Finding], loaded: _Loaded, secrets: set[str]) -> list[Finding]:
    """Scrubbed of every credential, located in their files, sorted."""
    located: list[Finding] = []
    for f in findings:
        f = dataclasses.replace(f, message=scrub(f.message, secrets))
        doc = loaded.docs.get(f.path)
        located.extend(doc.locate([f]) if doc is not None and f.line == 0 else [f])
    return sort_findings(located)


def _check_all(urls: list[str], run: _Run) -> dict[str, UrlOutcome]:
    outcomes: dict[str, UrlOutcome] = {}
    if not urls:
        return outcomes
    lock = threading.Lock()

    def work(url: str) -> None:
        started = time.monotonic()
        try:
            outcome = check_url(url, run)
        except Exception as exc:  # a bug or an unexpected library error: still a finding
            _kind, message = net.classify(exc, run.options.limits)
            outcome = UrlOutcome(failure=(rules.CONNECTION_FAILED, message))
        outcome.seconds = time.monotonic() - started
        with lock:
            outcomes[url] = outcome
        if run.progress is not None:
            run.progress.finished(url, outcome)

    workers = max(1, min(run.options.jobs, len(urls)))
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="probe") as pool:
        list(pool.map(work, urls))
    return outcomes


def _write(loaded: _Loaded, updates: dict[str, dict[str, str]]) -> set[str]:
    changed: set[str] = set()
    for shown, pointers in updates.items():
        doc = loaded.docs[shown]
        text = set_sha256_values(doc.text, pointers)
        if text == doc.text:
            continue
        target = loaded.real_paths[shown].resolve()
        original = (UTF8_BOM if doc.had_bom else b"") + doc.text.encode("utf-8")
        # A long run gives people time to edit the file: never overwrite their edit.
        if target.read_bytes() != original:
            raise RewriteError(f"{shown} changed while probing; run probe --write again")
        data = (UTF8_BOM if doc.had_bom else b"") + text.encode("utf-8")
        # Through a symlink to the file it names, as migrate does: never replace the link.
        write_atomic(target, data)
        changed.add(shown)
    return changed


def stats_of(outcomes: dict[str, UrlOutcome], requests: int,
           cache_problem: str | None) -> ProbeStats:
    stats = ProbeStats(urls=len(outcomes), requests=requests, cache_problem=cache_problem)
    for outcome in outcomes.values():
        if outcome.sha256_source == SOURCE_DOWNLOAD:
            stats.downloaded += 1
            stats.downloaded_bytes += outcome.received or 0
        elif outcome.sha256_source == SOURCE_HOST:
            stats.from_host += 1
        elif outcome.sha256_source == SOURCE_CACHE:
            stats.from_cache += 1
    return stats


def _notes(by_url: dict[str, list[Target]], outcomes: dict[str, UrlOutcome]) -> list[str]:
    """One line per entry saying where its sha256 came from (for --verbose)."""
    notes = []
    for url, targets in by_url.items():
        outcome = outcomes[url]
        for target in targets:
            where = f"{target.path}#{target.pointer}"
            if outcome.failure is not None:
                notes.append(f"{where}: not checked ({outcome.failure[0].code})")
            elif outcome.sha256 is not None:
                notes.append(f"{where}: sha256 {_source_text(outcome.sha256_source)}")
            else:
                notes.append(f"{where}: answers {outcome.status}")
    return notes

