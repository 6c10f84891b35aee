"""Run one bulkops job in this process: the child of the kill -9 and concurrency tests (and benchmarks).

``python -m tests.helpers.driver '<json>'`` with ``{"job": "purge"|"export"|"load"|"copy"|"resume", "kwargs":
{...}, "limits": {"list:index:requests": 30, ...}}`` (``limits``: overrides of the default profile).
Prints ``started`` just before the job begins and ``done <report JSON>`` when it ends, so the parent
knows when a kill lands inside the job.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import orjson

import bulkops
from bulkops.limits.profiles import Limit, Profile, load_profile

JOBS: dict[str, Any] = {
    "purge": bulkops.purge,
    "export": bulkops.export,
    "load": bulkops.load,
    "copy": bulkops.copy,
    "resume": bulkops.resume,
}


def profile(overrides: dict[str, float]) -> Profile:
    rows = []
    for key, rate in overrides.items():
        operation, scope, unit = key.split(":")
        rows.append(Limit(operation, scope, unit, float(rate)))  # type: ignore[arg-type]
    return load_profile("default").with_overrides(rows)


async def main(spec: dict[str, Any]) -> None:
    kwargs = dict(spec["kwargs"])
    if "limits" in spec:
        kwargs["limits"] = profile(spec["limits"])
    print("started", flush=True)
    report = await JOBS[spec["job"]](**kwargs)
    print("done", orjson.dumps(report.to_json(), default=str).decode(), flush=True)


if __name__ == "__main__":
    asyncio.run(main(orjson.loads(sys.argv[1])))
