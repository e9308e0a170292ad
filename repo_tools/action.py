"""The GitHub Action's entry point: one lint run, four reports.

`action.yml` runs `python -m repo_tools.action` with the action's inputs in `INPUT_*`
environment variables. One call of `lint_repo` feeds the annotations (stdout, GitHub's
workflow-command format), the Markdown job summary (`$GITHUB_STEP_SUMMARY`, which carries
the full table: GitHub shows only 10 error and 10 warning annotations per step), the step
outputs (`$GITHUB_OUTPUT`) and, when asked, a SARIF file for code scanning.

The renderers (`summary_markdown`, `github_outputs`) are pure and return text; only
`main` and its two small helpers touch files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from repo_tools.findings import Finding, Severity, count_by_severity, exit_code
from repo_tools.report import md_cell
from repo_tools.settings import split_checks

FAIL_LEVELS = ("error", "warning", "none")
# GitHub refuses step summaries over 1 MiB; leave room for the parts after the table.
SUMMARY_LIMIT = 1024 * 1024 - 64 * 1024
_BACKTICKS = re.compile(r"`+")
# What may stand in a link built from GitHub's variables; anything else gets no link.
_SERVER = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?/?")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class InputError(Exception):
    """An action input that cannot be used; reported as an error annotation, exit 2."""


@dataclasses.dataclass(frozen=True, slots=True)
class ActionInputs:
    path: Path
    checks: tuple[str, ...] | None
    probe: bool
    fail_level: str
    sarif_file: Path | None


def parse_inputs(env: Mapping[str, str]) -> ActionInputs:
    """The action's inputs from `INPUT_*` variables (composite actions pass them by `env:`)."""
    path = Path(env.get("INPUT_PATH", "").strip() or ".")
    try:
        checks = split_checks(env.get("INPUT_CHECKS", ""))
    except ValueError as exc:
        raise InputError(f"checks: {exc}") from None
    probe_text = env.get("INPUT_PROBE", "false").strip().lower() or "false"
    if probe_text not in ("true", "false"):
        raise InputError(f"probe: expected true or false, not {probe_text!r}")
    fail_level = env.get("INPUT_FAIL_LEVEL", "error").strip().lower() or "error"
    if fail_level not in FAIL_LEVELS:
        raise InputError(f"fail-level: expected one of {', '.join(FAIL_LEVELS)}, not "
                         f"{fail_level!r}")
    sarif_text = env.get("INPUT_SARIF_FILE", "").strip()
    return ActionInputs(path, checks, probe_text == "true", fail_level,
                        Path(sarif_text) if sarif_text else None)


def exit_code_for(findings: Sequence[Finding], fail_level: str) -> int:
    """fail-level `warning` is the CLI's --strict; `none` never fails the step."""
    return 0 if fail_level == "none" else exit_code(findings, strict=fail_level == "warning")


# -- the job summary ------------------------------------------------------------------------


def md_message(text: str) -> str:
    """A finding's message for a table cell: its `code spans` as inline code, the rest as
    `md_cell` text.

    A span follows CommonMark (a run of n backticks up to the next run of exactly n). Its
    pipes are escaped, as GFM tables require even inside code; everything else in it is
    literal there. A span holding a backslash is left as text: before a pipe, it would
    change how the table splits the row.
    """
    text = " ".join(text.splitlines()) if text else ""
    out: list[str] = []
    done = 0  # text[:done] is rendered
    search = 0
    while (opening := _BACKTICKS.search(text, search)) is not None:
        fence = opening.group()
        closing = next((m for m in _BACKTICKS.finditer(text, opening.end())
                        if m.group() == fence), None)
        if closing is None:
            search = opening.end()  # an unmatched run is literal backticks
            continue
        code = text[opening.end():closing.start()]
        search = closing.end()
        if not code.strip(" ") or "\\" in code:
            continue
        out += [md_cell(text[done:opening.start()]), fence, code.replace("|", "\\|"), fence]
        done = closing.end()
    out.append(md_cell(text[done:]))
    return "".join(out)


def blob_url(env: Mapping[str, str]) -> str | None:
    """`SERVER/OWNER/REPO/blob/SHA/` from the runner's variables, or None when one is
    missing or not what GitHub sets (no link is better than a wrong one)."""
    server = env.get("GITHUB_SERVER_URL", "")
    repository = env.get("GITHUB_REPOSITORY", "")
    sha = env.get("GITHUB_SHA", "")
    if not (_SERVER.fullmatch(server) and _REPOSITORY.fullmatch(repository)
            and _SHA.fullmatch(sha)):
        return None
    return f"{server.rstrip('/')}/{repository}/blob/{sha}/"


def _file_cell(f: Finding, blob: str | None) -> str:
    """The file, linked to its line when the path is one inside the repository."""
    parts = f.path.split("/")
    if blob is None or not f.path or f.path.startswith("/") or ".." in parts or "." in parts \
            or "" in parts or ":" in parts[0]:
        return md_cell(f.path)
    anchor = f"#L{f.line}" if f.line else ""
    return f"[{md_cell(f.path)}]({blob}{quote(f.path)}{anchor})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_markdown(findings: Sequence[Finding], files: int, checks: Sequence[str], *,
                     repo_shown: str, resolve_table: str | None = None,
                     blob: str | None = None, limit: int = SUMMARY_LIMIT,
                     clients: str | None = None) -> str:
    """The job summary: verdict, what clients will see (`clients`, Markdown, on pull
    requests), counts per rule, every finding (within `limit` bytes), then the client ->
    config version map. With `blob` (see `blob_url`), each file links to its line at that
    commit."""
    from repo_tools.rules import ALL_RULES, rule_url

    counts = count_by_severity(findings)
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    if findings:
        verdict = (f"{'❌' if errors else '⚠️'} {_plural(errors, 'error')}, "
                   f"{_plural(warnings, 'warning')}")
    else:
        verdict = "✅ all checks passed"
    head = [f"## repo-tools lint: {verdict}", "",
            f"Checked {_plural(files, 'file')} in {md_cell(repo_shown)} with "
            f"{', '.join(checks) or 'no checks'}.", ""]
    if clients is not None:
        head += [clients.rstrip(), ""]
    tail: list[str] = []
    if resolve_table is not None:
        tail = ["", "### Which config version each client gets (`repo-tools resolve --table`)",
                "", resolve_table.rstrip(), ""]
    if not findings:
        return "\n".join(head + tail) + "\n"
    by_rule = Counter(f.rule for f in findings)
    # A rule's findings can differ in severity (per-file overrides); show the worst.
    erring = {f.rule for f in findings if f.severity is Severity.ERROR}
    head += ["### Findings by rule", "", "| Rule | Name | Severity | Count |",
             "| --- | --- | --- | ---: |"]
    for code, count in sorted(by_rule.items()):
        rule = ALL_RULES.get(code)
        severity = Severity.ERROR if code in erring else Severity.WARNING
        shown = f"[{md_cell(code)}]({rule_url(code)})" if rule else md_cell(code)
        head.append(f"| {shown} | {md_cell(rule.name if rule else '')} | "
                    f"{severity} | {count} |")
    head += ["", "### Findings", "", "| | File | Line | Rule | Message |",
             "| --- | --- | ---: | --- | --- |"]
    budget = limit - _size(head) - _size(tail) - 200
    rows: list[str] = []
    for f in findings:
        icon = "❌" if f.severity is Severity.ERROR else "⚠️"
        where = f"{f.line}:{f.column}" if f.line else ""
        row = (f"| {icon} | {_file_cell(f, blob)} | {where} | {md_cell(f.rule)} | "
               f"{md_message(f.message)} |")
        budget -= len(row.encode("utf-8")) + 1
        if budget < 0:
            break
        rows.append(row)
    left = len(findings) - len(rows)
    if left:
        rows += ["", f"… and {_plural(left, 'more finding')} not shown here (the summary "
                     "is capped at 1 MiB); the SARIF file and the step log have them all."]
    return "\n".join(head + rows + tail) + "\n"


def _size(lines: Sequence[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


# -- step outputs ---------------------------------------------------------------------------


def github_outputs(values: Mapping[str, str]) -> str:
    """`$GITHUB_OUTPUT` text; multi-line values use a random heredoc delimiter, as
    actions/toolkit does, so no value can forge another output."""
    lines = []
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            lines += [f"{name}<<{delimiter}", value, delimiter]
        else:
            lines.append(f"{name}={value}")
    return "".join(line + "\n" for line in lines)


# -- running --------------------------------------------------------------------------------


def _append(path_text: str | None, text: str) -> None:
    if path_text:
        with open(path_text, "a", encoding="utf-8") as handle:
            handle.write(text)


def client_table(repo: Path) -> str | None:
    """`repo-tools resolve --table` for the repo, as a Markdown block; None without an
    index to read (its problems are already among the findings)."""
    from repo_tools.checks.index import load_index
    from repo_tools.compat import selection_table
    from repo_tools.tables import render_table

    index, _ = load_index(repo, repo)
    if index is None:
        return None
    # Config version names in the table are validated SemVer, so no fence can break.
    return f"```text\n{render_table(selection_table(index.entries), 'text')}```"


@dataclasses.dataclass(frozen=True, slots=True)
class ClientsSection:
    markdown: str
    json: str | None  # None when the base could not be compared


def base_revision(env: Mapping[str, str]) -> str | None:
    """The pull request's base commit (from the event payload), None for other events."""
    if env.get("GITHUB_EVENT_NAME") not in ("pull_request", "pull_request_target"):
        return None
    try:
        with open(env.get("GITHUB_EVENT_PATH", ""), encoding="utf-8") as handle:
            event = json.load(handle)
        sha = event["pull_request"]["base"]["sha"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sha if isinstance(sha, str) and _SHA.fullmatch(sha) else None


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=False, timeout=300)


def clients_section(repo: Path, base: str) -> ClientsSection:
    """What clients will see change from the base commit to the checked-out tree; a note
    instead when the base cannot be read (a shallow checkout of a private repository)."""
    from repo_tools import snapshot
    from repo_tools.clientdiff import client_diff, render_markdown, to_json

    heading = "### What clients will see"
    short = base[:12]
    try:
        if _git(repo, "cat-file", "-e", f"{base}^{{commit}}").returncode != 0:
            # actions/checkout fetches one commit; the base is one more, fetched alone.
            _git(repo, "fetch", "--quiet", "--no-tags", "--depth=1", "origin", base)
        if _git(repo, "cat-file", "-e", f"{base}^{{commit}}").returncode != 0:
            return ClientsSection(
                f"{heading}\n\nNot compared: the base commit {short} is not in the checkout "
                "and could not be fetched (use `fetch-depth: 0` in actions/checkout).\n", None)
        old = snapshot.from_git(repo, base)
    except (OSError, subprocess.TimeoutExpired, snapshot.SnapshotUnavailable) as exc:
        return ClientsSection(f"{heading}\n\nNot compared with {short}: {md_cell(str(exc))}\n",
                              None)
    new = snapshot.from_checkout(repo, repo)
    if old.entries is None or new.entries is None:
        side = f"the base {short}" if old.entries is None else "this branch"
        return ClientsSection(f"{heading}\n\nNot compared: {side} has no readable "
                              "index.json (see the findings).\n", None)
    diff = client_diff(old, new)
    return ClientsSection(render_markdown(diff, heading=f"{heading} (compared with {short})"),
                          json.dumps(to_json(diff), ensure_ascii=False))


def main(env: Mapping[str, str] | None = None) -> int:
    """Run the action: annotations to stdout, then summary, outputs and SARIF files."""
    from repo_tools.atomic import write_atomic
    from repo_tools.lint import LintError, lint_repo, repo_prefix
    from repo_tools.report import escape_data, render_github, render_sarif

    env = os.environ if env is None else env
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".")

    def unusable(message: str) -> int:
        # The exit-code output says 2 too, for steps after one that continues on error.
        print(f"::error title=repo-tools::{escape_data(message)}")
        _append(env.get("GITHUB_OUTPUT"), github_outputs({"exit-code": "2"}))
        return 2

    try:
        inputs = parse_inputs(env)
    except InputError as exc:
        return unusable(str(exc))
    repo = inputs.path if inputs.path.is_absolute() else workspace / inputs.path
    if not repo.is_dir():
        return unusable(f"path: {inputs.path} is not a directory")
    try:
        result = lint_repo(repo, base=workspace, checks=inputs.checks, probe=inputs.probe)
    except LintError as exc:
        return unusable(str(exc))
    sys.stdout.write(render_github(result.findings, result.files))
    counts = count_by_severity(result.findings)
    if result.findings:
        print(f"repo-tools: {_plural(counts[Severity.ERROR], 'error')}, "
              f"{_plural(counts[Severity.WARNING], 'warning')} in "
              f"{_plural(result.files, 'file')} (the job summary lists them all)")
    else:
        print(f"repo-tools: no errors or warnings in {_plural(result.files, 'file')}")
    sarif_shown = ""
    if inputs.sarif_file is not None:
        sarif_path = (inputs.sarif_file if inputs.sarif_file.is_absolute()
                      else workspace / inputs.sarif_file)
        try:
            sarif_path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(sarif_path, render_sarif(result.findings, result.files).encode())
        except OSError as exc:
            return unusable(f"sarif-file: cannot write {inputs.sarif_file}: {exc.strerror}")
        sarif_shown = str(inputs.sarif_file)
    code = exit_code_for(result.findings, inputs.fail_level)
    base = base_revision(env)
    clients = clients_section(repo, base) if base is not None else None
    _append(env.get("GITHUB_STEP_SUMMARY"), summary_markdown(
        result.findings, result.files, result.checks,
        repo_shown=repo_prefix(repo, workspace).rstrip("/") or ".",
        resolve_table=client_table(repo), blob=blob_url(env),
        clients=clients.markdown if clients is not None else None))
    outputs = {
        "errors": str(counts[Severity.ERROR]),
        "warnings": str(counts[Severity.WARNING]),
        "files": str(result.files),
        "sarif-file": sarif_shown,
        "exit-code": str(code),
    }
    if clients is not None and clients.json is not None:
        outputs["clients-diff"] = clients.json
    _append(env.get("GITHUB_OUTPUT"), github_outputs(outputs))
    return code


if __name__ == "__main__":
    from repo_tools.checks.workers import start_workers_fresh

    start_workers_fresh()  # this main module is guarded: workers may import it again
    sys.exit(main())
