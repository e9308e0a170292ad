"""How validate's worker processes start.

Forked workers inherit the parent's heap (every path of a 100,000-file repo) and copy its
pages as soon as their own objects move in them: 124 MiB per worker against about 30 MiB
for a worker started from a forkserver. But a fresh worker imports the caller's main
module again, which breaks a script that calls `validate_paths` without an
`if __name__ == "__main__":` guard. So the platform's default stays, and the entry points
whose main module is guarded (the console script, `python -m repo_tools`, the Action)
ask for fresh workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # multiprocessing is imported only when workers start (not by the hook)
    import multiprocessing.context

_fresh = False


def start_workers_fresh() -> None:
    """Start later workers from a forkserver (where the platform has one)."""
    global _fresh
    _fresh = True


def context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    fresh = _fresh and "forkserver" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if fresh else None)
