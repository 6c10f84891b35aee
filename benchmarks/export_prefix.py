"""Export by prefix on the local server: bulkops vs the documented bound vs the official SDK loop.

    /tmp/venv/bin/python benchmarks/export_prefix.py [--small 100000] [--big 1000000] [--latency 25]
                                                     [--dimension 16] [--sdk-seconds 20]

The server runs in a child process (``bulkops serve --data-dir ... --latency 25 --limits default``),
seeded once with ``--big`` records ``doc-0000000 …`` (plus 10k others outside the prefix). Every
export runs in a fresh child process, so its peak RSS is its own:

* bulkops, prefix ``doc-00`` (the first ``--small`` records; 100k) to JSONL, default limits;
* bulkops, prefix ``doc-`` (all ``--big`` records) to JSONL: peak memory compared with the small run;
* SDK 10.2.0, prefix ``doc-00``: ``for page in index.list(prefix=...): index.fetch(ids=...)`` and one
  JSON line per record, time-boxed to ``--sdk-seconds``.

The bound is the smaller of list (200 req/s × 100 IDs) and fetch (100 req/s × 1000 IDs): 20k/s.
Every bulkops output is checked: the right number of distinct IDs.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

INDEX = "export-bench"
NAMESPACE = "ns"
API_KEY = "bench-key"
LIST_BOUND = 200 * 100
FETCH_BOUND = 100 * 1000
BOUND = min(LIST_BOUND, FETCH_BOUND)


def _records(total: int, dimension: int) -> Iterator[Any]:
    import numpy as np

    from bulkops.models import Record

    rng = np.random.default_rng(0)
    block = 10_000
    for start in range(0, total, block):
        # Shortest float32 forms, as the server would send them.
        rows = orjson.loads(
            orjson.dumps(
                rng.standard_normal((min(block, total - start), dimension)).astype(np.float32),
                option=orjson.OPT_SERIALIZE_NUMPY,
            )
        )
        for j, values in enumerate(rows):
            i = start + j
            yield Record(f"doc-{i:07d}", values=values, metadata={"i": i, "tag": f"t{i % 13}"})
    for i in range(10_000):
        yield Record(f"other-{i:05d}", values=[0.5] * dimension)


async def _seed(data_dir: Path, total: int, dimension: int) -> float:
    from bulkops.server.app import serve_local
    from bulkops.server.config import ServerConfig

    started = time.perf_counter()
    async with serve_local(ServerConfig(data_dir=data_dir)) as server:
        await server.create_index_direct(INDEX, dimension=dimension)
        await server.seed(INDEX, NAMESPACE, _records(total, dimension), batch=20_000)
    return time.perf_counter() - started


# --- children (one fresh process per measured run) ---------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: the latter survives exec, so a child started
    from a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: best effort


async def _child_bulkops(url: str, prefix: str, out: str) -> dict[str, Any]:
    import bulkops

    started = time.perf_counter()
    report = await bulkops.export(
        index=INDEX,
        controller_host=url,
        api_key=API_KEY,
        namespace=NAMESPACE,
        prefix=prefix,
        to=out,
        limits="default",
    )
    wall = time.perf_counter() - started
    peak = _peak_rss_mb()  # before reading the output back
    distinct = _distinct_ids(out)
    return {
        "exported": report.exported,
        "distinct_ids_in_file": distinct,
        "records_per_second": round(report.records_per_second, 1),
        "rate_vs_bound": round(report.records_per_second / BOUND, 4),
        "requests": dict(report.requests),
        "rate_limited": report.rate_limited,
        "retries": report.retries,
        "elapsed": round(report.elapsed, 2),
        "wall": round(wall, 2),
        "peak_rss_mb": round(peak, 1),
    }


def _distinct_ids(path: str) -> int:
    with open(path, "rb") as fh:
        return len({orjson.loads(line)["id"] for line in fh})


def _child_sdk(url: str, prefix: str, out: str, seconds: float) -> dict[str, Any]:
    from pinecone import Pinecone

    pc = Pinecone(api_key=API_KEY, host=url)
    index = pc.Index(name=INDEX)
    written = 0
    started = time.perf_counter()
    with open(out, "wb") as fh:
        for page in index.list(prefix=prefix, namespace=NAMESPACE):  # 10.2 yields ListResponse pages
            ids = [item.id for item in page.vectors]
            fetched = index.fetch(ids=ids, namespace=NAMESPACE)
            for record_id, vector in fetched.vectors.items():
                doc: dict[str, Any] = {"id": record_id, "values": list(vector.values)}
                if vector.metadata:
                    doc["metadata"] = dict(vector.metadata)
                fh.write(orjson.dumps(doc) + b"\n")
                written += 1
            if time.perf_counter() - started >= seconds:
                break
    elapsed = time.perf_counter() - started
    return {
        "written": written,
        "seconds": round(elapsed, 2),
        "records_per_second": round(written / elapsed, 1),
        "time_boxed": True,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def _child(spec: dict[str, Any]) -> None:
    if spec["who"] == "bulkops":
        result = asyncio.run(_child_bulkops(spec["url"], spec["prefix"], spec["out"]))
    else:
        result = _child_sdk(spec["url"], spec["prefix"], spec["out"], spec["seconds"])
    print(orjson.dumps(result).decode(), flush=True)


def _run_child(spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", orjson.dumps(spec).decode()],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{spec['who']} run failed: {proc.stderr[-3000:]}")
    result: dict[str, Any] = orjson.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --- the benchmark ----------------------------------------------------------------------------------


def run(
    *,
    small: int = 100_000,
    big: int = 1_000_000,
    dimension: int = 16,
    latency_ms: float = 25.0,
    sdk_seconds: float = 20.0,
) -> dict[str, Any]:
    """Seed, run the three exports against one ``bulkops serve`` child; return the figures."""
    from bulkops.server.process import ServerProcess

    prefixes = {100_000: "doc-00", 10_000: "doc-000"}  # IDs are doc- and 7 digits
    if small not in prefixes or big < small:
        raise ValueError("small must be 100000 or 10000, and big at least small")
    small_prefix = prefixes[small]
    workdir = Path(tempfile.mkdtemp(prefix="export-bench-"))
    try:
        seed_seconds = asyncio.run(_seed(workdir / "data", max(big, small), dimension))
        args = ["--data-dir", str(workdir / "data"), "--latency", f"{latency_ms:g}", "--limits", "default"]
        with ServerProcess(args) as server:
            base = {"url": server.url}
            ours_small = _run_child(
                base | {"who": "bulkops", "prefix": small_prefix, "out": str(workdir / "small.jsonl")}
            )
            ours_big = _run_child(
                base | {"who": "bulkops", "prefix": "doc-", "out": str(workdir / "big.jsonl")}
            )
            sdk = _run_child(
                base
                | {
                    "who": "sdk",
                    "prefix": small_prefix,
                    "out": str(workdir / "sdk.jsonl"),
                    "seconds": sdk_seconds,
                }
            )
        assert ours_small["exported"] == ours_small["distinct_ids_in_file"] == small, ours_small
        assert ours_big["exported"] == ours_big["distinct_ids_in_file"] == big, ours_big
        return {
            "records_small": small,
            "records_big": big,
            "dimension": dimension,
            "latency_ms": latency_ms,
            "limits": "default",
            "bound_records_per_second": BOUND,
            "seed_seconds": round(seed_seconds, 1),
            "bulkops_small": ours_small,
            "bulkops_big": ours_big,
            "sdk": sdk,
            "bulkops_vs_bound": ours_small["rate_vs_bound"],
            "bulkops_big_vs_bound": ours_big["rate_vs_bound"],
            "bulkops_vs_sdk": round(ours_small["records_per_second"] / sdk["records_per_second"], 2)
            if sdk["records_per_second"]
            else None,
            "peak_rss_big_vs_small": round(ours_big["peak_rss_mb"] / ours_small["peak_rss_mb"], 3),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(orjson.loads(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--dimension", type=int, default=16)
    parser.add_argument("--latency", type=float, default=25.0)
    parser.add_argument("--sdk-seconds", type=float, default=20.0)
    args = parser.parse_args()
    result = run(
        small=args.small,
        big=args.big,
        dimension=args.dimension,
        latency_ms=args.latency,
        sdk_seconds=args.sdk_seconds,
    )
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
