"""A configuration repository on disk: where its index and model files are."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from repo_tools.findings import Finding

INDEX_FILE = "index.json"
VERSIONS_DIR = "versions"
MODELS_DIR = "models"
SETTINGS_FILE = ".repo-tools.toml"
PYPROJECT = "pyproject.toml"


def model_files(repo: Path) -> list[Path]:
    """Every versions/*/models/*.json under repo, sorted."""
    return [Path(p) for p in model_file_names(repo)]


def model_file_names(repo: Path) -> list[str]:
    """`model_files` as strings (what a whole-repo run keeps: a Path costs several times
    a string's memory, and listing with scandir several times less than Path.glob). As
    the glob: hidden names included, folders followed through symlinks, in the order of
    the paths' parts."""
    root = os.path.join(os.fspath(repo), VERSIONS_DIR)
    found: list[str] = []
    for version in _listing(root):
        models = os.path.join(root, version, MODELS_DIR)
        found.extend(os.path.join(models, name) for name in _listing(models)
                     if name.endswith(".json"))
    return found


def model_names_in(models_dir: str | Path) -> set[str]:
    """The model file names of one models folder (`*.json`, not hidden); none when it
    cannot be listed (a missing or unreadable folder is reported elsewhere)."""
    try:
        with os.scandir(models_dir) as entries:
            return {e.name for e in entries
                    if e.name.endswith(".json") and not e.name.startswith(".")}
    except OSError:
        return set()


def _listing(folder: str) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries)
    except OSError:  # missing, or not a folder
        return []


# One match instead of a split per path: check-index and lint ask this of every file
# under versions/ (at 10,000 files, about 5 ms instead of 8).
_MODEL_FILE_PATH = re.compile(
    rf"{re.escape(VERSIONS_DIR)}/[^/]*/{re.escape(MODELS_DIR)}/[^/]*\.json")


def is_model_file_path(path: str) -> bool:
    """Whether a repo-relative POSIX path is `versions/<v>/models/<p>.json`."""
    return _MODEL_FILE_PATH.fullmatch(path) is not None


def version_dirs(repo: Path) -> list[Path]:
    base = repo / VERSIONS_DIR
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir())


def config_version_dir(path: Path) -> Path | None:
    """For versions/<v>/models/<file>.json, the versions/<v> directory; else None."""
    models = path.parent
    if models.name != MODELS_DIR or models.parent.parent.name != VERSIONS_DIR:
        return None
    return models.parent


def is_models_dir(folder: str) -> bool:
    """Whether an absolute, normalised path names a versions/<v>/models folder: a string
    test, as `config_version_dir` is for Paths (validate asks it of every file)."""
    version = os.path.dirname(folder)
    return (os.path.basename(folder) == MODELS_DIR
            and os.path.basename(os.path.dirname(version)) == VERSIONS_DIR)


def absolute(path: Path) -> Path:
    """An absolute path without resolving symlinks (resolve() costs a stat per part)."""
    return Path(os.path.abspath(path))


@functools.lru_cache(maxsize=64)
def _absolute_prefix(base: str) -> str:
    return os.path.normpath(base).rstrip(os.sep) + os.sep


def display_path(path: str | Path, base: Path) -> str:
    """A path as users should see it: relative to base where possible, with / separators."""
    root = os.fspath(base)
    # Only absolute bases are cached: a relative one depends on the working directory.
    prefix = (_absolute_prefix(root) if os.path.isabs(root)
              else os.path.abspath(root).rstrip(os.sep) + os.sep)
    full = os.path.abspath(path)
    shown = full[len(prefix):] if full.startswith(prefix) else os.fspath(path)
    return shown.replace(os.sep, "/")


def with_repo_settings(findings: Sequence[Finding], repo: Path) -> list[Finding]:
    """Apply the config repo's settings (disabled rules, severities, per-file disables) as
    `lint` does, so that a hook never fails on a rule the repo has turned off.

    Problems in the settings file itself are lint's to report, not every hook's.
    """
    if not ((repo / SETTINGS_FILE).is_file() or (repo / PYPROJECT).is_file()):
        return list(findings)  # the common case pays no import
    from repo_tools.lint import repo_prefix
    from repo_tools.settings import apply_settings, load_settings

    settings = load_settings(repo).settings
    return apply_settings(findings, settings, repo_prefix=repo_prefix(repo, Path.cwd()))
