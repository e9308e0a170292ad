"""What the benchmark scripts share: how to run repo-tools, and how rows are printed."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
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


@functools.cache
def _as_installed() -> None:
    """Time repo-tools as an installed copy runs: pip compiles a package's bytecode when
    it installs it. With PYTHONDONTWRITEBYTECODE (set in some sandboxes and CI images) an
    editable checkout would compile every edited module again on every run: 10-20 ms
    each, which once made lint look slower than validate by what it imports more."""
    import compileall

    import repo_tools

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(Path(repo_tools.__file__).parent, quiet=1)


def repo_tools_cmd() -> list[str]:
    """The build this interpreter imports: its venv's script, else `python -m`; never
    another repo-tools on the PATH (a pipx install of some other version)."""
    _as_installed()
    beside = Path(sys.executable).parent / "repo-tools"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "repo_tools"]


# The command runs in a child of a fresh interpreter, so RUSAGE_CHILDREN there holds only
# that command and the processes it waited for (ru_maxrss: the largest single one). The
# sampled sum over the process tree also counts worker processes alive at the same time.
_MEMORY_PROBE = r"""
import json, os, resource, subprocess, sys, time
def tree_rss(root):
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    parents[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, total = {root}, 0
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                changed = True
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            pass
    return total
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak = 0
while proc.poll() is None:
    if os.path.isdir("/proc"):
        peak = max(peak, tree_rss(proc.pid))
    time.sleep(0.02)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"maxrss_kib": usage.ru_maxrss, "tree_kib": peak, "code": proc.returncode}))
"""


def peak_memory(cmd: Sequence[str], cwd: Path) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, *cmd], cwd=cwd,
                         capture_output=True, text=True, check=True).stdout
    result: dict[str, int] = json.loads(out)
    return result


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
