"""Figures from raw results, and the side-by-side tables."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Metric:
    label: str
    key: str  # path into a server's result: "startup_seconds" or "scenarios.NAME.p50_ms"
    lower_is_better: bool
    scale: float = 1.0  # shown value = raw / scale
    digits: int = 2
    target: float | None = None  # in shown units, for the first server
    compare: bool = True  # False for counts where a ratio means nothing


def _get(result: dict[str, Any], key: str) -> float | None:
    node: Any = result
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def _cell(value: float | None, digits: int) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def table(title: str, metrics: list[Metric], results: dict[str, dict[str, Any]]) -> str:
    """Rows of metrics, a column per server, then the ratio of each peer to the first server
    (oriented so that > 1 means the first server is better), then the first server's target."""
    names = list(results)
    first, peers = names[0], names[1:]
    header = [title] + names + [f"{first} vs {p}" for p in peers]
    if any(m.target is not None for m in metrics):
        header.append(f"{first} target")
    rows = [header]
    for m in metrics:
        shown = {n: (None if (v := _get(results[n], m.key)) is None else v / m.scale) for n in names}
        row = [m.label] + [_cell(shown[n], m.digits) for n in names]
        for p in peers:
            a, b = shown[first], shown[p]
            if not m.compare:
                row.append("")
            elif a and b:
                row.append(f"{(b / a if m.lower_is_better else a / b):.2f}x")
            else:
                row.append("n/a")
        if len(header) > len(row):
            if m.target is None:
                row.append("")
            else:
                verdict = "" if shown[first] is None else (
                    "  met" if (shown[first] <= m.target if m.lower_is_better else shown[first] >= m.target)
                    else "  MISSED")
                row.append(f"{'<=' if m.lower_is_better else '>='} {m.target:g}{verdict}")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for i, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)
