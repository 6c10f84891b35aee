"""The child process of a crash run: ``python -m benchmarks.chaos.job '<json>'`` runs one bulkops job.

The spec: ``{"job": "purge"|"export"|"load", "kwargs": {...}, "limits": {"operation:scope:unit": rate}}``
(limit rows override the ``default`` profile, to slow a job down enough to be killed mid-way). Prints
``started`` just before the job begins and ``done <json>`` with its report's counts when it ends.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

import bulkops
from bulkops.limits.profiles import Limit, load_profile

__all__ = ["main"]


def _profile(overrides: dict[str, Any]) -> Any:
    rows = []
    for key, rate in overrides.items():
        operation, scope, unit = key.split(":")
        rows.append(Limit(operation, scope, unit, float(rate)))  # type: ignore[arg-type]
    return load_profile("default").with_overrides(rows)


async def main(spec: dict[str, Any]) -> None:
    kwargs = dict(spec["kwargs"])
    kwargs["limits"] = _profile(spec.get("limits", {}))
    jobs: dict[str, Callable[..., Awaitable[Any]]] = {
        "purge": bulkops.purge,
        "export": bulkops.export,
        "load": bulkops.load,
    }
    job = jobs[spec["job"]]
    print("started", flush=True)
    report = await job(**kwargs)
    counts = ("deleted", "exported", "upserted", "rejected", "resumed", "requests", "rate_limited", "retries")
    doc = {name: getattr(report, name) for name in counts if hasattr(report, name)}
    verification = getattr(report, "verification", None)
    if verification is not None:
        doc["remaining"] = getattr(verification, "remaining", None)
    print("done", orjson.dumps(doc).decode(), flush=True)


if __name__ == "__main__":
    asyncio.run(main(orjson.loads(sys.argv[1])))
