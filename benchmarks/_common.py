"""What the benchmark scripts share: how to run repo-tools, and how rows are printed."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def console_script(name: str) -> list[str] | None:
    """The script installed beside this interpreter (its venv), else one on the PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    return [found] if found else None


def repo_tools_cmd() -> list[str]:
    """The build this interpreter imports: its venv's script, else `python -m`; never
    another repo-tools on the PATH (a pipx install of some other version)."""
    beside = Path(sys.executable).parent / "repo-tools"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "repo_tools"]


def print_rows(rows: Sequence[Mapping[str, Any]], *, as_json: bool) -> None:
    """Rows as JSON (what `benchmarks/run` reads) or as a Markdown table; a row may leave
    out baseline, ratio, target and met, or set them to None."""
    if as_json:
        print(json.dumps(list(rows), indent=2, ensure_ascii=False))
        return
    print("| benchmark | repo-tools | baseline | ratio | target | met? |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        ratio = row.get("ratio")
        met = row.get("met")
        print(f"| {row['benchmark']} | {row['repo_tools']} | {row.get('baseline') or '—'} | "
              f"{'—' if ratio is None else f'{ratio:.2f}x'} | {row.get('target') or '—'} | "
              f"{'—' if met is None else 'yes' if met else '**no**'} |")
