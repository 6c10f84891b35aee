"""Purge by prefix on the local server: bulkops vs the documented bound vs the official SDK loop.

    /tmp/venv/bin/python benchmarks/purge_prefix.py [--total 1000000] [--target 500000] [--latency 25]
                                                    [--sdk-seconds 60]

The server runs in a child process (``bulkops serve --data-dir ... --latency 25``, default limits),
seeded with two identical indexes: ``purge-a`` (bulkops) and ``purge-b`` (the SDK). IDs look like
``tenant-007#doc-000123#chunk-04``; the target prefix is ``tenant-007#``.

* bulkops: ``bulkops.purge(prefix=...)`` to the end, verification included in the report (not in
  the rate: the rate is over the deleting phase).
* SDK 10.2.0: ``for page in index.list(prefix=..., namespace=...): index.delete(ids=[v.id for v in
  page.vectors], ...)`` (10.2 yields pages, not ID lists). A
  sequential loop runs at a steady rate, so it is time-boxed (``--sdk-seconds``, 0 = to the end) and
  its IDs/s measured over that time; the report says so.

Bound: list 200 req/s × 100 IDs per page = 20,000 IDs/s (the delete limits are far above that).
``run(...)`` returns the figures as a dict; the harness can import it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import orjson

DIM = 8
NAMESPACE = "bench"
PREFIX = "tenant-007#"
BOUND_IDS_PER_SECOND = 200 * 100


def _ids(total: int, target: int) -> Iterator[str]:
    """``target`` IDs under PREFIX, the rest spread over neighbouring tenants (same shape)."""
    for n in range(target):
        yield f"{PREFIX}doc-{n // 10:06d}#chunk-{n % 10:02d}"
    others = total - target
    for n in range(others):
        tenant = (n % 12) + (1 if n % 12 >= 7 else 0)  # 0..12 except 7
        yield f"tenant-{tenant:03d}#doc-{n // 12 // 10:06d}#chunk-{n % 10:02d}"


async def _seed(data_dir: Path, total: int, target: int) -> float:
    from bulkops.models import Record
    from bulkops.server import LocalServer, ServerConfig

    started = time.perf_counter()
    server = LocalServer(ServerConfig(data_dir=data_dir, limits=None))
    await server.start()
    try:
        values = tuple(float(i) / DIM for i in range(DIM))
        for name in ("purge-a", "purge-b"):
            await server.create_index_direct(name, dimension=DIM)
            await server.seed(name, NAMESPACE, (Record(i, values) for i in _ids(total, target)), batch=20_000)
    finally:
        await server.close()
    return time.perf_counter() - started


async def _bulkops(url: str, target: int) -> dict[str, Any]:
    import bulkops

    started = time.perf_counter()
    report = await bulkops.purge(
        index="purge-a",
        api_key="bench-key",
        controller_host=url,
        namespace=NAMESPACE,
        prefix=PREFIX,
        verify_delay=1.0,
    )
    wall = time.perf_counter() - started
    assert report.deleted == target, report
    return {
        "deleted": report.deleted,
        "requests": report.requests,
        "rate_limited": report.rate_limited,
        "retries": report.retries,
        "deleting_ids_per_second": round(report.ids_per_second, 1),
        "rate_vs_bound": round(report.rate_vs_bound or 0.0, 4),
        "verification_remaining": report.verification.remaining,
        "wall_seconds_including_verification": round(wall, 2),
    }


def _sdk(url: str, seconds: float) -> dict[str, Any]:
    from pinecone import Pinecone

    pc = Pinecone(api_key="bench-key", host=url)
    index = pc.Index(name="purge-b")
    deleted = 0
    pages = 0
    started = time.perf_counter()
    for page in index.list(prefix=PREFIX, namespace=NAMESPACE):  # SDK 10.2 yields ListResponse pages
        ids = [item.id for item in page.vectors]
        index.delete(ids=ids, namespace=NAMESPACE)
        deleted += len(ids)
        pages += 1
        if seconds and time.perf_counter() - started >= seconds:
            break
    elapsed = time.perf_counter() - started
    return {
        "deleted": deleted,
        "pages": pages,
        "seconds": round(elapsed, 2),
        "ids_per_second": round(deleted / elapsed, 1),
        "time_boxed": bool(seconds),
    }


def _seed_in_child(data_dir: Path, total: int, target: int) -> None:
    """Seed in a child process, so this process's memory figures are the purge's alone."""
    code = "import sys, anyio; from benchmarks.purge_prefix import _seed; "
    code += "anyio.run(_seed, __import__('pathlib').Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))"
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code, str(data_dir), str(total), str(target)], check=True, cwd=root)


def _peak_rss_watch(pid: int, stop: threading.Event, out: list[int]) -> None:
    import psutil

    proc = psutil.Process(pid)
    out.append(proc.memory_info().rss)
    while not stop.wait(0.2):
        out.append(proc.memory_info().rss)


def run(
    *,
    total: int = 1_000_000,
    target: int = 500_000,
    latency_ms: float = 25.0,
    sdk_seconds: float = 60.0,
    seeded: Path | None = None,
) -> dict[str, Any]:
    """Seed, run bulkops then the SDK loop against one ``bulkops serve`` child; return the figures.

    ``seeded``: a data directory seeded earlier with the same ``total``/``target`` (copied, not used
    in place; it is created on first use), to skip the seeding on repeated runs.
    """
    import os

    from bulkops.server.process import ServerProcess

    workdir = Path(tempfile.mkdtemp(prefix="purge-bench-"))
    try:
        if seeded is not None:
            started = time.perf_counter()
            if not seeded.exists():
                _seed_in_child(seeded, total, target)
            shutil.copytree(seeded, workdir / "data")
            seed_seconds = time.perf_counter() - started
        else:
            started = time.perf_counter()
            _seed_in_child(workdir / "data", total, target)
            seed_seconds = time.perf_counter() - started
        args = ["--data-dir", str(workdir / "data"), "--latency", f"{latency_ms:g}", "--limits", "default"]
        rss: list[int] = []
        stop = threading.Event()
        watcher = threading.Thread(target=_peak_rss_watch, args=(os.getpid(), stop, rss), daemon=True)
        with ServerProcess(args) as server:
            watcher.start()
            ours = anyio.run(_bulkops, server.url, target)
            stop.set()
            sdk = _sdk(server.url, sdk_seconds)
        speedup = ours["deleting_ids_per_second"] / sdk["ids_per_second"] if sdk["ids_per_second"] else None
        return {
            "records": total,
            "under_prefix": target,
            "latency_ms": latency_ms,
            "limits": "default",
            "bound_ids_per_second": BOUND_IDS_PER_SECOND,
            "seed_seconds": round(seed_seconds, 1),
            "bulkops": ours,
            "bulkops_process_rss_mb_before": round(rss[0] / 2**20, 1) if rss else None,
            "bulkops_process_peak_rss_mb": round(max(rss, default=0) / 2**20, 1),
            "sdk": sdk,
            "bulkops_vs_bound": ours["rate_vs_bound"],
            "bulkops_vs_sdk": round(speedup, 2) if speedup else None,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--target", type=int, default=500_000)
    parser.add_argument("--latency", type=float, default=25.0)
    parser.add_argument("--sdk-seconds", type=float, default=60.0)
    parser.add_argument("--seeded", type=Path, default=None, help="reuse (copy) a seeded data directory")
    args = parser.parse_args()
    result = run(
        total=args.total,
        target=args.target,
        latency_ms=args.latency,
        sdk_seconds=args.sdk_seconds,
        seeded=args.seeded,
    )
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
