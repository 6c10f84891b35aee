"""A copy's dry run: what it would send, and how long that takes at the binding side's limits.

From the counts per namespace (:func:`bulkops.jobs.counting.count_selected`) and the bytes a record
takes on the destination's wire (measured on a few records fetched from the source): list requests
(one per 100 IDs and at least one per prefix and namespace), fetch requests (one per 1000 IDs of a
namespace), upsert requests (≤ 1000 records and ≤ 2 MB each); the seconds are the longest of the
stages at their documented rates (the upsert bytes budget is per namespace, so namespaces copied at
once share none of it). Round trips and ramp-up are not counted: the estimate is a floor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bulkops.jobs.copy.batches import MAX_REQUEST_BYTES
from bulkops.jobs.selection import Selection
from bulkops.limits.profiles import Profile
from bulkops.models import LIST_PAGE_IDS, MAX_IDS_PER_REQUEST

__all__ = ["estimate_copy"]

FILTER_PAGE = 1000


def estimate_copy(
    by_namespace: Mapping[str, int],
    selection: Selection,
    *,
    bytes_per_record: float,
    source: Profile,
    destination: Profile,
    lanes: int,
) -> dict[str, Any]:
    """Requests per operation, bytes, and seconds at the limits (see the module docstring)."""
    requests: dict[str, int] = {}
    sizes = list(by_namespace.values())
    roots = max(1, len(selection.prefixes))
    if selection.kind in ("prefixes", "everything"):
        requests["list"] = sum(max(roots, math.ceil(n / LIST_PAGE_IDS)) for n in sizes)
    if selection.kind == "filter":
        requests["fetch_by_metadata"] = sum(max(1, math.ceil(n / FILTER_PAGE)) for n in sizes)
    else:
        requests["fetch"] = sum(math.ceil(n / MAX_IDS_PER_REQUEST) for n in sizes)
    per_request = max(1, min(MAX_IDS_PER_REQUEST, int(MAX_REQUEST_BYTES // max(1.0, bytes_per_record))))
    requests["upsert"] = sum(math.ceil(n / per_request) for n in sizes)
    total = sum(sizes)
    seconds = 0.0
    stages = {
        "list": source.rate("list", "index"),
        "fetch": source.rate("fetch", "index"),
        "fetch_by_metadata": _times(source.rate("fetch_by_metadata", "namespace"), len(sizes), lanes),
        "upsert": _times(destination.rate("upsert", "namespace"), len(sizes), lanes),
    }
    for operation, count in requests.items():
        rate = stages.get(operation)
        if rate:
            seconds = max(seconds, count / rate)
    byte_rate = destination.rate("upsert", "namespace", "bytes")
    if byte_rate and sizes:
        biggest = max(sizes) * bytes_per_record / byte_rate
        spread = total * bytes_per_record / (byte_rate * max(1, min(lanes, len(sizes))))
        seconds = max(seconds, biggest, spread)
    return {
        "records": total,
        "namespaces": len(sizes),
        "requests": requests,
        "bytes_per_record": round(bytes_per_record),
        "bytes": round(total * bytes_per_record),
        "seconds": seconds,
        "rate": total / seconds if seconds else None,
    }


def _times(rate: float | None, namespaces: int, lanes: int) -> float | None:
    """A per-namespace rate, over the namespaces copied at once."""
    return rate * max(1, min(namespaces, lanes)) if rate else None
