"""The child process of a crash run: ``python -m benchmarks.chaos.job '<json>'`` runs one bulkops job.

The spec: ``{"job": "purge"|"export"|"load", "kwargs": {...}}``; ``kwargs["limits"]`` is a limit-profile
file the parent wrote (:func:`benchmarks.chaos.killer.limits_file`: rows over ``default`` that slow the
job down enough to be killed mid-way). Prints ``started`` just before the job begins and ``done <json>``
with its report's counts when it ends.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

import bulkops

__all__ = ["main"]


async def main(spec: dict[str, Any]) -> None:
    kwargs = dict(spec["kwargs"])
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
