"""Run one export or load job in this process, for kill -9 tests.

``python -m tests.sinks.job_driver '<json>'`` with ``{"job": "export"|"load", "kwargs": {...},
"limits": {"list": 30, ...}}``. Prints ``started`` just before the job begins and ``done <json>`` when
it ends, so the parent knows when a kill lands inside the job.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import orjson

import bulkops
from bulkops.limits.profiles import Limit, load_profile


def _profile(overrides: dict[str, Any]) -> Any:
    rows = []
    for key, rate in overrides.items():
        operation, scope, unit = key.split(":")
        rows.append(Limit(operation, scope, unit, float(rate)))  # type: ignore[arg-type]
    return load_profile("default").with_overrides(rows)


async def main(spec: dict[str, Any]) -> None:
    kwargs = dict(spec["kwargs"])
    kwargs["limits"] = _profile(spec.get("limits", {}))
    print("started", flush=True)
    if spec["job"] == "export":
        report = await bulkops.export(**kwargs)
        doc = {
            "exported": report.exported,
            "resumed": report.resumed,
            "rps": report.records_per_second,
            "elapsed": report.elapsed,
            "commits": report.commits,
        }
    else:
        result = await bulkops.load(**kwargs)
        doc = {
            "upserted": result.upserted,
            "rejected": result.rejected,
            "resumed": result.resumed,
            "rps": result.records_per_second,
            "elapsed": result.elapsed,
        }
    print("done", orjson.dumps(doc).decode(), flush=True)


if __name__ == "__main__":
    asyncio.run(main(orjson.loads(sys.argv[1])))
