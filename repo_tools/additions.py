"""Adding model entries to a config version's model files: the one write of `add` and
`import`.

New entries are appended to `versions/<v>/models/<provider>.json` (the file is created
when missing) by inserting their text before the closing bracket of `models`, so the
rest of the file stays byte for byte. A file is written only when the whole result is
known good: it parses to the old data plus the new entries, no identity (provider,
model, version) repeats within the config version, and (for `add`) validate finds no
error in the new entries.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from repo_tools import atomic, jsonformat, textedit
from repo_tools import repo as repo_layout
from repo_tools.checks.validate import check_document, is_v1_document
from repo_tools.findings import Finding, Severity, finding, sort_findings
from repo_tools.jsonfile import UTF8_BOM, JsonDocument, load_json_file
from repo_tools.migrate import SCHEMA_VERSION, unified_diff
from repo_tools.model import entries_of, entry_of
from repo_tools.rules import core


@dataclasses.dataclass(slots=True)
class FileAddition:
    """The entries meant for one model file, and what adding them gives."""

    path: Path
    display: str
    entries: list[dict[str, Any]]
    findings: list[Finding] = dataclasses.field(default_factory=list)
    old_text: str = ""
    new_text: str | None = None  # None: refused (see findings), or nothing to add
    had_bom: bool = False
    first_index: int = 0  # where the new entries start in `models`

    @property
    def refused(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def diff(self) -> str:
        return unified_diff(self.old_text, self.new_text or self.old_text, self.display)


def provider_file_problem(provider: str) -> str | None:
    """Why `provider` cannot name its file `<provider>.json` in one models directory (a
    path separator or `..` would put the file somewhere else), or None."""
    if not provider.strip():
        return "is empty"
    if "/" in provider or "\\" in provider or provider in (".", ".."):
        return "contains a path separator or is '.' or '..'"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in provider):
        return "contains a control character"
    return None


def model_file_path(repo: Path, config_version: str, provider: str) -> Path:
    return (repo / repo_layout.VERSIONS_DIR / config_version / repo_layout.MODELS_DIR
            / f"{provider}.json")


def group_by_file(repo: Path, config_version: str,
                  entries: Sequence[Mapping[str, Any]]) -> dict[Path, list[dict[str, Any]]]:
    """Entries by the file of their provider, in their order."""
    grouped: dict[Path, list[dict[str, Any]]] = {}
    for entry in entries:
        path = model_file_path(repo, config_version, str(entry.get("provider", "")))
        grouped.setdefault(path, []).append(dict(entry))
    return grouped


def existing_identities(repo: Path, config_version: str,
                        skip: Collection[Path] = ()) -> dict[tuple[str, str, str], str]:
    """Identity -> display place of every entry already in the config version's files
    (except `skip`, which the caller reads itself)."""
    found: dict[tuple[str, str, str], str] = {}
    directory = repo / repo_layout.VERSIONS_DIR / config_version / repo_layout.MODELS_DIR
    for path in sorted(directory.glob("*.json")):
        if path in skip:
            continue
        doc, _ = load_json_file(path, path.name)
        if doc is None:
            continue
        for entry in entries_of(doc.data, path.name):
            found.setdefault(entry.identity, f"{path.name}#{entry.pointer}")
    return found


def plan_addition(path: Path, display: str, entries: Sequence[Mapping[str, Any]],
                  others: Mapping[tuple[str, str, str], str], *,
                  validate: bool = True) -> FileAddition:
    """Work out the new text of `path` with `entries` appended; writes nothing.

    `others` holds the identities in the config version's other files. With `validate`,
    any validate error in the new entries refuses the addition (`add`); without, they are
    left to `lint` (`import` carries a catalog's own problems as they are, never invents
    them away).
    """
    plan = FileAddition(path, display, [dict(e) for e in entries])
    if path.exists():
        doc, problems = load_json_file(path, display)
        if doc is None or any(f.severity is Severity.ERROR for f in problems):
            plan.findings = problems
            return plan
        if not _is_v2_file(doc.data):
            plan.findings = [finding(core.V1_FORMAT if is_v1_document(doc.data)
                                     else core.WRONG_TYPE, display,
                                     "entries can only be added to a v2 model file "
                                     f"(run `repo-tools migrate {display}` first)")]
            return plan
        plan.old_text, plan.had_bom = doc.text, doc.had_bom
        data = doc.data
    else:
        data = {"schema_version": SCHEMA_VERSION, "models": []}
    start = plan.first_index = len(data["models"])
    seen = {e.identity: f"{display}#{e.pointer}" for e in entries_of(data, display)}
    for index, entry in enumerate(plan.entries, start):
        identity = entry_of(entry).identity
        earlier = seen.get(identity) or others.get(identity)
        if earlier is not None:
            plan.findings.append(finding(
                core.DUPLICATE_MODEL, display,
                f"{'/'.join(identity[:2])} {identity[2]} is already in this config version "
                f"({earlier}); give it another --version, or edit the existing entry",
                f"/models/{index}"))
        seen.setdefault(identity, f"{display}#/models/{index}")
    expected = copy.deepcopy(data)
    expected["models"].extend(plan.entries)
    new_pointers = tuple(f"/models/{i}" for i in range(start, start + len(plan.entries)))
    if validate:
        plan.findings += [f for f in check_document(JsonDocument(display, "", expected))
                          if f.pointer.startswith(new_pointers)]
    if plan.refused:
        return plan
    if plan.old_text:
        text = textedit.edit(plan.old_text, append={"/models": plan.entries})
    else:
        text = jsonformat.dumps_styled(expected, jsonformat.JsonStyle())
    textedit.check_edit(text, expected)
    plan.new_text = text
    plan.findings = [*JsonDocument(display, text, expected).locate(plan.findings)]
    return plan


def _is_v2_file(data: Any) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("models"), list)
            and "schema_version" in data)


def write_addition(plan: FileAddition) -> None:
    """Write a planned addition atomically (through a symlink to the file it names)."""
    if plan.new_text is None:
        return
    plan.path.parent.mkdir(parents=True, exist_ok=True)
    target = plan.path.resolve()
    if plan.old_text:
        original = (UTF8_BOM if plan.had_bom else b"") + plan.old_text.encode("utf-8")
        if target.read_bytes() != original:
            raise textedit.EditError(f"{plan.display} changed while it was being edited; "
                                     "run the command again")
    data = (UTF8_BOM if plan.had_bom else b"") + plan.new_text.encode("utf-8")
    atomic.write_atomic(target, data)


def all_findings(plans: Sequence[FileAddition]) -> list[Finding]:
    return sort_findings(f for plan in plans for f in plan.findings)
