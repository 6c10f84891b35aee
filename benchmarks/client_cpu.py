"""Client CPU per request: bulkops vs the official pinecone SDK 10.2.0, same local server, one run.

The server runs in a child process (``bulkops serve``), so ``time.process_time()`` in this process
counts only the client's work: building the request, the HTTP stack, parsing the answer, and (for
bulkops) rate limiting, retries bookkeeping and stats. Requests are sent one at a time; the figure
is CPU milliseconds per call, and the ratio SDK ÷ bulkops.

Operations: fetch of 1000 IDs, delete of 1000 IDs, one list page (100 IDs).

    /tmp/venv/bin/python benchmarks/client_cpu.py --calls 200 --dimension 32

Fetch is reported twice for bulkops: with the default 8000-byte URL budget (1000 IDs of 9
characters need 2 requests) and with the budget raised so that, like the SDK, one request is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bulkops.api import Client
from bulkops.models import Record
from bulkops.server.process import ServerProcess

API_KEY = "bench-key"
INDEX = "cpu-bench"
NAMESPACE = "ns"


@dataclass
class Row:
    client: str
    operation: str
    calls: int
    cpu_ms_per_call: float
    wall_ms_per_call: float


def _ids(count: int) -> list[str]:
    return [f"id-{i:06d}" for i in range(count)]


async def _seed(url: str, dimension: int) -> str:
    async with Client(API_KEY, url, limits="none") as client:
        if not await client.control.has_index(INDEX):
            await client.control.create_index(INDEX, dimension=dimension)
            await client.control.wait_until_index_ready(INDEX, timeout=30, poll_interval=0.05)
        return (await client.index(name=INDEX)).host


async def _reseed(url: str, dimension: int) -> None:
    async with Client(API_KEY, url, limits="none") as client:
        index = await client.index(name=INDEX)
        vectors = [Record(i, [0.001 * n] * dimension, metadata={"n": n}) for n, i in enumerate(_ids(1000))]
        for start in range(0, 1000, 250):
            await index.upsert(vectors[start : start + 250], namespace=NAMESPACE)
        await index.upsert([Record("zz-keep", [1.0] * dimension)], namespace=NAMESPACE)


def _measure_sync(client: str, operation: str, calls: int, work: Callable[[], object]) -> Row:
    work()  # warm up (connections, caches)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        work()
    return Row(
        client,
        operation,
        calls,
        (time.process_time() - cpu) * 1e3 / calls,
        (time.perf_counter() - wall) * 1e3 / calls,
    )


async def _measure_async(
    client: str, operation: str, calls: int, work: Callable[[], Awaitable[object]]
) -> Row:
    await work()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await work()
    return Row(
        client,
        operation,
        calls,
        (time.process_time() - cpu) * 1e3 / calls,
        (time.perf_counter() - wall) * 1e3 / calls,
    )


async def _bulkops_rows(url: str, host: str, calls: int, dimension: int, limits: str) -> list[Row]:
    ids = _ids(1000)
    rows: list[Row] = []
    name = f"bulkops ({limits})"
    await _reseed(url, dimension)
    async with Client(API_KEY, url, limits=limits) as client:
        index = client.index_at(host, name=INDEX)
        rows.append(
            await _measure_async(
                name,
                "fetch 1000 ids (8000 B URL budget)",
                calls,
                lambda: index.fetch(ids, namespace=NAMESPACE),
            )
        )
    async with Client(API_KEY, url, limits=limits, max_fetch_url_bytes=1_000_000) as client:
        index = client.index_at(host, name=INDEX)
        rows.append(
            await _measure_async(
                name, "fetch 1000 ids (1 request)", calls, lambda: index.fetch(ids, namespace=NAMESPACE)
            )
        )
        rows.append(
            await _measure_async(
                name, "list page (100 ids)", calls, lambda: index.list_page(namespace=NAMESPACE, limit=100)
            )
        )
        rows.append(
            await _measure_async(
                name, "delete 1000 ids", calls, lambda: index.delete_ids(ids, namespace=NAMESPACE)
            )
        )
    return rows


def _sdk_sync_rows(url: str, host: str, calls: int, dimension: int) -> list[Row]:
    from pinecone import Pinecone

    ids = _ids(1000)
    asyncio.run(_reseed(url, dimension))
    pc = Pinecone(api_key=API_KEY, host=url)
    index = pc.Index(host=host)
    name = "pinecone 10.2.0 (sync)"
    rows = [
        _measure_sync(
            name, "fetch 1000 ids (1 request)", calls, lambda: index.fetch(ids=ids, namespace=NAMESPACE)
        ),
        _measure_sync(
            name, "list page (100 ids)", calls, lambda: index.list_paginated(namespace=NAMESPACE, limit=100)
        ),
        _measure_sync(name, "delete 1000 ids", calls, lambda: index.delete(ids=ids, namespace=NAMESPACE)),
    ]
    close = getattr(index, "close", None)
    if close is not None:
        close()
    return rows


async def _sdk_async_rows(url: str, host: str, calls: int, dimension: int) -> list[Row]:
    from pinecone import AsyncPinecone

    ids = _ids(1000)
    await _reseed(url, dimension)
    name = "pinecone 10.2.0 (async)"
    async with AsyncPinecone(api_key=API_KEY, host=url) as pc:
        index = await pc.index(host=host)
        rows = [
            await _measure_async(
                name, "fetch 1000 ids (1 request)", calls, lambda: index.fetch(ids=ids, namespace=NAMESPACE)
            ),
            await _measure_async(
                name,
                "list page (100 ids)",
                calls,
                lambda: index.list_paginated(namespace=NAMESPACE, limit=100),
            ),
            await _measure_async(
                name, "delete 1000 ids", calls, lambda: index.delete(ids=ids, namespace=NAMESPACE)
            ),
        ]
        close = getattr(index, "close", None)
        if close is not None:
            await close()
    return rows


def _report(rows: list[Row]) -> None:
    print(f"{'client':28} {'operation':38} {'calls':>6} {'CPU ms/call':>12} {'wall ms/call':>13}")
    for row in rows:
        cpu, wall = row.cpu_ms_per_call, row.wall_ms_per_call
        print(f"{row.client:28} {row.operation:38} {row.calls:6d} {cpu:12.3f} {wall:13.3f}")
    print()
    ours = {r.operation: r for r in rows if r.client == "bulkops (none)"}
    for sdk in sorted({r.client for r in rows if r.client.startswith("pinecone")}):
        for row in (r for r in rows if r.client == sdk):
            if row.operation in ours:
                ratio = row.cpu_ms_per_call / ours[row.operation].cpu_ms_per_call
                print(f"CPU {sdk} ÷ bulkops (none), {row.operation}: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=200, help="calls per operation and client")
    parser.add_argument("--dimension", type=int, default=32)
    parser.add_argument(
        "--repeats", type=int, default=1, help="repeat the whole comparison; medians reported"
    )
    args = parser.parse_args()

    with ServerProcess(["--limits", "none", "--api-key", API_KEY]) as server:
        host = asyncio.run(_seed(server.url, args.dimension))
        runs: list[list[Row]] = []
        for _ in range(args.repeats):
            rows = asyncio.run(_bulkops_rows(server.url, host, args.calls, args.dimension, "none"))
            rows += asyncio.run(_bulkops_rows(server.url, host, args.calls, args.dimension, "default"))
            rows += _sdk_sync_rows(server.url, host, args.calls, args.dimension)
            rows += asyncio.run(_sdk_async_rows(server.url, host, args.calls, args.dimension))
            runs.append(rows)
    merged = [
        Row(
            first.client,
            first.operation,
            first.calls,
            statistics.median(run[i].cpu_ms_per_call for run in runs),
            statistics.median(run[i].wall_ms_per_call for run in runs),
        )
        for i, first in enumerate(runs[0])
    ]
    _report(merged)


if __name__ == "__main__":
    main()
