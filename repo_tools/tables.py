"""The selection table and one client's resolution, as text or JSON (what `resolve`
prints and what the Action's job summary shows)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from repo_tools import compat
from repo_tools.compat import Resolution, Segment
from repo_tools.report import encodable, visible


def _cell(value: Any) -> str:
    """Text for a table cell. resolve reads files that may not have been validated, so
    controls are escaped (they must not drive the terminal) and so are lone surrogates,
    cell by cell, so that the column widths are those of the text printed."""
    return encodable(visible(str(value)))


def _columns(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n" for row in rows)


def render_resolution(result: Resolution, fmt: str) -> str:
    if fmt == "json":
        doc = {"client_version": result.client_version, "platform": result.platform,
               "config_version": result.config_version,
               "models": [m.raw for m in result.models]}
        return encodable(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    who = f"client {result.client_version}"
    if result.platform is not None:
        who += f" on {_cell(result.platform)}"
    if result.config_version is None:
        return encodable(f"{who}: no config version admits this client\n")
    count = len(result.models)
    head = f"{who} -> {result.config_version} ({count} model{'' if count == 1 else 's'})\n"
    if not result.models:
        return encodable(head)
    rows = [["#", "ranking", "provider", "model", "version", "platforms"]]
    for position, model in enumerate(result.models, 1):
        platforms = model.platforms
        rows.append([str(position), str(model.ranking), _cell(model.provider),
                     _cell(model.model), _cell(model.version),
                     "any" if platforms is None else ",".join(_cell(p) for p in platforms)])
    return encodable(head + "\n" + _columns(rows))


def render_table(table: Sequence[Segment], fmt: str) -> str:
    if fmt == "json":
        rows = [{"clients": s.clients.describe(),
                 "low": None if s.clients.low == compat.MIN_VERSION else s.clients.low,
                 "high": s.clients.high, "config_version": s.config_version}
                for s in table]
        return encodable(json.dumps({"table": rows}, indent=2) + "\n")
    lines = [["client versions", "config version"]]
    lines += [[s.clients.describe(), s.config_version or "(none)"] for s in table]
    return encodable(_columns(lines))
