"""v1 -> v2 migration: a pure conversion, and the safe in-place rewrite of model files.

The mapping is the design doc's ("Backward Compatibility"), plus the decisions it leaves
open, made so that nothing is ever lost silently:

- `name` -> `model`, `download_url` -> `download.url`, `file_hash` -> `download.sha256`,
  `cache_path` -> `download.cachePath`; `provider`, `version`, `compatibility` and
  `metadata` are carried as they are; `ranking` defaults to 0 (placed after `version`);
  the file becomes `{"schema_version": "2.0", "models": [...]}`.
- `file_hash` is lower-cased when it is hexadecimal, and a `sha256:` prefix is removed:
  both are lossless (the field name already says the algorithm).
- A key of a v1 entry that the mapping does not know goes to `metadata.v1_extra`, keeping
  its name and value. If `metadata` is not an object, or already has `v1_extra`, the file
  is refused (M004) rather than overwrite anything.
- v2 keys already present in a v1 entry (`model`, `ranking`, `download`, a half-done
  migration) are kept; when a v1 key maps onto one of them with a different value, the
  file is refused (M004).
- A field v2 requires that the v1 entry lacks (`version`, `provider`, `file_hash`, ...)
  is never invented: the file is refused (M002).
- With `without_hash`, an entry whose `file_hash` is missing or not a SHA-256 (an MD5,
  say) becomes an entry without `download.sha256` instead of a refusal: the hash it had
  is kept in `metadata.v1_extra.file_hash`, and M005 names the command that fills the
  digest in (`probe --hash --write`).
- The converted document must pass `validate`'s per-file checks (errors only; warnings
  such as plain http are left to `validate`); if it does not, the file is refused and
  each problem is reported at the v1 value it came from (M003).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from repo_tools import atomic, jsonformat
from repo_tools import repo as repo_layout
from repo_tools.checks.validate import V1_KEYS, check_document, is_v1_document
from repo_tools.findings import Finding, Rule, Severity, finding, sort_findings
from repo_tools.jsonfile import JsonDocument, load_json_file, pointer_join
from repo_tools.rules import core
from repo_tools.rules import migrate as rules

SCHEMA_VERSION = "2.0"
DEFAULT_RANKING = 0
EXTRA_KEY = "v1_extra"

# v1 key -> where its value goes in the v2 entry.
RENAMED: dict[str, tuple[str, ...]] = {
    "name": ("model",),
    "download_url": ("download", "url"),
    "file_hash": ("download", "sha256"),
    "cache_path": ("download", "cachePath"),
}
# Keys whose value is carried unchanged: v1's own, and v2's (from a half-done migration).
CARRIED = frozenset({"provider", "version", "compatibility", "metadata",
                     "model", "ranking", "download"})
# What v2 requires of an entry, and the v1 key a maintainer would add to provide it.
REQUIRED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("model",), "name"),
    (("provider",), "provider"),
    (("version",), "version"),
    (("download", "url"), "download_url"),
    (("download", "sha256"), "file_hash"),
)
_PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclasses.dataclass(slots=True)
class Conversion:
    """The v2 document (None when refused), why it was refused, and what was normalised."""

    document: dict[str, Any] | None
    problems: list[Finding]
    notes: list[str]
    without_sha256: list[str] = dataclasses.field(default_factory=list)  # v2 entry pointers


@dataclasses.dataclass(slots=True)
class _Builder:
    path: str
    without_hash: bool = False
    problems: list[Finding] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    without_sha256: list[str] = dataclasses.field(default_factory=list)
    # v2 pointer -> v1 pointer of the value it was made from, for reporting at the source.
    origin: dict[str, str] = dataclasses.field(default_factory=dict)

    def refuse(self, rule: Rule, message: str, pointer: str) -> None:
        self.problems.append(finding(rule, self.path, message, pointer))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def source_of(self, pointer: str) -> str:
        """The v1 pointer a v2 pointer came from (its nearest recorded ancestor's)."""
        tail = ""
        while pointer not in self.origin and pointer:
            pointer, last = pointer.rsplit("/", 1)
            tail = f"/{last}{tail}"
        return self.origin.get(pointer, "") + tail


def normalise_sha256(value: Any) -> Any:
    """`file_hash` as v2 wants it: no `sha256:` prefix, lower-case hex. Other values as is."""
    if not isinstance(value, str):
        return value
    if value[: len(_PREFIX)].lower() == _PREFIX:
        value = value[len(_PREFIX):]
    return value.lower() if _HEX.fullmatch(value) else value


def convert_v1(data: Any, path: str = "<v1>", *, without_hash: bool = False) -> Conversion:
    """Convert a v1 document (see `is_v1_document`) to v2. Pure: reads nothing, writes nothing.

    `path` only labels the findings; their pointers are into the v1 document. With
    `without_hash`, entries without a usable SHA-256 are converted without one.
    """
    build = _Builder(path, without_hash)
    if isinstance(data, list):
        sources = [(pointer_join("", i), entry) for i, entry in enumerate(data)]
    elif isinstance(data, dict) and isinstance(data.get("models"), list) and not (
            V1_KEYS & data.keys()):
        for key in data:
            if key != "models":
                build.refuse(rules.NO_PLACE,
                             f"top-level key {key!r} has no place in v2 (a v2 file holds only "
                             "`schema_version` and `models`); move it into a model's "
                             "`metadata` or remove it", pointer_join("", key))
        sources = [(pointer_join("", "models", i), e) for i, e in enumerate(data["models"])]
    else:
        sources = [("", data)]
    models = []
    for index, (source, entry) in enumerate(sources):
        target = pointer_join("", "models", index)
        build.origin[target] = source
        models.append(_convert_entry(entry, source, target, build) if isinstance(entry, dict)
                      else entry)
    document = {"schema_version": SCHEMA_VERSION, "models": models}
    _check_result(document, build)  # even when refused already: report everything at once
    if build.problems:
        return Conversion(None, build.problems, build.notes)
    return Conversion(document, [], build.notes, build.without_sha256)


def _convert_entry(entry: dict[str, Any], source: str, target: str,
                   build: _Builder) -> dict[str, Any]:
    slots: list[str] = []  # top-level keys of the result, in the order v1 first implies them
    extra: dict[str, Any] = {}
    set_aside = build.without_hash and not _usable_sha256(entry)
    if set_aside:
        build.without_sha256.append(target)
    for key in entry:
        if key == "file_hash" and set_aside:
            extra[key] = entry[key]  # kept, under metadata.v1_extra, not lost
            continue
        if key in RENAMED:
            slot = RENAMED[key][0]
        elif key in CARRIED:
            slot = key
        else:
            extra[key] = entry[key]
            continue
        if slot not in slots:
            slots.append(slot)
    if extra and "metadata" not in slots:
        slots.append("metadata")
    if "ranking" not in slots:
        anchor = "version" if "version" in slots else "download"
        at = slots.index(anchor) + (anchor == "version") if anchor in slots else len(slots)
        slots.insert(at, "ranking")

    result: dict[str, Any] = {}
    for slot in slots:
        here = pointer_join(target, slot)
        if slot == "ranking" and "ranking" not in entry:
            result[slot] = DEFAULT_RANKING
            build.origin[here] = source
        elif slot == "model":
            result[slot] = _merge_model_name(entry, source, build)
            build.origin[here] = pointer_join(source, "name" if "name" in entry else "model")
        elif slot == "download":
            result[slot] = _merge_download(entry, source, here, build,
                                           skip=("file_hash",) if set_aside else ())
        elif slot == "metadata":
            result[slot] = _merge_metadata(entry, extra, source, here, build)
        else:
            result[slot] = entry[slot]
            build.origin[here] = pointer_join(source, slot)
    _require(result, entry, source, build, skip_sha256=set_aside)
    return result


def _usable_sha256(entry: dict[str, Any]) -> bool:
    """Whether the entry's hash (v1 `file_hash` or a v2 `download.sha256`) is a SHA-256."""
    download = entry.get("download")
    value = entry.get("file_hash", download.get("sha256") if isinstance(download, dict)
                      else None)
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}",
                                                   normalise_sha256(value)) is not None


def _merge_model_name(entry: dict[str, Any], source: str, build: _Builder) -> Any:
    if "name" in entry and "model" in entry and entry["name"] != entry["model"]:
        build.refuse(rules.NO_PLACE,
                     f"both 'name' ({entry['name']!r}) and 'model' ({entry['model']!r}) are set "
                     "and differ; v2 keeps one `model`: remove the wrong one",
                     pointer_join(source, "name"))
    return entry["name"] if "name" in entry else entry["model"]


def _merge_download(entry: dict[str, Any], source: str, here: str, build: _Builder,
                    skip: tuple[str, ...] = ()) -> Any:
    v1_parts = [key for key in entry
                if key in RENAMED and RENAMED[key][0] == "download" and key not in skip]
    existing = entry.get("download", {})
    build.origin[here] = pointer_join(source, "download") if "download" in entry else source
    if not isinstance(existing, dict):
        if v1_parts:
            build.refuse(rules.NO_PLACE,
                         f"'download' is not an object, so {', '.join(map(repr, v1_parts))} "
                         "cannot be added to it; remove or fix 'download'",
                         pointer_join(source, "download"))
        return existing
    download = dict(existing)
    for key in v1_parts:
        part = RENAMED[key][1]
        value = entry[key]
        if key == "file_hash":
            value = normalise_sha256(value)
            if isinstance(entry[key], str) and value != entry[key]:
                build.note(_hash_note(entry[key]))
        if part in download and download[part] != value:
            build.refuse(rules.NO_PLACE,
                         f"{key!r} and 'download.{part}' are both set and differ; remove the "
                         "wrong one", pointer_join(source, key))
            continue
        download[part] = value
        build.origin[pointer_join(here, part)] = pointer_join(source, key)
    return download


def _hash_note(original: str) -> str:
    if original[: len(_PREFIX)].lower() == _PREFIX:
        return "removed the 'sha256:' prefix of file_hash"
    return "lower-cased file_hash"


def _merge_metadata(entry: dict[str, Any], extra: dict[str, Any], source: str, here: str,
                    build: _Builder) -> Any:
    metadata = entry.get("metadata", {})
    build.origin[here] = pointer_join(source, "metadata") if "metadata" in entry else source
    if not extra:
        return metadata
    names = ", ".join(map(repr, extra))
    if not isinstance(metadata, dict):
        build.refuse(rules.NO_PLACE,
                     f"keys {names} are not v2 fields and would go to metadata.{EXTRA_KEY}, but "
                     "'metadata' is not an object; make it an object",
                     pointer_join(source, "metadata"))
        return metadata
    if EXTRA_KEY in metadata:
        build.refuse(rules.NO_PLACE,
                     f"keys {names} are not v2 fields and would go to metadata.{EXTRA_KEY}, "
                     f"which already exists; move them into metadata by hand",
                     pointer_join(source, "metadata", EXTRA_KEY))
        return metadata
    for key in extra:
        build.origin[pointer_join(here, EXTRA_KEY, key)] = pointer_join(source, key)
    build.note(f"moved {names} to metadata.{EXTRA_KEY}")
    return {**metadata, EXTRA_KEY: dict(extra)}


def _require(result: dict[str, Any], entry: dict[str, Any], source: str,
             build: _Builder, *, skip_sha256: bool = False) -> None:
    for path, v1_key in REQUIRED:
        if skip_sha256 and path == ("download", "sha256"):
            continue
        container: Any = result
        for part in path[:-1]:
            # An absent parent (no `download` at all) misses everything below it.
            container = container.get(part, {}) if isinstance(container, dict) else None
        if not isinstance(container, dict) or path[-1] in container:
            continue  # present, or a parent of the wrong type (reported by the schema)
        needed = ".".join(path)
        hint = ""
        if v1_key == "provider":
            hint = f" (files are named <provider>.json; this one is {Path(build.path).name!r})"
        build.refuse(rules.MISSING_FIELD,
                     f"v1 entry has no {v1_key!r}, which v2 requires as `{needed}`; add it"
                     f"{hint}", source)


_COVERED = frozenset({core.MISSING_FIELD.code})
# A placeholder converts faithfully; the converted file is where validate reports it.
_LEFT_TO_VALIDATE = frozenset({core.PLACEHOLDER_VALUE.code})


def _check_result(document: dict[str, Any], build: _Builder) -> None:
    """Refuse unless the v2 document passes validate's per-file errors."""
    for problem in check_document(JsonDocument(build.path, "", document)):
        if (problem.severity is not Severity.ERROR or problem.rule in _COVERED
                or problem.rule in _LEFT_TO_VALIDATE):
            continue
        source = build.source_of(problem.pointer)
        build.refuse(rules.BAD_VALUE,
                     f"cannot convert {source or 'the top level'}: {problem.message} "
                     f"({problem.rule})", source)


# -- files -------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class FileMigration:
    """One file's outcome: findings, and the new text when it was (or would be) rewritten."""

    path: Path
    display: str
    findings: list[Finding]
    old_text: str = ""
    new_text: str | None = None
    parsed: bool = True  # False: not readable as JSON at all (validate says why too)

    @property
    def changed(self) -> bool:
        return self.new_text is not None

    def diff(self) -> str:
        if self.new_text is None:
            return ""
        return unified_diff(self.old_text, self.new_text, self.display)


def plan_file(path: Path, display: str, *, without_hash: bool = False) -> FileMigration:
    """Read one file and work out its v2 text; writes nothing."""
    doc, load_findings = load_json_file(path, display)
    if doc is None:
        return FileMigration(path, display, load_findings, parsed=False)
    if not is_v1_document(doc.data):
        return FileMigration(path, display, [])  # v2, or not a model file: validate's job
    # A repeated key's earlier value is not in the parsed data: converting would drop it.
    # (A byte-order mark is the one load finding the rewrite itself cures.)
    unsafe = [f for f in load_findings if f.rule != core.BOM.code]
    if unsafe:
        return FileMigration(path, display, unsafe, doc.text)
    conversion = convert_v1(doc.data, display, without_hash=without_hash)
    if conversion.document is None:
        return FileMigration(path, display, doc.locate(conversion.problems), doc.text)
    notes = list(conversion.notes)
    if doc.had_bom:
        notes.append("removed the byte-order mark")  # J002: v2 files must not have one
    new_text = jsonformat.dumps_like(conversion.document, doc.text)
    count = len(conversion.document["models"])
    done = f"{count} model{'s' if count != 1 else ''}"
    if notes:
        done += "; " + "; ".join(notes)
    converted = finding(rules.CONVERTED, display, done, "", line=1, column=1)
    located = JsonDocument(display, new_text, conversion.document).locate(
        [_without_sha256(display, conversion.document, pointer)
         for pointer in conversion.without_sha256])
    return FileMigration(path, display, [converted, *located], doc.text, new_text)


def fill_command(display: str) -> str:
    """The one next step for entries written without a digest."""
    return f"repo-tools probe --hash --write {display}"


def _without_sha256(display: str, document: dict[str, Any], pointer: str) -> Finding:
    entry = document["models"][int(pointer.rsplit("/", 1)[1])]
    old = entry.get("metadata", {}).get(EXTRA_KEY, {}).get("file_hash")
    if old is None:
        reason = "it has no file_hash"
    elif isinstance(old, str) and re.fullmatch(r"[0-9a-fA-F]{32}", old):
        reason = "its file_hash is an MD5"
    else:
        reason = "its file_hash is not a SHA-256"
    return finding(rules.WITHOUT_SHA256, display,
                   f"{entry.get('provider')}/{entry.get('model')} {entry.get('version')} was "
                   f"converted without sha256 ({reason}); run `{fill_command(display)}`",
                   f"{pointer}/download")


def unified_diff(old: str, new: str, display: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 f"a/{display}", f"b/{display}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


@dataclasses.dataclass(slots=True)
class MigrateResult:
    findings: list[Finding]
    files: list[FileMigration]

    @property
    def changed(self) -> list[FileMigration]:
        return [f for f in self.files if f.changed]


def migrate_paths(paths: Sequence[Path], base: Path, *, write: bool,
                  without_hash: bool = False) -> MigrateResult:
    """Plan every file; with write, rewrite the convertible ones atomically.

    A file is written only when its whole conversion succeeded and the result validates
    (but for the sha256 that `without_hash` lets entries lack).
    """
    outcomes = []
    for path in paths:
        outcome = plan_file(path, repo_layout.display_path(path, base),
                            without_hash=without_hash)
        if write and outcome.new_text is not None:
            # Through a symlink to its target: replacing the link would break it.
            atomic.write_atomic(path.resolve(), outcome.new_text.encode("utf-8"))
        outcomes.append(outcome)
    findings = [_tense(f, write) for o in outcomes for f in o.findings]
    return MigrateResult(sort_findings(findings), outcomes)


def _tense(f: Finding, written: bool) -> Finding:
    if f.rule == rules.WITHOUT_SHA256.code and not written:
        message = f.message.replace(" was converted ", " would be converted ", 1)
        return dataclasses.replace(f, message=message)
    if f.rule != rules.CONVERTED.code:
        return f
    if written:
        message = f"converted from v1 to v2 ({f.message}); review the change and stage it"
    else:
        message = (f"is in the v1 format; `repo-tools migrate` would convert it to v2 "
                   f"({f.message})")
    return dataclasses.replace(f, message=message)
