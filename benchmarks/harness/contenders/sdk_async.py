"""The official SDK's asyncio client (``pinecone.AsyncIndex``) with a bounded gather.

What a careful user writes: a semaphore of ``concurrency`` around each call, a connection pool of the
same size, progress off. Listing stays one chain (the API hands out one page per round trip and the next
token comes with it); the deletes/fetches of each page run concurrently with the listing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from pinecone import AsyncIndex

from benchmarks.harness.contenders import sdk_wire
from benchmarks.harness.contenders.outcome import Outcome
from benchmarks.harness.spec import DEFAULT_SDK_CONCURRENCY, WorkerSpec

__all__ = ["run"]


def run(spec: WorkerSpec) -> Outcome:
    sdk_wire.install_counters()
    return asyncio.run(_run(spec))


async def _run(spec: WorkerSpec) -> Outcome:
    concurrency = spec.concurrency or DEFAULT_SDK_CONCURRENCY
    outcome = Outcome()
    index = AsyncIndex(host=spec.host, api_key=spec.api_key, connection_pool_maxsize=concurrency + 2)
    semaphore = asyncio.Semaphore(concurrency)
    pending: set[asyncio.Task[None]] = set()
    out = open(spec.output_file, "wb") if spec.output_file else None  # noqa: SIM115, ASYNC230 - closed below
    ns = spec.namespace

    async def submit(work: Callable[[], Awaitable[int]]) -> None:
        """Start ``work`` when the semaphore allows; at most ``concurrency`` tasks exist at once."""
        await semaphore.acquire()

        async def guarded() -> None:
            try:
                done = await work()  # not `+= await`: that reads the counter before awaiting
                outcome.processed += done
            finally:
                semaphore.release()

        task = asyncio.create_task(guarded())
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def list_batches() -> AsyncIterator[list[str]]:
        async for page in index.list(prefix=spec.prefix, namespace=ns):
            yield [str(item.id) for item in page.vectors]

    async def id_batches(size: int) -> AsyncIterator[list[str]]:
        assert spec.ids_file
        for chunk in sdk_wire.chunks(sdk_wire.read_ids(spec.ids_file), size):
            yield chunk

    def delete(ids: list[str]) -> Callable[[], Awaitable[int]]:
        async def work() -> int:
            await index.delete(ids=ids, namespace=ns)
            return len(ids)

        return work

    def fetch(ids: list[str]) -> Callable[[], Awaitable[int]]:
        async def work() -> int:
            fetched = await index.fetch(ids=ids, namespace=ns)
            assert out is not None
            out.write(b"".join(sdk_wire.vector_line(v) for v in fetched.vectors.values()))
            return len(fetched.vectors)

        return work

    def upsert(batch: list[dict[str, object]]) -> Callable[[], Awaitable[int]]:
        async def work() -> int:
            await index.upsert(vectors=batch, namespace=ns, show_progress=False)
            return len(batch)

        return work

    async def drive() -> None:
        if spec.scenario == "purge-prefix":
            async for ids in list_batches():
                await submit(delete(ids))
        elif spec.scenario == "purge-ids":
            async for ids in id_batches(1000):
                await submit(delete(ids))
        elif spec.scenario == "export-prefix":
            async for ids in list_batches():
                await submit(fetch(ids))
        elif spec.scenario == "export-ids":
            async for ids in id_batches(int(spec.extra.get("fetch_batch", 1000))):
                await submit(fetch(ids))
        elif spec.scenario == "import":
            assert spec.input_file
            size = int(spec.extra["upsert_batch"])
            for batch in sdk_wire.chunks(sdk_wire.read_jsonl(spec.input_file), size):
                await submit(upsert(batch))
        else:
            raise ValueError(f"unknown scenario {spec.scenario}")
        while pending:
            await asyncio.gather(*list(pending))

    started = time.perf_counter()
    try:
        async with asyncio.timeout(spec.budget_s):
            await drive()
    except TimeoutError:
        outcome.stopped_by_budget = True
    finally:
        for task in list(pending):
            task.cancel()
        await asyncio.gather(*list(pending), return_exceptions=True)
        await index.close()
        if out is not None:
            out.close()
    outcome.extra["elapsed_inner_s"] = time.perf_counter() - started
    outcome.requests = sdk_wire.COUNTS.attempts
    outcome.http_429 = sdk_wire.COUNTS.http_429
    outcome.retries = sdk_wire.COUNTS.retries
    return outcome
