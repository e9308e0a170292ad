"""Every rule code in the rule table is exercised: named by a test or a fixture.

A code that no test names is a finding nobody has seen the tool produce. The search is
textual (a test that asserts on `"C003"`, a fixture directory like `I005-non-monotonic/`),
so it is the floor, not the proof; the tests that name a code assert that it is emitted.
"""

from __future__ import annotations

import re
from pathlib import Path

from repo_tools.rules import ALL_RULES

TESTS = Path(__file__).resolve().parent
THIS = Path(__file__).resolve()
SKIP = {TESTS / "data" / "sarif-schema-2.1.0.json"}  # a third-party schema, not a test


def named_codes() -> set[str]:
    pattern = re.compile(r"\b[A-Z]\d{3}\b")
    found: set[str] = set()
    for path in TESTS.rglob("*"):
        if path == THIS or path in SKIP or "__pycache__" in path.parts:
            continue
        found.update(pattern.findall(path.relative_to(TESTS).as_posix()))
        if path.is_file() and path.suffix in {".py", ".json", ".toml", ".txt", ".md", ""}:
            found.update(pattern.findall(path.read_text("utf-8", errors="replace")))
    return found


def test_every_rule_code_is_named_by_a_test_or_fixture() -> None:
    missing = sorted(set(ALL_RULES) - named_codes())
    assert missing == [], f"rule codes no test or fixture names: {missing}"
