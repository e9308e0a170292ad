"""`validate`: model files against the v2 schema, plus the value rules a schema cannot say.

Per-file work (`check_file`) is independent and can run in worker processes; the rules
that span files of one config version (`cross_file_findings`) run on small summaries.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import itertools
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from repo_tools import repo as repo_layout
from repo_tools import schemas
from repo_tools.checks import placeholders
from repo_tools.checks.fastschema import is_valid_v2
from repo_tools.checks.keys import key_findings
from repo_tools.checks.summaries import (
    STALE_LIMIT,
    KeyIndex,
    SummaryCache,
    read_summaries,
    stat_key,
)
from repo_tools.findings import Finding, finding, place, sort_findings
from repo_tools.jsonfile import JsonDocument, load_json_file, pointer_join
from repo_tools.model import EntrySummary, summaries_of
from repo_tools.rules import core
from repo_tools.urls import huggingface_resolve_url
from repo_tools.versions import explain_semver, is_semver, version_key

V1_KEYS = frozenset({"name", "download_url", "file_hash", "cache_path"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_DRIVE = re.compile(r"[A-Za-z]:")
_SPACE = re.compile(r"\s")
# A `\ud800`-style escape decodes to a lone surrogate: valid JSON text, but no UTF
# encoding can hold it, so clients cannot store or print it.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclasses.dataclass(slots=True)
class FileResult:
    findings: list[Finding]
    models: list[EntrySummary]
    stat_key: tuple[int, ...] | None = None  # the file as it was read (checks.summaries)


def is_v1_document(data: Any) -> bool:
    """Whether data is in the legacy v1 shape (single object, list, or models wrapper)."""
    if isinstance(data, dict) and "schema_version" not in data:
        if V1_KEYS & data.keys():
            return True
        models = data.get("models")
        return isinstance(models, list) and any(
            isinstance(m, dict) and V1_KEYS & m.keys() for m in models
        )
    return isinstance(data, list) and any(isinstance(m, dict) and V1_KEYS & m.keys()
                                          for m in data)


def check_file(path: Path, display: str,
               known_platforms: frozenset[str] | None = None) -> FileResult:
    key = stat_key(os.fspath(path))
    doc, findings = load_json_file(path, display)
    if doc is None:
        return FileResult(findings, [], key)
    found = check_document(doc)
    # A model file is published as it is: a key pasted into one must not be (R037).
    found += key_findings(doc.text, doc.path)
    if known_platforms is not None:
        from repo_tools.checks.platforms import unknown_platforms

        found += unknown_platforms(doc.path, doc.data, known_platforms)
    return FileResult(doc.locate(findings + found), collect_models(doc), key)


def check_document(doc: JsonDocument) -> list[Finding]:
    data, path = doc.data, doc.path
    if is_v1_document(data):
        return [finding(core.V1_FORMAT, path,
                        "file is in the legacy v1 format; run `repo-tools migrate "
                        f"{path}` to convert it to v2")]
    if not isinstance(data, dict):
        return [finding(core.WRONG_TYPE, path,
                        f"top level is {_json_type(data)}; expected an object with "
                        "`schema_version` and `models`")]
    version = data.get("schema_version")
    if isinstance(version, str) and not re.fullmatch(r"2\.(0|[1-9][0-9]*)", version):
        return [finding(core.UNSUPPORTED_VERSION, path,
                        f"schema_version {version!r} is not supported; this tool reads 2.x",
                        "/schema_version")]
    # Value rules first: their messages are more specific than the schema's, and
    # sort_findings keeps the first finding per (path, rule, pointer).
    found = value_findings(path, data)
    if not is_valid_v2(data):
        found.extend(schema_findings(path, data))
    return first_per_place(found)


def first_per_place(findings: list[Finding]) -> list[Finding]:
    """Keep the first finding of each rule at each pointer (the most specific comes first)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for f in findings:
        if (f.rule, f.pointer) not in seen:
            seen.add((f.rule, f.pointer))
            kept.append(f)
    return kept


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# -- schema errors -> findings -----------------------------------------------------------

_TYPE_NAMES = {"object": "an object", "array": "an array", "string": "a string",
               "integer": "an integer", "number": "a number", "boolean": "a boolean",
               "null": "null"}


def schema_findings(path: str, data: Any, schema: str = schemas.MODEL_CONFIG) -> list[Finding]:
    found: list[Finding] = []
    for error in schemas.validator(schema).iter_errors(data):
        pointer = pointer_join("", *error.absolute_path)
        found.extend(_error_findings(path, pointer, error))
    return found


def _error_findings(path: str, pointer: str, error: Any) -> Iterable[Finding]:
    keyword = error.validator
    if keyword == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        where = pointer or "top level"
        yield finding(core.MISSING_FIELD, path, f"{where}: required field {missing!r} is missing",
                      pointer)
    elif keyword == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
            yield finding(core.UNKNOWN_KEY, path, f"unknown key {key!r}{hint}",
                          pointer_join(pointer, key))
    elif keyword == "type":
        wanted = error.validator_value
        wanted_list = wanted if isinstance(wanted, list) else [wanted]
        names = [_TYPE_NAMES.get(str(t), str(t)) for t in wanted_list]
        yield finding(core.WRONG_TYPE, path,
                      f"{pointer or 'top level'} is {_json_type(error.instance)}; "
                      f"expected {' or '.join(names)}", pointer)
    elif keyword == "oneOf" and isinstance(error.instance, str):
        yield finding(core.BAD_SEMVER, path, explain_semver(error.instance), pointer)
    elif keyword == "oneOf":
        yield finding(core.WRONG_TYPE, path,
                      f"{pointer} is {_json_type(error.instance)}; expected a version string "
                      "or null", pointer)
    else:
        rule = core.SCHEMA_VIOLATION
        code = error.schema.get("x-rule") if isinstance(error.schema, dict) else None
        if code:
            from repo_tools.rules import rule as lookup

            rule = lookup(code)
        yield finding(rule, path, f"{pointer or 'top level'}: {error.message}", pointer)


# -- value rules ------------------------------------------------------------------------


def value_findings(path: str, data: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    models = data.get("models")
    if not isinstance(models, list):
        return found
    stem = _normalise_name(Path(path).stem)
    for index, model in enumerate(models):
        if not isinstance(model, dict):
            continue
        base = f"/models/{index}"
        for key in ("model", "provider"):
            found.extend(_check_name(path, f"{base}/{key}", model.get(key)))
        found.extend(_check_semver(path, f"{base}/version", model.get("version")))
        download = model.get("download")
        if isinstance(download, dict):
            found.extend(_check_url(path, f"{base}/download/url", download.get("url")))
            found.extend(_check_sha256(path, f"{base}/download/sha256", download.get("sha256")))
            found.extend(_check_placeholders(path, base, download))
            found.extend(_check_cache_path(path, f"{base}/download/cachePath",
                                           download.get("cachePath")))
        compat = model.get("compatibility")
        if isinstance(compat, dict):
            found.extend(check_client_range(path, f"{base}/compatibility", compat))
        provider = model.get("provider")
        if isinstance(provider, str) and provider and _normalise_name(provider) != stem:
            found.append(finding(core.FILENAME_PROVIDER, path,
                                 f"provider {provider!r} does not match the file name "
                                 f"{Path(path).name!r}", f"{base}/provider"))
    return found


def _normalise_name(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", name).casefold() if c.isalnum())


def _check_name(path: str, pointer: str, value: Any) -> list[Finding]:
    if not isinstance(value, str):
        return []
    if not value.strip():
        return [finding(core.BAD_NAME, path, f"{pointer} is empty", pointer)]
    match = _CONTROL.search(value)
    if match:
        return [finding(core.BAD_NAME, path,
                        f"{pointer} contains control character U+{ord(match.group()):04X}",
                        pointer)]
    match = _SURROGATE.search(value)
    if match:
        return [finding(core.BAD_NAME, path,
                        f"{pointer} contains a lone surrogate U+{ord(match.group()):04X}, "
                        "which is not a character; fix the \\u escape", pointer)]
    return []


def _check_semver(path: str, pointer: str, value: Any) -> list[Finding]:
    if isinstance(value, str) and not is_semver(value):
        return [finding(core.BAD_SEMVER, path, explain_semver(value), pointer)]
    return []


def check_client_range(path: str, pointer: str, compat: dict[str, Any]) -> list[Finding]:
    """Semver bounds and min <= max for an object with min/max_client_version."""
    found: list[Finding] = []
    low, high = compat.get("min_client_version"), compat.get("max_client_version")
    for key, value in (("min_client_version", low), ("max_client_version", high)):
        found.extend(_check_semver(path, f"{pointer}/{key}", value))
    if is_semver(low) and is_semver(high) and version_key(low) > version_key(high):
        found.append(finding(core.MIN_ABOVE_MAX, path,
                             f"min_client_version {low} is above max_client_version {high}: "
                             "no client can use this", f"{pointer}/min_client_version"))
    return found


def _check_url(path: str, pointer: str, value: Any) -> list[Finding]:
    if not isinstance(value, str) or not value:
        return []
    if value != value.strip() and value.strip():
        return [finding(core.BAD_URL, path, "URL has whitespace before or after it; remove it",
                        pointer)]
    if _SPACE.search(value):
        return [finding(core.BAD_URL, path, "URL contains whitespace; percent-encode it (%20)",
                        pointer)]
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        return [finding(core.BAD_URL, path, f"URL cannot be parsed: {exc}", pointer)]
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        shown = f"scheme {scheme!r}" if scheme else "no scheme"
        return [finding(core.BAD_URL, path,
                        f"URL has {shown}; download URLs must be absolute https:// URLs",
                        pointer)]
    if not host:
        return [finding(core.BAD_URL, path, "URL has no host", pointer)]
    if huggingface_resolve_url(value) is not None:
        return [finding(core.HF_BLOB_URL, path,
                        "URL is a Hugging Face /blob/ page (HTML), not the file; use /resolve/ "
                        "instead of /blob/", pointer)]
    if scheme == "http":
        return [finding(core.INSECURE_URL, path,
                        "URL uses plain http; use https so the download cannot be altered",
                        pointer)]
    return []


def _check_placeholders(path: str, base: str, download: dict[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    for key, which in (("url", placeholders.placeholder_url),
                       ("sha256", placeholders.placeholder_sha256)):
        value = download.get(key)
        what = which(value) if isinstance(value, str) else None
        if what is not None:
            fix = ("`repo-tools probe --hash --write` computes the real one" if key == "sha256"
                   else "put the real file's URL in")
            found.append(finding(core.PLACEHOLDER_VALUE, path,
                                 f"{key} is {what}, a placeholder: a release would publish a "
                                 f"model no client can download and verify; {fix}, or delete "
                                 "the example model", f"{base}/download/{key}"))
    return found


def _check_sha256(path: str, pointer: str, value: Any) -> list[Finding]:
    if not isinstance(value, str) or re.fullmatch(r"[0-9a-f]{64}", value):
        return []
    if not value:
        msg = "sha256 is empty; fill it in (`repo-tools probe --hash --write` computes it)"
    elif _HEX64.fullmatch(value):
        msg = "sha256 is in upper case; write it in lower case"
    elif value.lower().startswith("sha256:"):
        msg = "sha256 has a 'sha256:' prefix; write only the 64 hex digits"
    elif re.fullmatch(r"[0-9a-fA-F]+", value):
        msg = f"sha256 has {len(value)} hex digits; a SHA-256 digest has 64"
        if len(value) == 32:
            msg += " (this looks like an MD5)"
    else:
        msg = "sha256 is not hexadecimal; expected 64 lowercase hex digits"
    return [finding(core.BAD_SHA256, path, msg, pointer)]


def cache_path_problem(value: str) -> str | None:
    """Why a cachePath could escape the cache root, or None when it is safe."""
    if "\\" in value:
        return "contains a backslash; use '/' as the separator"
    if value.startswith("/"):
        return "is absolute; make it relative to the cache directory"
    if _DRIVE.match(value):
        return "starts with a drive letter; make it relative to the cache directory"
    if _CONTROL.search(value):
        return "contains a control character"
    if _SURROGATE.search(value):
        return "contains a lone surrogate, which no file name can hold"
    segments = value.split("/")
    if ".." in segments:
        return "contains '..', which could leave the cache directory"
    if value.endswith("/") or "" in segments:
        return "has an empty path segment or ends with '/'; it must name a file"
    return None


def _check_cache_path(path: str, pointer: str, value: Any) -> list[Finding]:
    if not isinstance(value, str) or not value:
        return []
    problem = cache_path_problem(value)
    if problem:
        return [finding(core.UNSAFE_CACHE_PATH, path, f"cachePath {value!r} {problem}", pointer)]
    return []


# -- rules across the files of one config version ------------------------------------------


def collect_models(doc: JsonDocument) -> list[EntrySummary]:
    """The entries the cross-file rules compare (v2 files only: a v1 file is S005's)."""
    if not isinstance(doc.data, dict) or "schema_version" not in doc.data:
        return []
    return summaries_of(doc.data, doc.path)


PlaceOf = Callable[[str, str], str]
"""(path, pointer) of the other entry of a conflict -> its place in a message."""


def places_in(docs: Mapping[str, JsonDocument]) -> PlaceOf:
    """A `PlaceOf` that gives `path:line:column` for pointers into the parsed `docs`."""
    def place_of(path: str, pointer: str) -> str:
        doc = docs.get(path)
        return place(path, *doc.positions.value_position(pointer)) if doc else path
    return place_of


def cross_file_findings(models: Sequence[EntrySummary], report_on: set[str],
                        place_of: PlaceOf) -> list[Finding]:
    """Identity and cachePath conflicts within one config version.

    A conflict is reported on the later of the two entries (file order, then position),
    and only when that entry's file is one of `report_on`; the message names the earlier
    entry by `place_of` (its line, so that a reader can jump there).
    """
    found: list[Finding] = []
    first_identity: dict[tuple[str, str, str], EntrySummary] = {}
    first_path: dict[str, EntrySummary] = {}
    for ref in models:
        earlier = first_identity.setdefault(ref.identity, ref)
        if earlier is not ref and ref.path in report_on:
            found.append(finding(core.DUPLICATE_MODEL, ref.path,
                                 f"{ref.provider}/{ref.model} {ref.version} is already defined "
                                 f"at {place_of(earlier.path, earlier.pointer)}", ref.pointer))
        cache_path = ref.cache_path
        if cache_path is None:
            continue
        earlier = first_path.setdefault(cache_path.casefold(), ref)
        if earlier is ref or ref.path not in report_on or earlier.sha256 == ref.sha256:
            continue
        same_case = earlier.cache_path == cache_path
        how = "the same cachePath" if same_case else (
            f"a cachePath that differs only in case ({earlier.cache_path!r})")
        found.append(finding(core.CACHE_PATH_CONFLICT, ref.path,
                             f"{cache_path!r} has {how} as "
                             f"{place_of(earlier.path, earlier.pointer + '/download/cachePath')} "
                             "but different sha256: one download would overwrite the other",
                             f"{ref.pointer}/download/cachePath"))
    found.extend(_nested_cache_paths(first_path, report_on, place_of))
    return found


def _nested_cache_paths(by_path: Mapping[str, EntrySummary], report_on: set[str],
                        place_of: PlaceOf) -> list[Finding]:
    """A cachePath that is a directory of another one (`a` and `a/b.gguf`): one of the two
    files can never be written. `by_path`: the first entry of each case-folded cachePath.

    Each path is paired with its shortest parent, and the pair is reported on its later
    entry. Only pairs with an entry in `report_on` can be reported, so only paths of
    those entries, and paths below them, are looked at: the hook's call on one file
    does not walk every path of a large config version.
    """
    keys = sorted(by_path)
    candidates: set[str] = set()
    for key, ref in by_path.items():
        if ref.path in report_on:
            candidates.add(key)
            below = key + "/"
            at = bisect.bisect_left(keys, below)
            while at < len(keys) and keys[at].startswith(below):
                candidates.add(keys[at])
                at += 1
    found = []
    for key in sorted(candidates):
        ref = by_path[key]
        parts = key.split("/")
        for depth in range(1, len(parts)):
            parent = by_path.get("/".join(parts[:depth]))
            if parent is None:
                continue
            # Reported on the later entry (file order, then position), as the others are.
            earlier, later = sorted((parent, ref), key=lambda r: (r.path, r.pointer))
            if later.path in report_on:
                found.append(finding(
                    core.CACHE_PATH_CONFLICT, later.path,
                    f"cachePath {later.cache_path!r} and {earlier.cache_path!r} "
                    f"({place_of(earlier.path, earlier.pointer + '/download/cachePath')}) nest: "
                    "one path would have to be both a file and a directory",
                    f"{later.pointer}/download/cachePath"))
            break
    return found


# -- running over files --------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class ValidateResult:
    findings: list[Finding]
    files_checked: int


VersionHook = Callable[[str, Mapping[str, str], Sequence[EntrySummary]], None]
"""(models directory, shown path -> file, every entry summary of the directory): what a
caller that needs a config version's entries gets as validate goes through them."""


def validate_paths(paths: Sequence[str | Path], base: Path, *, jobs: int = 0,
                   known_platforms: frozenset[str] | None = None,
                   on_version: VersionHook | None = None,
                   whole_folders: bool = False) -> ValidateResult:
    """Validate the named model files; siblings in the same config version are read for
    the cross-file rules but only the named files are reported on.

    The named files get every check; an unnamed sibling only a summary (its entries'
    identities, cachePaths and digests; `checks.summaries`, cached between runs), so the
    pre-commit hook's call on one file costs that file plus a cheap pass over its
    config version, however large the repo is. `known_platforms` adds lint's L004 to the
    named files' checks (one read of each file for both). `on_version` is handed each
    models directory's summaries, so that lint's index rule reads no file again.
    `whole_folders`: the paths are every model file of their folders, as listed by
    `repo.model_file_names` (lint's call), so no folder is listed again for siblings.
    """
    named = _display_paths(paths, base)
    # Group the files by config version (its models directory), adding unnamed siblings.
    # A file outside the versions/<v>/models/ layout is a group of its own.
    groups: dict[str, dict[str, str]] = defaultdict(dict)
    for real, shown in named.items():
        folder = os.path.dirname(real)
        groups[folder if repo_layout.is_models_dir(folder) else real][real] = shown
    options = "" if known_platforms is None else repr(sorted(known_platforms))
    clean: set[str] = set()  # named files that a cached clean verdict still vouches for
    # The hook's call touches one or two config versions: their caches are kept for the
    # pass below rather than read twice; a whole repo's are read again, one at a time.
    kept: dict[str, SummaryCache] = {}
    # A directory where only a few files are named is answered from its key index when
    # it has one: the siblings are vouched for by their stats, and only the files that
    # share a key with the named ones are read (see checks.summaries).
    indexes: dict[str, tuple[KeyIndex, set[str]]] = {}
    for group, members in groups.items():
        if group in named:
            continue  # outside versions/<v>/models/: a group of its own, nothing to cache
        if whole_folders:
            pass  # listing each folder again would add no file (18 ms at 10,000 files)
        elif on_version is None and len(members) <= INDEXED_NAMED:
            # Its siblings are not even listed as paths unless the index cannot answer.
            present = repo_layout.model_names_in(group)
            index = KeyIndex.load(Path(group), len(present))
            if index is not None:
                indexes[group] = (index, present)
                continue
            _add_siblings(group, members, base, present)
        else:
            _add_siblings(group, members, base)
        cache = SummaryCache(Path(group), len(members), options)
        if len(groups) <= KEEP_CACHES:
            kept[group] = cache
        clean.update(real for real in members if real in named and cache.is_clean(real))
    # Checked in the order the groups are gone through below, and taken one group at a
    # time as the workers deliver: memory follows a config version, not the repo (the
    # list of files to check is a generator too, and each group is sorted when reached).
    results = _run_check_file(((real, shown, known_platforms)
                               for members in groups.values() for real, shown in _in_order(members)
                               if real in named and real not in clean),
                              len(named) - len(clean), jobs)

    findings: list[Finding] = []
    for group, members in groups.items():
        files = _in_order(members)
        report_on = {shown for real, shown in files if real in named}
        version_models: list[EntrySummary] = []
        indexed = indexes.get(group)
        if indexed is not None:
            checked = [next(results) for _ in files]  # only the named files, so far
            for result in checked:
                findings.extend(result.findings)
            answer = _from_key_index(*indexed, group, _shown_prefix(group, base, members), files,
                                     checked)
            if answer is not None:
                version_models, shown_to_real = answer
                docs = _ReparsedFiles(shown_to_real)
                findings.extend(_locate_cross(
                    cross_file_findings(version_models, report_on, places_in(docs)), docs))
                continue
            # The index could not answer: the summaries of every sibling, as below.
            results = itertools.chain(checked, results)
            _add_siblings(group, members, base, indexed[1])
            files = _in_order(members)
        summaries = None if group in named else kept.pop(group, None) or SummaryCache(
            Path(group), len(files), options)
        for real, shown in files:
            if real in named and real not in clean:
                result = next(results)
                findings.extend(result.findings)
                version_models.extend(result.models)
                if summaries is not None:
                    # What this run learnt spares the next hook call (and check-index).
                    summaries.record(real, result.stat_key, result.models,
                                     not result.findings)
            elif summaries is not None:
                models = summaries.clean_models(real, shown) if real in clean else None
                version_models.extend(models if models is not None
                                      else summaries.models(real, shown))
        if summaries is not None:
            summaries.save({os.path.basename(p) for p, _ in files})
        shown_to_real = {shown: p for p, shown in files}
        if on_version is not None and group not in named:
            on_version(group, shown_to_real, version_models)
        docs = _ReparsedFiles(shown_to_real)
        cross = cross_file_findings(version_models, report_on, places_in(docs))
        findings.extend(_locate_cross(cross, docs))
    return ValidateResult(sort_findings(findings), len(named))


# Up to this many named files in one directory, its key index is used.
INDEXED_NAMED = 8


def _from_key_index(index: KeyIndex, present: set[str], models_dir: str, prefix: str,
                    named_files: list[tuple[str, str]], checked: list[FileResult]
                    ) -> tuple[list[EntrySummary], dict[str, str]] | None:
    """The entries the cross-file rules need for the named files of one directory: theirs
    (just checked), every changed or new sibling's (read afresh), and those of the files
    the index names as holding the earliest entry of a key the named files use. In file
    order, as the full list would be, with the files they come from (shown -> path);
    None when the index cannot answer exactly."""
    fresh: dict[str, list[EntrySummary]] = {}
    files: dict[str, str] = {}
    excluded: set[str] = set()
    for (real, shown), result in zip(named_files, checked, strict=True):
        fresh[shown], files[shown] = list(result.models), real
        excluded.add(os.path.basename(real))
    stale = index.changed(models_dir, present) - excluded
    if len(stale) > STALE_LIMIT:
        return None
    named_models = [m for result in checked for m in result.models]
    holders = index.holders(named_models, excluded | stale | index.deleted(present))
    if holders is None:
        return None
    for name in stale | holders:
        real, shown = os.path.join(models_dir, name), prefix + name
        fresh[shown], files[shown] = read_summaries(real, shown), real
    return [m for shown in sorted(fresh) for m in fresh[shown]], files


def _display_paths(paths: Sequence[str | Path], base: Path) -> dict[str, str]:
    """Absolute path -> display path, for every path: one abspath each, the display path
    cut from it (a whole repo's worth of files are named by lint)."""
    root = os.path.abspath(base).rstrip(os.sep) + os.sep
    named = {}
    for path in paths:
        real = os.path.abspath(path)
        if real == path:
            real = path  # the caller's own string, not a copy (a 100,000-file repo's worth)
        named[real] = (real[len(root):].replace(os.sep, "/") if real.startswith(root)
                       else repo_layout.display_path(path, base))
    return named


def _shown_prefix(models_dir: str, base: Path, members: Mapping[str, str]) -> str:
    """How the siblings of the named `members` are shown: in the folder the named files
    are shown in (`../repo/versions/...` as the user wrote it, not an absolute path that
    would sort before them and turn which entry is the earlier one around)."""
    for shown in members.values():
        return shown.rpartition("/")[0] + "/" if "/" in shown else ""
    shown_dir = repo_layout.display_path(Path(models_dir), base)
    return "" if shown_dir == "." else shown_dir.rstrip("/") + "/"


def _add_siblings(models_dir: str, members: dict[str, str], base: Path,
                  names: set[str] | None = None) -> None:
    """Every *.json of models_dir (`names`, when already listed) into members (absolute
    path -> display path), with the display paths derived from the directory's once (not
    one path computation per file)."""
    prefix = _shown_prefix(models_dir, base, members)
    listed = repo_layout.model_names_in(models_dir) if names is None else names
    for name in sorted(listed):
        members.setdefault(os.path.join(models_dir, name), prefix + name)


class _ReparsedFiles(Mapping[str, JsonDocument]):
    """The files of one config version, parsed again on first use: positions are needed
    only for the rare conflicts, so the per-file workers do not send them back."""

    def __init__(self, files: dict[str, str]) -> None:
        self._files = files
        self._docs: dict[str, JsonDocument | None] = {}

    def __getitem__(self, shown: str) -> JsonDocument:
        if shown not in self._docs:
            self._docs[shown] = load_json_file(Path(self._files[shown]), shown)[0]
        doc = self._docs[shown]
        if doc is None:
            raise KeyError(shown)
        return doc

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def _locate_cross(findings: list[Finding], docs: Mapping[str, JsonDocument]) -> list[Finding]:
    located: list[Finding] = []
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_path[f.path].append(f)
    for shown, group in by_path.items():
        doc = docs.get(shown)
        located.extend(doc.locate(group) if doc else group)
    return located


KEEP_CACHES = 8
# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400


def _in_order(members: dict[str, str]) -> list[tuple[str, str]]:
    """A group's files (path, shown) in the order they are checked and reported: by shown
    path."""
    return sorted(members.items(), key=lambda item: item[1])


def _run_check_file(items: Iterable[tuple[str, str, frozenset[str] | None]], count: int,
                    jobs: int) -> Iterator[FileResult]:
    """The results in the order of items (`count` of them), as they come (a generator:
    the caller consumes them one config version at a time)."""
    workers = jobs or min(os.cpu_count() or 1, 8)
    if workers <= 1 or count < PARALLEL_THRESHOLD:
        yield from (_check_file_item(item) for item in items)
        return
    from concurrent.futures import ProcessPoolExecutor

    from repo_tools.checks.workers import context as workers_context

    # Executor.map submits everything at once and keeps each result until it is taken;
    # windows keep that bounded whatever the repo's size.
    window = 4096
    chunk = max(1, min(count, window) // (workers * 8))
    pending = iter(items)
    with ProcessPoolExecutor(max_workers=workers, mp_context=workers_context()) as pool:
        while batch := list(itertools.islice(pending, window)):
            yield from pool.map(_check_file_item, batch, chunksize=chunk)


def _check_file_item(item: tuple[str, str, frozenset[str] | None]) -> FileResult:
    return check_file(Path(item[0]), item[1], item[2])
