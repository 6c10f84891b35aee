"""What the local server sustains on this machine with limits off: list pages/s and fetch
records/s (1000 IDs per request, dimension 128). The server runs as a child process
(``bulkops serve``), the load comes from this process over HTTP, both on the same box.

    /tmp/venv/bin/python benchmarks/server_throughput.py [--records 100000] [--seconds 5] [--workers 8]

The documented Pinecone limits it must comfortably exceed: list 200 req/s, fetch 100 req/s per index.
Besides the achieved rates (which depend on what else runs on the box), it reports the server
process's CPU time per request and the rate that implies for one free core: the figure that does
not move when other work shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable

import aiohttp
import numpy as np
import orjson
import psutil
from yarl import URL

from bulkops.server.process import ServerProcess

DIM = 128
HEADERS = {"X-Pinecone-Api-Version": "2025-04", "Content-Type": "application/json"}


async def _load(http: aiohttp.ClientSession, host: str, records: int) -> None:
    rng = np.random.default_rng(0)
    for start in range(0, records, 1000):
        values = rng.random((min(1000, records - start), DIM), dtype=np.float32)
        vectors = [{"id": f"rec-{start + i:08d}", "values": row} for i, row in enumerate(values)]
        body = orjson.dumps({"vectors": vectors, "namespace": "bench"}, option=orjson.OPT_SERIALIZE_NUMPY)
        async with http.post(f"{host}/vectors/upsert", data=body, headers=HEADERS) as response:
            assert response.status == 200, await response.text()


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


async def _run_for(
    seconds: float, workers: int, one: Callable[[int], Awaitable[int]]
) -> tuple[int, int, float]:
    """Run ``one`` in ``workers`` loops for ``seconds``; returns (requests, items, elapsed)."""
    deadline = time.perf_counter() + seconds
    counts = [0, 0]

    async def loop(worker: int) -> None:
        while time.perf_counter() < deadline:
            items = await one(worker)  # not `counts[1] += await ...`: that reads before awaiting
            counts[1] += items
            counts[0] += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in range(workers)))
    return counts[0], counts[1], time.perf_counter() - started


async def main(records: int, seconds: float, workers: int, in_memory: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        storage = ["--in-memory"] if in_memory else ["--data-dir", tmp]
        with ServerProcess([*storage, "--limits", "none"]) as server:
            connector = aiohttp.TCPConnector(limit=workers)
            async with aiohttp.ClientSession(connector=connector) as http:
                create = {"name": "bench", "dimension": DIM, "metric": "cosine",
                          "spec": {"serverless": {"cloud": "aws", "region": "us-east-1"}}}  # fmt: skip
                async with http.post(f"{server.url}/indexes", json=create, headers=HEADERS) as response:
                    host = (await response.json())["host"]
                loaded = time.perf_counter()
                await _load(http, host, records)
                load_s = time.perf_counter() - loaded
                tokens: dict[int, str | None] = {}

                async def list_page(worker: int) -> int:
                    params = {"namespace": "bench", "limit": "100", "prefix": f"rec-0000{worker % 10}"}
                    if tokens.get(worker):
                        params["paginationToken"] = tokens[worker]  # type: ignore[assignment]
                    async with http.get(f"{host}/vectors/list", params=params, headers=HEADERS) as response:
                        body = orjson.loads(await response.read())
                    tokens[worker] = body.get("pagination", {}).get("next")
                    return len(body["vectors"])

                rng = random.Random(1)

                # URLs built up front, answers counted without decoding: measure the server, not this client.
                starts = [rng.randrange(0, max(1, records - 1000)) for _ in range(64)]
                queries = ["&".join(f"ids=rec-{i:08d}" for i in range(s, s + 1000)) for s in starts]
                urls = [URL(f"{host}/vectors/fetch?namespace=bench&{q}", encoded=True) for q in queries]

                async def fetch_batch(worker: int) -> int:
                    async with http.get(urls[rng.randrange(len(urls))], headers=HEADERS) as response:
                        assert response.status == 200
                        body = await response.read()
                    return body.count(b'{"id":"')

                proc = psutil.Process(server.pid)
                cpu0 = _cpu(proc)
                lists, listed, list_s = await _run_for(seconds, workers, list_page)
                cpu1 = _cpu(proc)
                fetches, fetched, fetch_s = await _run_for(seconds, workers, fetch_batch)
                cpu2 = _cpu(proc)
    print(f"storage: {'memory' if in_memory else 'SQLite WAL data dir'}; records: {records}; dim {DIM}; "
          f"workers: {workers}; {seconds:g} s per phase")  # fmt: skip
    print(f"load (upsert 1000/request): {records / load_s:,.0f} records/s")
    list_rate, fetch_rate = lists / list_s, fetches / fetch_s
    print(f"list  (limit 100): {list_rate:,.0f} pages/s ({listed / list_s:,.0f} IDs/s)")
    print(f"      vs documented 200 req/s per index: x{list_rate / 200:.1f}")
    list_cpu = (cpu1 - cpu0) / lists
    print(f"      server CPU {list_cpu * 1000:.2f} ms/page -> {1 / list_cpu:,.0f} pages/s per free core")
    print(f"fetch (1000 IDs): {fetch_rate:,.1f} req/s = {fetched / fetch_s:,.0f} records/s")
    print(f"      vs documented 100 req/s per index: x{fetch_rate / 100:.2f}")
    fetch_cpu = (cpu2 - cpu1) / fetches
    print(f"      server CPU {fetch_cpu * 1000:.2f} ms/request -> {1 / fetch_cpu:,.0f} req/s per free core")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--in-memory", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.records, args.seconds, args.workers, args.in_memory))
