"""The documentation as the tests read it: the README plus every page under `docs/`.

Sections are marked `<!-- section: NAME -->` … `<!-- /section: NAME -->`; a test asks for a
section by name, wherever it lives, so moving text between pages does not break its test.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README_PATH = ROOT / "README.md"
DOCS_DIR = ROOT / "docs"


def pages() -> list[Path]:
    return [README_PATH, *sorted(DOCS_DIR.rglob("*.md"))]


@cache
def page_text(path: Path) -> str:
    return path.read_text("utf-8")


def all_text() -> str:
    """Every page, concatenated: for 'is X documented anywhere' checks."""
    return "\n".join(page_text(path) for path in pages())


def section(name: str) -> str:
    found = []
    for path in pages():
        found += re.findall(rf"<!-- section: {re.escape(name)} -->\n(.*?)"
                            rf"<!-- /section: {re.escape(name)} -->", page_text(path), re.S)
    assert len(found) == 1, f"{len(found)} sections named {name} in README.md and docs/"
    return str(found[0])
