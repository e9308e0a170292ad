"""Lint settings: `.repo-tools.toml`, or `[tool.repo-tools]` in `pyproject.toml`.

Settings are data about the config repo (which rules it does not want, which platforms
exist), so they live at its root and travel with it: the hook, the action and a
maintainer's terminal all read the same file. A broken settings file is reported as
findings (rules L001-L003) and lint goes on with the defaults, so one typo never hides
every other problem.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from repo_tools.findings import Finding, Rule, Severity, finding
from repo_tools.probe_options import (  # `[probe]` keys: probe's options, declared there
    MAX_PROBE_JOBS,
    PROBE_SETTINGS,
    Kind,
)
from repo_tools.repo import PYPROJECT, SETTINGS_FILE  # the file names, beside index.json
from repo_tools.rules import lint as rules

TOOL_TABLE = "repo-tools"

# The checks lint can run; `probe` needs the network and is never on by default.
OFFLINE_CHECKS = ("validate", "index", "migrate")
CHECKS = (*OFFLINE_CHECKS, "probe")

def split_checks(text: str) -> tuple[str, ...] | None:
    """`validate,index` (commas or spaces) -> ('validate', 'index'); blank -> None.

    Raises ValueError naming the unknown checks.
    """
    names = tuple(n for n in re.split(r"[\s,]+", text.strip()) if n)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check {', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(CHECKS)}")
    return names or None


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """What a config repo asks of lint. The defaults are what an empty file means."""

    checks: tuple[str, ...] = OFFLINE_CHECKS
    disable: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = dataclasses.field(default_factory=dict)
    per_file_disable: tuple[tuple[str, frozenset[str]], ...] = ()
    known_platforms: frozenset[str] | None = None
    probe: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    source: str | None = None  # display path of the file they came from


@dataclasses.dataclass(frozen=True, slots=True)
class LoadedSettings:
    settings: Settings
    findings: list[Finding]


# -- finding the file -----------------------------------------------------------------------


def load_settings(repo: Path, *, base: Path | None = None,
                  config: Path | None = None) -> LoadedSettings:
    """Read the settings of the config repo at `repo` (or the explicit `config` file).

    Paths in findings are shown relative to `base` (default: the current directory).
    """
    shown_from = base if base is not None else Path.cwd()
    if config is not None:
        return _load_file(config, _display(config, shown_from),
                          in_pyproject=config.name == PYPROJECT)
    dedicated, pyproject = repo / SETTINGS_FILE, repo / PYPROJECT
    if dedicated.is_file():
        loaded = _load_file(dedicated, _display(dedicated, shown_from), in_pyproject=False)
        if pyproject.is_file() and _has_tool_table(pyproject):
            shown = _display(pyproject, shown_from)
            loaded.findings.append(_on_line(
                rules.SHADOWED_SETTINGS, shown,
                f"[tool.{TOOL_TABLE}] is ignored because {SETTINGS_FILE} exists; keep the "
                "settings in one place",
                _table_line(_read_text(pyproject) or "", f"tool.{TOOL_TABLE}")))
        return loaded
    if pyproject.is_file():
        return _load_file(pyproject, _display(pyproject, shown_from), in_pyproject=True)
    return LoadedSettings(Settings(), [])


def _display(path: Path, base: Path) -> str:
    from repo_tools.repo import display_path

    return display_path(path, base)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _has_tool_table(pyproject: Path) -> bool:
    text = _read_text(pyproject)
    if text is None:
        return False
    import tomllib

    try:
        return TOOL_TABLE in tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError:
        return False


def _load_file(path: Path, shown: str, *, in_pyproject: bool) -> LoadedSettings:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return LoadedSettings(Settings(), [finding(rules.INVALID_SETTINGS_FILE, shown,
                                                   f"cannot read: {exc.strerror}")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LoadedSettings(Settings(), [finding(
            rules.INVALID_SETTINGS_FILE, shown,
            f"is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8")])
    import tomllib  # only when a settings file exists: keeps it off the hooks' start-up

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, column = _toml_error_position(str(exc), text)
        return LoadedSettings(Settings(), [finding(
            rules.INVALID_SETTINGS_FILE, shown,
            f"is not valid TOML: {_strip_position(str(exc))}; lint runs with default settings",
            line=line, column=column)])
    if in_pyproject:
        tool = document.get("tool", {})
        table = tool.get(TOOL_TABLE) if isinstance(tool, dict) else None
        if table is None:
            return LoadedSettings(Settings(), [])
        if not isinstance(table, dict):
            return LoadedSettings(Settings(), [_on_line(
                rules.BAD_SETTING, shown, f"tool.{TOOL_TABLE} must be a table",
                _key_line(text, TOOL_TABLE))])
        return parse_settings(table, shown, text, prefix=f"tool.{TOOL_TABLE}.")
    return parse_settings(document, shown, text)


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_TOML_AT_END = "(at end of document)"


def _toml_error_position(message: str, text: str) -> tuple[int, int]:
    match = _TOML_POSITION.search(message)
    if match:
        return int(match.group(1)), int(match.group(2))
    if _TOML_AT_END in message:
        return text.count("\n") + 1, len(text) - (text.rfind("\n") + 1) + 1
    return 0, 0


def _strip_position(message: str) -> str:
    return _TOML_POSITION.sub("", message).replace(_TOML_AT_END, "at the end").strip()


# -- reading the table ----------------------------------------------------------------------


KEYS = ("checks", "disable", "severity", "per-file-disable", "known-platforms", "probe")


def parse_settings(table: Mapping[str, Any], shown: str, text: str = "", *,
                   prefix: str = "") -> LoadedSettings:
    """Settings from a parsed TOML table; every problem becomes a finding, never an error.

    `text` is the file's source, used only to point findings at a line; `prefix` is how
    keys are shown (`tool.repo-tools.` inside pyproject.toml).
    """
    reader = _Reader(shown, text, prefix)
    for key in table:
        if key not in KEYS:
            reader.unknown(key, KEYS)
    checks = reader.checks(table.get("checks"))
    disable = reader.codes("disable", table.get("disable"))
    severity = reader.severities(table.get("severity"))
    per_file = reader.per_file(table.get("per-file-disable"))
    platforms = reader.platforms(table.get("known-platforms"))
    probe = reader.probe(table.get("probe"))
    settings = Settings(
        checks=checks, disable=disable, severity=severity, per_file_disable=per_file,
        known_platforms=platforms, probe=probe, source=shown)
    return LoadedSettings(settings, reader.findings)


class _Reader:
    """Checks one settings table, collecting findings as it goes."""

    def __init__(self, shown: str, text: str, prefix: str) -> None:
        self.shown, self.text, self.prefix = shown, text, prefix
        self.findings: list[Finding] = []

    def _bad(self, key: str, message: str) -> None:
        self.findings.append(_on_line(rules.BAD_SETTING, self.shown,
                                      f"{self.prefix}{key}: {message}",
                                      _dotted_key_line(self.text, key)))

    def unknown(self, key: str, allowed: Sequence[str], *, parent: str = "") -> None:
        close = _close_match(key, allowed)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(allowed)}"
        self.findings.append(_on_line(rules.UNKNOWN_SETTING, self.shown,
                                      f"unknown setting {self.prefix + parent + key!r}{hint}",
                                      _key_line(self.text, key)))

    def _strings(self, key: str, value: Any) -> list[str] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._bad(key, f"must be a list of strings, not {_toml_type(value)}")
            return None
        return value

    def checks(self, value: Any) -> tuple[str, ...]:
        names = self._strings("checks", value)
        if names is None:
            return OFFLINE_CHECKS
        for name in names:
            if name not in CHECKS:
                self._bad("checks", f"unknown check {name!r}; choose from {', '.join(CHECKS)}")
        return tuple(c for c in CHECKS if c in names)

    def codes(self, key: str, value: Any) -> frozenset[str]:
        names = self._strings(key, value)
        if names is None:
            return frozenset()
        codes = set()
        for name in names:
            code = resolve_rule(name)
            if code is None:
                self._bad(key, unknown_rule_message(name))
            else:
                codes.add(code)
        return frozenset(codes)

    def severities(self, value: Any) -> dict[str, Severity]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._bad("severity", f"must be a table of RULE = \"error\" | \"warning\", "
                                  f"not {_toml_type(value)}")
            return {}
        result = {}
        for name, level in value.items():
            code = resolve_rule(name)
            if code is None:
                self._bad(f"severity.{name}", unknown_rule_message(name))
            elif level not in (Severity.ERROR.value, Severity.WARNING.value):
                self._bad(f"severity.{name}",
                          f"severity must be \"error\" or \"warning\", not {level!r} "
                          "(use `disable` to turn a rule off)")
            else:
                result[code] = Severity(level)
        return result

    def per_file(self, value: Any) -> tuple[tuple[str, frozenset[str]], ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            self._bad("per-file-disable", f"must be a table of \"GLOB\" = [RULE, ...], "
                                          f"not {_toml_type(value)}")
            return ()
        return tuple((glob, self.codes(f"per-file-disable.{glob}", codes))
                     for glob, codes in value.items())

    def platforms(self, value: Any) -> frozenset[str] | None:
        names = self._strings("known-platforms", value)
        if names is None:
            return None
        if any(not name.strip() for name in names):
            self._bad("known-platforms", "platform names must not be empty")
        return frozenset(names)

    def probe(self, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._bad("probe", f"must be a table, not {_toml_type(value)}")
            return {}
        options: dict[str, Any] = {}
        for key, option in value.items():
            if key not in PROBE_SETTINGS:
                self.unknown(key, tuple(PROBE_SETTINGS), parent="probe.")
                continue
            problem = probe_option_problem(PROBE_SETTINGS[key].kind, option)
            if problem:
                self._bad(f"probe.{key}", f"{problem}, not {option!r}")
            else:
                options[key] = option
        return options


def probe_option_problem(kind: Kind, value: Any) -> str | None:
    """What is wrong with a `[probe]` value of this kind (`repo_tools.probe_options`), or None."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "hash":
        ok = value is False or value in ("auto", "full")
        return None if ok else 'must be false, "auto" or "full"'
    if kind == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if kind in ("directory", "file"):  # whether it exists is probe's to say, when it runs
        return None if isinstance(value, str) and value else "must be a non-empty string"
    if kind in ("byte-size", "count", "jobs"):
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be an integer"
        if kind == "jobs" and not 1 <= value <= MAX_PROBE_JOBS:
            return f"must be from 1 to {MAX_PROBE_JOBS}"
        if kind == "byte-size" and value < 1:
            return "must be at least 1"
        return "must not be negative" if value < 0 else None
    if not number:
        return "must be a number"
    if not math.isfinite(value):  # TOML allows nan and inf; no timeout or cap means them
        return "must be a finite number"
    if kind == "positive-number" and value <= 0:
        return "must be above 0"
    return "must not be negative" if value < 0 else None


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _on_line(rule: Rule, path: str, message: str, line: int) -> Finding:
    """A finding about a whole line (column 1); line 0 when it cannot be told."""
    return finding(rule, path, message, line=line, column=1 if line else 0)


def _key_line(text: str, key: str) -> int:
    """The first line that assigns `key` (bare or quoted), or 0: a hint, not a parser."""
    pattern = re.compile(rf"^[ \t]*(?:\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})"
                         r"\s*[=.]", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def _dotted_key_line(text: str, dotted: str) -> int:
    """The line of `a.b.c`: of `c = ...` if it starts a line, else of `a.b`, else of `a`."""
    parts = dotted.split(".")
    for depth in range(len(parts), 0, -1):
        line = _key_line(text, parts[depth - 1]) or _table_line(text, ".".join(parts[:depth]))
        if line:
            return line
    return 0


def _table_line(text: str, table: str) -> int:
    match = re.search(rf"^[ \t]*\[{re.escape(table)}[\].]", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def _close_match(word: str, choices: Iterable[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)


def resolve_rule(name: str) -> str | None:
    """A rule code from its code (any case) or its name; None if there is no such rule."""
    from repo_tools.rules import ALL_RULES

    if name.upper() in ALL_RULES:
        return name.upper()
    for rule in ALL_RULES.values():
        if rule.name == name:
            return rule.code
    return None


def unknown_rule_message(name: str) -> str:
    from repo_tools.rules import ALL_RULES

    known = [*ALL_RULES, *(r.name for r in ALL_RULES.values())]
    close = _close_match(name, known)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"no rule {name!r}{hint}"


# -- applying settings to findings ----------------------------------------------------------


def apply_settings(findings: Iterable[Finding], settings: Settings, *,
                   repo_prefix: str = "") -> list[Finding]:
    """Drop disabled findings and apply severity overrides.

    `repo_prefix` is the config repo's root as findings show it (e.g. `configs/`), so that
    `per-file-disable` globs are written relative to the config repo.
    """
    kept = []
    for f in findings:
        if f.rule in settings.disable or _disabled_for_file(f, settings, repo_prefix):
            continue
        level = settings.severity.get(f.rule)
        if level is not None and level is not f.severity:
            f = dataclasses.replace(f, severity=level)
        kept.append(f)
    return kept


def _disabled_for_file(f: Finding, settings: Settings, repo_prefix: str) -> bool:
    if not settings.per_file_disable:
        return False
    path = f.path
    if repo_prefix and path.startswith(repo_prefix):
        path = path[len(repo_prefix):]
    path = PurePosixPath(path).as_posix()
    return any(f.rule in codes and fnmatch.fnmatchcase(path, glob)
               for glob, codes in settings.per_file_disable)
