"""A Markdown summary of a probe run, for a CI job summary ($GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

from collections.abc import Sequence

from repo_tools.findings import Finding, Severity, count_by_severity, place
from repo_tools.probe.run import ProbeResult

MAX_ROWS = 200  # GitHub shows at most 1 MiB of a step's summary


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _table(findings: Sequence[Finding]) -> list[str]:
    lines = ["| rule | where | message |", "|---|---|---|"]
    for f in findings[:MAX_ROWS]:
        lines.append(f"| {f.rule} | `{_cell(place(f.path, f.line, f.column))}` | "
                     f"{_cell(f.message)} |")
    if len(findings) > MAX_ROWS:
        lines.append(f"\n… and {len(findings) - MAX_ROWS} more (see the job's log).")
    return lines


def _size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def markdown_summary(result: ProbeResult, findings: Sequence[Finding], *, shards: int,
                     commit: str | None) -> str:
    """`findings`: the result's, after the repository's settings."""
    stats = result.stats
    where = f" at `{commit[:12]}`" if commit else ""
    lines = ["## repo-tools probe", "",
             f"{stats.urls} URL(s) of {result.files_checked} file(s) in {shards} shard(s)"
             f"{where}: {stats.requests} request(s); {stats.downloaded} downloaded and "
             f"hashed ({_size(stats.downloaded_bytes)}), {stats.from_cache} "
             f"from the hash cache, {stats.from_host} stated by the host.", ""]
    counts = count_by_severity(findings)
    if findings:
        lines += [f"**{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} "
                  "warning(s)**", "", *_table(findings), ""]
    else:
        lines += ["No findings.", ""]
    if result.fixed:
        lines += [f"**Fixed by --write** ({len(result.fixed)}, in "
                  f"{len(result.changed_files)} file(s)):", "", *_table(result.fixed), ""]
    return "\n".join(lines)
