"""MkDocs hook: a page per rule code, generated from the rule table at build time.

Each page says what the rule checks, what to do, how to turn it off and, where the test
suite has one, a failing (and passing) example with what repo-tools prints for it. The
examples are the test suite's own fixtures (tests/corpus/malformed, tests/fixtures/index),
so every example shown is one a test checks produces its code.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from pathlib import Path
from typing import Any

from repo_tools.findings import Rule
from repo_tools.rules import ALL_RULES, FAMILIES

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "malformed"
INDEX_FIXTURES = ROOT / "tests" / "fixtures" / "index"
SHOWN_BYTES = 1500

# Where a rule is reported decides how it can be turned off.
SETTINGS_FAMILIES = "JSVIMP"


def family_of(rule: Rule) -> str:
    return next(name for name, rules in FAMILIES.items() if rule in rules)


def _run(args: list[str], cwd: Path) -> str:
    """What `repo-tools ARGS` prints in `cwd` (in-process: a hundred pages build quickly)."""
    from click.testing import CliRunner

    from repo_tools.cli import main

    with contextlib.chdir(cwd):
        run = CliRunner().invoke(main, ["--color", "never", *args], catch_exceptions=False)
    return run.stdout.rstrip("\n")


def _file_block(path: Path, name: str) -> list[str]:
    data = path.read_bytes()
    text = data[:SHOWN_BYTES].decode("utf-8", "backslashreplace")
    if len(data) > SHOWN_BYTES:
        text += f"\n… ({len(data):,} bytes in all)"
    return [f"`{name}`:", "", "```json", text.rstrip("\n"), "```", ""]


def corpus_example(code: str) -> list[str]:
    files = sorted(CORPUS.glob(f"{code}-*.json"))
    if not files:
        return []
    lines = ["## Example", ""]
    path = files[0]
    lines += _file_block(path, path.name)
    shown = _run(["validate", path.name], CORPUS)
    lines += ["```console", f"$ repo-tools validate {shlex.quote(path.name)}", shown, "```", ""]
    if len(files) > 1:
        lines += ["More failing files for this rule in the test corpus: "
                  + ", ".join(f"`{p.name}`" for p in files[1:]) + ".", ""]
    return lines


def index_example(code: str) -> list[str]:
    folders = sorted(INDEX_FIXTURES.glob(f"{code}-*"))
    if not folders:
        return []
    lines = ["## Example", ""]
    for kind, title in (("fail", "Failing"), ("pass", "Passing")):
        repo = folders[0] / kind
        if not repo.is_dir():
            continue
        lines += [f"### {title}", ""]
        index = repo / "index.json"
        if index.is_file():
            lines += _file_block(index, "index.json")
        tree = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file())
        lines += ["Files: " + ", ".join(f"`{t}`" for t in tree) + ".", ""]
        lines += ["```console", "$ repo-tools check-index", _run(["check-index"], repo)
                  or "", "```", ""]
    return lines


def disable_text(rule: Rule) -> list[str]:
    lines = ["## Turning it off", ""]
    family = rule.code[0]
    if family in SETTINGS_FAMILIES or rule.code in ("R036", "R037"):
        lines += [
            "In `.repo-tools.toml` (or `[tool.repo-tools]` in `pyproject.toml`):", "",
            "```toml", f'disable = ["{rule.code}"]            # everywhere',
            f'severity = {{ {rule.code} = "warning" }}   # or: report it, do not fail', "",
            "[per-file-disable]",
            f'"versions/v1.0.0/models/legacy.json" = ["{rule.code}"]', "```", "",
            "Settings apply to `lint`, the GitHub Action and the `validate`, `check-index` "
            "and `probe` hooks. See "
            "[settings](../lint.md#settings-repo-toolstoml-or-toolrepo-tools).",
            ""]
        if family == "R":
            lines += ["`release` refuses to publish a tree with this problem whatever the "
                      "settings say: a client would be handed it.", ""]
    elif family == "L":
        lines += ["This is a finding about the settings file itself: correct the setting.", ""]
    else:
        lines += ["This refusal protects clients: `release`, `verify` and the client "
                  "library apply it whatever the settings say.", ""]
    return lines


def rule_page(rule: Rule) -> str:
    lines = [f"# {rule.code} {rule.name}", "",
             f"**Severity:** {rule.severity} · **Family:** {family_of(rule)}", "",
             "## What it checks", "", rule.summary, "",
             "## What to do", "", rule.fix, ""]
    if rule.fixable:
        lines += [f"`repo-tools lint --fix` {rule.fixable}. See "
                  "[lint --fix](../maintaining.md#mechanical-fixes-lint-fix).", ""]
    else:
        lines += ["`repo-tools lint --fix` does not change this: it needs a person.", ""]
    example = corpus_example(rule.code) or index_example(rule.code)
    lines += example
    lines += disable_text(rule)
    lines += [f"`repo-tools rules {rule.code}` prints this rule's summary in a terminal.", ""]
    return "\n".join(lines)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for rule in ALL_RULES.values():
        files.append(File.generated(config, f"rules/{rule.code}.md", content=rule_page(rule)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != "rules/index.md":
        return markdown
    # The table is `repo-tools rules --markdown`; on the site each code links to its page.
    return re.sub(r"^\| `([A-Z]\d{3})` \|", lambda m: f"| [`{m.group(1)}`]({m.group(1)}.md) |",
                  markdown, flags=re.M)
