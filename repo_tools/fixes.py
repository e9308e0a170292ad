"""`lint --fix`: the fixes that are mechanical and lossless, and their safe rewrite.

`fixes_of` is pure: given a parsed v2 model file it lists each fix (rule, pointer, old
and new value); `apply_fixes` applies them to the data. A fix only ever changes the text
of one value (or adds the missing `schema_version`), and only when the new value is
certainly what was meant: an upper-case or `sha256:`-prefixed digest of 64 hex digits, a
`v` before an otherwise valid version, whitespace around a URL, a Hugging Face `/blob/`
page for its `/resolve/` file. Everything else is left for a person.

Files are rewritten token by token (`repo_tools.textedit`), so the layout stays byte for
byte; the result must parse to exactly `apply_fixes(data)` before it is written, atomically
and through a symlink to the file it names, as `migrate` and `probe --write` write.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from repo_tools import atomic, textedit
from repo_tools import repo as repo_layout
from repo_tools.checks.validate import is_v1_document
from repo_tools.findings import Finding, Rule, finding, sort_findings
from repo_tools.jsonfile import UTF8_BOM, JsonDocument, load_json_file, pointer_join
from repo_tools.migrate import SCHEMA_VERSION, unified_diff
from repo_tools.rules import core
from repo_tools.urls import huggingface_resolve_url
from repo_tools.versions import is_semver

_PREFIX = "sha256:"
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_LOWER64 = re.compile(r"[0-9a-f]{64}")
ABSENT = object()  # the old value of a key that was not there


@dataclasses.dataclass(frozen=True, slots=True)
class Fix:
    rule: Rule
    pointer: str
    old: Any
    new: Any
    what: str

    def as_finding(self, path: str) -> Finding:
        return finding(self.rule, path, self.what, self.pointer)


# -- pure -----------------------------------------------------------------------------------


def fixes_of(data: Any) -> list[Fix]:
    """Every mechanical fix of a parsed model file (none for v1 files: migrate's job)."""
    if not isinstance(data, dict) or is_v1_document(data):
        return []
    found: list[Fix] = []
    if "schema_version" not in data and isinstance(data.get("models"), list):
        found.append(Fix(core.MISSING_FIELD, "/schema_version", ABSENT, SCHEMA_VERSION,
                         f"added the missing schema_version {SCHEMA_VERSION!r}"))
    models = data.get("models")
    if not isinstance(models, list):
        return found
    for index, entry in enumerate(models):
        if isinstance(entry, dict):
            found += _entry_fixes(entry, pointer_join("", "models", index))
    return found


def _entry_fixes(entry: dict[str, Any], base: str) -> list[Fix]:
    found: list[Fix] = []
    found += _version_fix(entry.get("version"), f"{base}/version")
    compat = entry.get("compatibility")
    if isinstance(compat, dict):
        for key in ("min_client_version", "max_client_version"):
            found += _version_fix(compat.get(key), f"{base}/compatibility/{key}")
    download = entry.get("download")
    if isinstance(download, dict):
        found += _url_fixes(download.get("url"), f"{base}/download/url")
        found += _sha256_fix(download.get("sha256"), f"{base}/download/sha256")
    return found


def _version_fix(value: Any, pointer: str) -> list[Fix]:
    if (isinstance(value, str) and value[:1] in ("v", "V") and not is_semver(value)
            and is_semver(value[1:])):
        return [Fix(core.BAD_SEMVER, pointer, value, value[1:],
                    f"removed the {value[0]!r} prefix of {value!r}")]
    return []


def _url_fixes(value: Any, pointer: str) -> list[Fix]:
    if not isinstance(value, str):
        return []
    found: list[Fix] = []
    url = value.strip()
    if url != value and url:
        found.append(Fix(core.BAD_URL, pointer, value, url,
                         "removed whitespace around the URL"))
    else:
        url = value
    resolve = huggingface_resolve_url(url)
    if resolve is not None:
        found.append(Fix(core.HF_BLOB_URL, pointer, url, resolve,
                         "replaced Hugging Face /blob/ (a page) with /resolve/ (the file)"))
    return found


def _sha256_fix(value: Any, pointer: str) -> list[Fix]:
    if not isinstance(value, str) or _LOWER64.fullmatch(value):
        return []
    digest = value[len(_PREFIX):] if value[:len(_PREFIX)].lower() == _PREFIX else value
    if not _HEX64.fullmatch(digest):
        return []  # not a SHA-256 however it is written: a person must look
    what = []
    if digest != value:
        what.append(f"removed the {value[:len(_PREFIX)]!r} prefix")
    if digest != digest.lower():
        what.append("lower-cased the digest")
    return [Fix(core.BAD_SHA256, pointer, value, digest.lower(), " and ".join(what))]


def apply_fixes(data: Any, fixes: Sequence[Fix]) -> Any:
    """A copy of data with the fixes applied (in order: later fixes of one value win)."""
    result = copy.deepcopy(data)
    for fix in fixes:
        if fix.pointer == "/schema_version" and fix.old is ABSENT:
            result = {"schema_version": fix.new, **result}
            continue
        *parents, last = fix.pointer.split("/")[1:]
        container = result
        for token in parents:
            container = container[int(token)] if isinstance(container, list) else container[
                _unescape(token)]
        container[_unescape(last)] = fix.new
    return result


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


# -- files ----------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class FileFix:
    path: Path
    display: str
    fixes: list[Fix]
    old_text: str = ""
    new_text: str | None = None
    had_bom: bool = False
    # Why the file was left alone although it has fixes (duplicate keys, a failed check).
    skipped: str = ""

    def diff(self) -> str:
        if self.new_text is None:
            return ""
        return unified_diff(self.old_text, self.new_text, self.display)

    def findings(self) -> list[Finding]:
        """What was (or would be) fixed, located in the file as it was."""
        doc = JsonDocument(self.display, self.old_text, None)
        return doc.locate([fix.as_finding(self.display) for fix in self.fixes])


def plan_fix(path: Path, display: str,
             keep: Callable[[Finding], bool] = lambda _: True) -> FileFix:
    """The fixed text of one file (None when nothing is to change); writes nothing.

    `keep` says which fixes to make, by the finding each fixes (the repo's settings:
    a disabled rule is not fixed either).
    """
    doc, problems = load_json_file(path, display)
    if doc is None:
        return FileFix(path, display, [])
    fixes = [fix for fix in fixes_of(doc.data) if keep(fix.as_finding(display))]
    plan = FileFix(path, display, fixes, doc.text, had_bom=doc.had_bom)
    if not fixes:
        return plan
    if any(p.rule == core.DUPLICATE_KEY.code for p in problems):
        # Which of two values a reader takes depends on the reader: no edit is known good.
        plan.skipped = "it has a duplicate key"
        return plan
    final = {fix.pointer: fix.new for fix in fixes if fix.old is not ABSENT}
    added = [fix.new for fix in fixes if fix.old is ABSENT]
    first = {"": ("schema_version", added[0])} if added else {}
    try:
        text = textedit.edit(doc.text, replace=final, first_members=first)
        textedit.check_edit(text, apply_fixes(doc.data, fixes))
    except textedit.EditError as exc:
        plan.skipped = str(exc)
        return plan
    plan.new_text = text
    return plan


def write_fix(plan: FileFix) -> None:
    if plan.new_text is None:
        return
    target = plan.path.resolve()
    original = (UTF8_BOM if plan.had_bom else b"") + plan.old_text.encode("utf-8")
    if target.read_bytes() != original:
        raise textedit.EditError(f"{plan.display} changed while it was being fixed; run "
                                 "lint --fix again")
    atomic.write_atomic(target, (UTF8_BOM if plan.had_bom else b"")
                        + plan.new_text.encode("utf-8"))


@dataclasses.dataclass(slots=True)
class FixResult:
    files: list[FileFix]

    @property
    def changed(self) -> list[FileFix]:
        return [f for f in self.files if f.new_text is not None]

    def fixed(self) -> list[Finding]:
        return sort_findings(f for plan in self.changed for f in plan.findings())


def fix_repo(repo: Path, base: Path, *, write: bool,
             keep: Callable[[Finding], bool] = lambda _: True) -> FixResult:
    """Plan the fixes of every model file of the repo; with write, make them."""
    plans = []
    for path in repo_layout.model_files(repo):
        plan = plan_fix(path, repo_layout.display_path(path, base), keep)
        if write:
            write_fix(plan)
        plans.append(plan)
    return FixResult(plans)
