#!/usr/bin/env python3
"""The parse-everything baseline: one Python process that `json.load`s every model file.

    python benchmarks/parse_all.py REPO

It walks REPO/versions/*/models/*.json and parses each file with the standard library,
nothing else: the floor any tool that reads the whole repo pays in Python. The `lint`
and `check-index` rows of benchmarks/bench_scale.py are measured against it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else ".")
    count = 0
    for path in root.glob("versions/*/models/*.json"):
        with path.open("rb") as handle:
            json.load(handle)
        count += 1
    return 0 if count else 1


if __name__ == "__main__":
    raise SystemExit(main())
