"""Purge one prefix across many namespaces, or one big namespace under consistency lag, through the CLI.

Issue 11's side figures, which the harness has no scenario for: ``bulkops purge --all-namespaces
--prefix doc-`` over N namespaces (each with targets and records to keep), and ``-n big`` with
``--consistency-lag``. The index is seeded straight into a data directory, then served by its own
``bulkops serve`` (default limits, 25 ms, list pages of 100); the whole ``bulkops`` process is timed
(its CPU from ``getrusage``) and the index's counts are compared with what must remain.

    python -m benchmarks.purge_namespaces namespaces [--namespaces 500 --targets 200 --keep 50]
    python -m benchmarks.purge_namespaces lag [--targets 200000 --keep 20000 --lag-ms 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness.bounds import LIST_PAGE_IDS
from benchmarks.harness.control import describe_index_host
from benchmarks.harness.server import serve_args
from benchmarks.harness.verify import namespace_counts
from bulkops.models import Record
from bulkops.server import serve_local
from bulkops.server.config import ServerConfig
from bulkops.server.process import ServerProcess

KEY = "purge-namespaces-key"
LIST_RATE = 200  # list requests/s per index (the default limits)
LIST_BOUND = LIST_RATE * LIST_PAGE_IDS


async def _seed(data: Path, layout: dict[str, tuple[int, int]]) -> None:
    async with serve_local(ServerConfig(data_dir=data, limits=None)) as server:
        await server.create_index_direct("p", dimension=8)
        rng = np.random.default_rng(1)
        for namespace, (targets, keep) in layout.items():
            records = [
                Record(f"doc-{int(rng.integers(1 << 48)):012x}-{i}", values=rng.random(8, dtype=np.float32))
                for i in range(targets)
            ]
            records += [Record(f"keep-{i:06d}", values=rng.random(8, dtype=np.float32)) for i in range(keep)]
            await server.seed("p", namespace, records)


def measure(layout: dict[str, tuple[int, int]], lag_ms: float, selection: list[str]) -> dict[str, Any]:
    """One purge of ``doc-`` by the CLI over ``layout`` (namespace → (targets, records kept))."""
    root = Path(tempfile.mkdtemp(prefix="purge-namespaces-"))
    try:
        asyncio.run(_seed(root / "data", layout))
        options = [*serve_args(root / "data", latency_ms=25, api_key=KEY), "--consistency-lag", str(lag_ms)]
        with ServerProcess(options) as serve:
            controller = serve.url
            env = {**os.environ, "PINECONE_API_KEY": KEY, "PINECONE_CONTROLLER_HOST": controller,
                   "XDG_STATE_HOME": str(root / "state")}  # fmt: skip
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "bulkops", "--json", "purge", "--index", "p", *selection,
                 "--prefix", "doc-", "--yes"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            wall = time.monotonic() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                raise SystemExit(f"the purge failed ({done.returncode}): {done.stderr.strip()}")
            report = json.loads(done.stdout)
            counts = namespace_counts(describe_index_host(controller, "p", api_key=KEY), api_key=KEY)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    targets = sum(t for t, _ in layout.values())
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    lists = int(report["requests"]["list"])
    return {
        "namespaces": len(layout),
        "targets": targets,
        "consistency_lag_ms": lag_ms,
        "wall_s": round(wall, 2),
        "ids_per_s": round(targets / wall),
        "of_list_bound": round(targets / wall / LIST_BOUND, 3),
        "list_requests": lists,
        "of_list_request_bound": round(lists / LIST_RATE / wall, 3),  # the requests it made, at 200/s
        "cpu_ms_per_1k": round(cpu / targets * 1e6, 1),
        "deleted": report["deleted"],
        "exact": counts == {name: keep for name, (_, keep) in layout.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["namespaces", "lag"])
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--targets", type=int, help="per namespace (namespaces: 200; lag: 200,000)")
    parser.add_argument("--keep", type=int, help="per namespace (namespaces: 50; lag: 20,000)")
    parser.add_argument("--lag-ms", type=float, default=3000.0)
    args = parser.parse_args()
    if args.case == "namespaces":
        size = (args.targets or 200, args.keep or 50)
        layout = {f"tenant-{n:04d}": size for n in range(args.namespaces)}
        result = measure(layout, 0.0, ["--all-namespaces"])
    else:
        layout = {"big": (args.targets or 200_000, args.keep or 20_000)}
        result = measure(layout, args.lag_ms, ["-n", "big"])
    print(json.dumps(result))
    if not result["exact"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
