"""`probe-merge`: the shards' reports of one run, concluded as one unsharded run would.

`check_reports` and `outcomes_from` are pure: they decide whether the reports fit
together and what each URL turned out to be. `merge_reports` loads the model files the
shards probed, insists they are the same files, and concludes with probe's own code
(`conclude`), so the findings, and with `write` the edits, are exactly probe's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from repo_tools.probe.run import (
    ProbeResult,
    ProbeStats,
    UrlOutcome,
    conclude,
    plan_run,
    stats_of,
)
from repo_tools.probe.shard import Shard, shard_of
from repo_tools.probe.shard_report import ShardReport, UrlRecord
from repo_tools.probe.targets import Target


class MergeError(Exception):
    """The reports cannot be merged (nothing was written); the message says why."""


def check_reports(reports: Sequence[ShardReport]) -> None:
    """Refuse reports that are not exactly the N shards of one run: every shard once,
    the same shard count, commit, files and outcome-changing options."""
    if not reports:
        raise MergeError("no reports given")
    first = reports[0]
    for report in reports[1:]:
        if report.shard.count != first.shard.count:
            raise MergeError(f"the reports split the URLs differently: {first.source} is "
                             f"shard {first.shard}, {report.source} is shard {report.shard}")
    by_index: dict[int, ShardReport] = {}
    for report in reports:
        seen = by_index.get(report.shard.index)
        if seen is not None:
            raise MergeError(f"overlapping reports: {seen.source} and {report.source} are "
                             f"both shard {report.shard}")
        by_index[report.shard.index] = report
    count = first.shard.count
    missing = [str(Shard(i, count)) for i in range(1, count + 1) if i not in by_index]
    if missing:
        raise MergeError(f"missing shard(s) {', '.join(missing)}: every shard's report is "
                         f"needed (got {len(reports)} of {count})")
    for report in reports[1:]:
        if report.commit != first.commit:
            raise MergeError(f"the reports are of different commits: {first.source} of "
                             f"{_commit(first.commit)}, {report.source} of "
                             f"{_commit(report.commit)}")
        if report.inputs != first.inputs or report.files != first.files:
            raise MergeError(f"the reports probed different files: {first.source} and "
                             f"{report.source} (edited between the shards' runs?)")
        if report.options != first.options:
            keys = sorted(set(report.options) | set(first.options))
            differ = [f"--{k} {first.options.get(k)!r} in {first.source}, "
                      f"{report.options.get(k)!r} in {report.source}"
                      for k in keys if first.options.get(k) != report.options.get(k)]
            raise MergeError("the reports were made with different options: "
                             + "; ".join(differ))
    owner: dict[tuple[str, str], ShardReport] = {}
    for report in reports:
        for record in report.urls:
            for entry in record.entries:
                other = owner.setdefault(entry, report)
                if other is not report:
                    raise MergeError(f"overlapping reports: {other.source} and "
                                     f"{report.source} both probed {entry[0]}#{entry[1]}")


def _commit(commit: str | None) -> str:
    return commit[:12] if commit else "no commit (not a git work tree)"


def outcomes_from(reports: Sequence[ShardReport],
                  by_url: Mapping[str, Sequence[Target]]) -> dict[str, UrlOutcome]:
    """What each URL of the files turned out to be, from the report that probed it.

    Every entry must be in the report of its URL's shard, and every entry of a report
    must be in the files: otherwise the reports are not of these files.
    """
    count = reports[0].shard.count
    records: dict[tuple[str, str], tuple[ShardReport, UrlRecord]] = {}
    for report in reports:
        for record in report.urls:
            for entry in record.entries:
                records[entry] = (report, record)
    outcomes: dict[str, UrlOutcome] = {}
    used: set[tuple[str, str]] = set()
    for url, targets in by_url.items():
        found: set[int] = set()
        for target in targets:
            entry = (target.path, target.pointer)
            if entry not in records:
                raise MergeError(f"no report has {target.path}#{target.pointer}: the "
                                 "reports are not of these files")
            report, record = records[entry]
            if report.shard.index != shard_of(url, count):
                raise MergeError(f"{report.source} (shard {report.shard}) has "
                                 f"{target.path}#{target.pointer}, whose URL belongs to "
                                 f"shard {shard_of(url, count)}/{count}")
            found.add(id(record))
            outcomes[url] = record.outcome
            used.add(entry)
        if len(found) > 1:
            raise MergeError(f"the entries of one URL ({targets[0].path}#"
                             f"{targets[0].pointer}, ...) have different outcomes in the "
                             "reports")
    extra = sorted(set(records) - used)
    if extra:
        path, pointer = extra[0]
        raise MergeError(f"{records[extra[0]][0].source} has {path}#{pointer}, which these "
                         "files do not probe: the reports are not of these files")
    return outcomes


def merge_reports(reports: Sequence[ShardReport], base: Path, *, write: bool = False,
                  secrets: set[str] | None = None) -> ProbeResult:
    """The findings of the run the reports are shards of, located in the files under
    `base`; with `write`, the digests found are written as `probe --write` does."""
    check_reports(reports)
    first = reports[0]
    # Reports arrive as CI artifacts: the files --write may edit are only ever those under
    # the directory the merge runs in, whatever a report names.
    outside = [name for name in first.files if not _inside(base, name)]
    if outside:
        raise MergeError(f"{first.source} names {outside[0]}, outside {base}: probe-merge "
                         "only reads and writes files under the directory it runs in")
    paths = [base / name for name in first.files]
    absent = [name for name, path in zip(first.files, paths, strict=True) if not path.is_file()]
    if absent:
        raise MergeError(f"the reports probed {', '.join(absent)}, which is not here: run "
                         "probe-merge where the shards ran (the repository's root)")
    plan = plan_run(paths, base)
    if plan.inputs != first.inputs:
        at = f" at commit {first.commit[:12]}" if first.commit else ""
        raise MergeError(f"the model files here differ from the ones the shards probed{at}: "
                         "merge on that commit, before any edit")
    outcomes = outcomes_from(reports, plan.by_url)
    stats = merged_stats(reports, outcomes)
    return conclude(plan, outcomes, stats, write=write, secrets=secrets or set(),
                    files_checked=len(paths))


def _inside(base: Path, name: str) -> bool:
    path = Path(name)
    return not path.is_absolute() and ".." not in path.parts


def merged_stats(reports: Sequence[ShardReport],
                 outcomes: Mapping[str, UrlOutcome]) -> ProbeStats:
    return stats_of(dict(outcomes), sum(r.requests for r in reports), None)
