"""Medians per (point, contender), and each bulkops contender's ratio to each SDK contender.

A cell's figures are the medians over its runs that ended without an error; ``errors`` lists what the
others ended with (for an SDK baseline a result in itself, e.g. ``RateLimitError`` or a gRPC failure),
``unavailable`` why the contender could not run here at all.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks.harness.spec import BULKOPS_CONTENDERS, SDK_CONTENDERS

__all__ = ["MEDIAN_FIELDS", "summarize"]

MEDIAN_FIELDS = (
    "rate", "ratio_to_bound", "wall_s", "processed", "cpu_s", "cpu_ms_per_1k", "peak_rss_mb",
    "http_429", "retries", "requests", "server_cpu_s", "target_server_cpu_s", "server_cpu_ms_per_request",
)  # fmt: skip
_COPIED = (
    "point", "scenario", "label", "format", "contender", "latency_ms", "limits", "concurrency",
    "records", "target", "dimension", "namespaces", "groups",
)  # fmt: skip


def _median(values: Sequence[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = sorted({(r["point"], r["contender"]) for r in rows})
    summary: list[dict[str, Any]] = []
    for point_id, contender in keys:
        runs = [r for r in rows if r["point"] == point_id and r["contender"] == contender]
        ok = [r for r in runs if not r["error"] and not r["unavailable"]]
        entry = {key: runs[0][key] for key in _COPIED}
        entry["bound"] = next((r.get("bound") for r in runs if r.get("bound") is not None), None)
        entry["bound_formula"] = next((r.get("bound_formula") for r in runs if r.get("bound_formula")), None)
        entry["transport"] = next((r.get("transport") for r in runs if r.get("transport")), None)
        entry["runs"] = len(runs)
        entry["ok_runs"] = len(ok)
        entry["unavailable"] = next((r["unavailable"] for r in runs if r["unavailable"]), None)
        entry["errors"] = sorted({str(r["error"])[:300] for r in runs if r["error"]})
        for name in MEDIAN_FIELDS:
            entry[name] = _median([r.get(name) for r in ok])
        entry["rates"] = [r.get("rate") for r in ok]
        summary.append(entry)
    by_point = {(e["point"], e["contender"]): e for e in summary}
    for entry in summary:
        if entry["contender"] not in BULKOPS_CONTENDERS or not entry["rate"]:
            continue
        entry["vs_sdk"] = {
            sdk: entry["rate"] / theirs["rate"]
            for sdk in SDK_CONTENDERS
            if (theirs := by_point.get((entry["point"], sdk))) and theirs["rate"]
        }
    return summary
