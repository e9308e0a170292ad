"""`lint`: every offline check on a whole config repo, one merged list of findings.

Release uses this too: a repo is publishable only when `lint_repo` reports no errors.
Each check streams over the files itself and keeps only findings (and small per-model
summaries), so memory stays flat however many files the repo has.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repo_tools import repo as repo_layout
from repo_tools.checks.validate import VersionHook, validate_paths
from repo_tools.findings import Finding, sort_findings
from repo_tools.rules import core
from repo_tools.settings import CHECKS, Settings, apply_settings, load_settings

if TYPE_CHECKING:
    from repo_tools.checks.index import IndexCheck
    from repo_tools.compat import Interval
    from repo_tools.fixes import FixResult
    from repo_tools.model import EntrySummary
    from repo_tools.probe import ProbeOptions

# migrate keeps each changed file's old and new text until it returns; batches bound that.
MIGRATE_BATCH = 500


@dataclasses.dataclass(slots=True)
class LintResult:
    findings: list[Finding]
    files: int
    checks: tuple[str, ...] = ()
    settings: Settings = dataclasses.field(default_factory=Settings)


def lint_repo(repo: Path, *, base: Path | None = None, settings: Settings | None = None,
              checks: Sequence[str] | None = None, probe: bool = False,
              config: Path | None = None) -> LintResult:
    """Run the checks over the config repo at `repo`; paths are shown relative to `base`.

    Settings come from `settings` when given, else from `config` or the repo's own
    settings file (their findings are part of the result). `checks` overrides the
    settings' list, and `probe=True` adds the probe to whichever list is used.
    """
    shown_from = base if base is not None else Path.cwd()
    found: list[Finding] = []
    if settings is None:
        loaded = load_settings(repo, base=shown_from, config=config)
        settings = loaded.settings
        found.extend(loaded.findings)
    named = set(checks if checks is not None else settings.checks)
    if probe:
        named.add("probe")
    wanted = tuple(c for c in CHECKS if c in named)
    paths = repo_layout.model_file_names(_listing_root(repo, shown_from))
    files = len(paths)
    on_version = None
    if "index" in wanted:
        # With validate, the index rule on models (I008) rides on validate's pass over
        # each config version's summaries instead of reading every file again.
        index = _index_check(repo, shown_from, scan_models="validate" not in wanted)
        found.extend(index.findings)
        files += (repo / "index.json").is_file()
        on_version = _unreachable_hook(index.selected, found)
    if "validate" in wanted:
        # The platform rule rides on validate's one read of each file.
        found.extend(validate_paths(paths, shown_from, known_platforms=settings.known_platforms,
                                    on_version=on_version, whole_folders=True).findings)
    if "migrate" in wanted:
        targets = paths
        if "validate" in wanted:
            # migrate leaves v2 files alone and reports unparsable ones as validate did,
            # so only the files validate saw as v1 need reading a second time.
            v1 = {f.path for f in found if f.rule == core.V1_FORMAT.code}
            targets = [p for p in paths
                       if repo_layout.display_path(p, shown_from) in v1] if v1 else []
        if targets:  # (a v2 repo does not even import migrate)
            found = _prefer_migrate(found, _migrate_findings([Path(p) for p in targets],
                                                              shown_from))
    if "probe" in wanted:
        found.extend(_unreported(_probe_findings(repo, [Path(p) for p in paths], shown_from,
                                                 settings), found))
    kept = apply_settings(found, settings, repo_prefix=repo_prefix(repo, shown_from))
    return LintResult(sort_findings(kept), files, wanted, settings)


def lint_files(files: Mapping[str, bytes], settings: Settings,
               checks: Sequence[str] | None = None) -> LintResult:
    """lint_repo on a release's content (repo-relative path -> bytes) rather than a work
    tree: what `release --resign` runs on the release it signs again, so that content
    published before a rule existed is not vouched for anew. The files are written to a
    temporary folder; findings' paths are repo-relative."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="repo-tools-lint-") as scratch:
        root = Path(scratch)
        for path, data in files.items():
            target = root.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)  # a scratch copy: no rename, no fsync
        return lint_repo(root, base=root, settings=settings, checks=checks)


def _listing_root(repo: Path, base: Path) -> Path:
    """The repo as its model files are best listed: absolute when it is under base (each
    path is then validate's own key, not a copy, and shows relative to base), else as
    given, so that `--repo ../other` shows `../other/...` as the user wrote it."""
    absolute = repo_layout.absolute(repo)
    return absolute if absolute.is_relative_to(repo_layout.absolute(base)) else repo


def fix_repo(repo: Path, *, base: Path, write: bool,
             config: Path | None = None) -> FixResult:
    """`lint --fix`: the mechanical fixes of every model file, except those of rules the
    repo's settings turn off (for the whole repo or that file)."""
    from repo_tools import fixes

    settings = load_settings(repo, base=base, config=config).settings
    prefix = repo_prefix(repo, base)

    def keep(fixed: Finding) -> bool:
        return bool(apply_settings([fixed], settings, repo_prefix=prefix))

    return fixes.fix_repo(repo, base, write=write, keep=keep)


def repo_prefix(repo: Path, base: Path) -> str:
    """How findings' paths start for files of `repo`: `""` when it is `base` itself, else
    its display path and a slash (`configs/`)."""
    if os.path.abspath(repo) == os.path.abspath(base):
        return ""
    return repo_layout.display_path(repo, base).rstrip("/") + "/"


def _index_check(repo: Path, base: Path, *, scan_models: bool) -> IndexCheck:
    from repo_tools.checks.index import run_check_index

    return run_check_index(repo, base, scan_models=scan_models)


def _unreachable_hook(selected: dict[str, list[Interval]], found: list[Finding]) -> VersionHook:
    """I008 per config version, from the summaries validate has in hand."""
    from repo_tools.checks.index import unreachable_findings

    def on_version(models_dir: str, files: Mapping[str, str],
                   models: Sequence[EntrySummary]) -> None:
        config_version = os.path.basename(os.path.dirname(models_dir))
        ranges = selected.get(config_version)
        if ranges:
            found.extend(unreachable_findings(models, config_version, ranges, files))
    return on_version


def _migrate_findings(paths: Sequence[Path], base: Path) -> list[Finding]:
    from repo_tools.migrate import migrate_paths

    found: list[Finding] = []
    for start in range(0, len(paths), MIGRATE_BATCH):
        found.extend(migrate_paths(paths[start:start + MIGRATE_BATCH], base,
                                   write=False).findings)
    return found


def _prefer_migrate(found: list[Finding], migrate: list[Finding]) -> list[Finding]:
    """Drop validate's generic "this is v1" (S005) where migrate says something specific
    about the same file (it converts cleanly: M001, or why it cannot: M002-M004)."""
    explained = {f.path for f in migrate}
    kept = [f for f in found if not (f.rule == core.V1_FORMAT.code and f.path in explained)]
    return kept + migrate


def _unreported(probed: list[Finding], found: list[Finding]) -> list[Finding]:
    """Probe's findings less its /blob/ URL rule (P007) where validate's offline twin
    (V011) already reports the same URL: one problem, one finding."""
    from repo_tools.rules import probe as probe_rules

    blob = {(f.path, f.pointer) for f in found if f.rule == core.HF_BLOB_URL.code}
    return [f for f in probed if not (f.rule == probe_rules.HF_BLOB_URL.code
                                      and (f.path, f.pointer) in blob)]


class LintError(Exception):
    """The environment stops a check from running (e.g. an unusable ~/.netrc for probe)."""


def _probe_findings(repo: Path, paths: Sequence[Path], base: Path,
                    settings: Settings) -> list[Finding]:
    from repo_tools.net import Credentials, CredentialsError
    from repo_tools.probe import probe_paths

    try:
        credentials = Credentials()
    except CredentialsError as exc:
        raise LintError(str(exc)) from exc
    options = probe_options(settings.probe, root=repo)
    ca_bundle = options.limits.ca_bundle
    if ca_bundle is not None and not ca_bundle.is_file():
        # as `probe --ca-bundle` refuses it, rather than failing every https URL
        raise LintError(f"[probe] ca-bundle: no such file: {ca_bundle}")
    return probe_paths(paths, base, options, credentials=credentials).findings


def probe_options(values: Mapping[str, Any], *, root: Path | None = None) -> ProbeOptions:
    """`[probe]` settings (already checked by `settings`) as the probe's own options.

    Relative `cache-dir` and `ca-bundle` paths are relative to `root`, the config repo
    whose settings they are (not to wherever lint happens to run). lint never rewrites
    files, so `write` stays off whatever the settings say.
    """
    from repo_tools.probe_options import to_probe_options

    return to_probe_options(values, root=root, write=False)
