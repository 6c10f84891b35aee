"""The official SDK's asyncio client (``pinecone.AsyncIndex``) with a bounded gather.

What a careful user writes: a semaphore of ``concurrency`` around each unit of work, a connection pool
of the same size, progress off. Listing stays one chain per namespace (the API hands out one page per
round trip and the next token comes with it); each page's deletes / fetches (and, for a copy, the
upserts of what was fetched) run concurrently with the listing. With many namespaces, each namespace
is one unit of work (list it, fetch it, write or upsert it), ``concurrency`` namespaces at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

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
    target: Any = None
    if spec.target_host:
        target = AsyncIndex(
            host=spec.target_host, api_key=spec.target_api_key, connection_pool_maxsize=concurrency + 2
        )
    semaphore = asyncio.Semaphore(concurrency)
    pending: set[asyncio.Task[None]] = set()
    out = sdk_wire.RecordOut(spec.output_file, spec.format) if spec.output_file else None

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

    async def list_batches(ns: str, prefix: str | None) -> AsyncIterator[list[str]]:
        async for page in index.list(prefix=prefix, namespace=ns):
            yield [str(item.id) for item in page.vectors]

    async def id_batches(size: int) -> AsyncIterator[list[str]]:
        assert spec.ids_file
        for chunk in sdk_wire.chunks(sdk_wire.read_ids(spec.ids_file), size):
            yield chunk

    async def fetch_and_move(ns: str, ids: list[str]) -> int:
        """Fetch ``ids``; write them (export) or upsert them into the target (copy)."""
        fetched = await index.fetch(ids=ids, namespace=ns)
        vectors = list(fetched.vectors.values())
        if out is not None:
            return out.write(ns, vectors)
        for batch in sdk_wire.upsert_chunks(vectors, "rest"):
            await target.upsert(vectors=batch, namespace=ns, show_progress=False)
        return len(vectors)

    def delete(ns: str, ids: list[str]) -> Callable[[], Awaitable[int]]:
        async def work() -> int:
            await index.delete(ids=ids, namespace=ns)
            return len(ids)

        return work

    def move(ns: str, ids: list[str]) -> Callable[[], Awaitable[int]]:
        return lambda: fetch_and_move(ns, ids)

    def whole_namespace(ns: str) -> Callable[[], Awaitable[int]]:
        async def work() -> int:
            done = 0
            async for ids in list_batches(ns, None):
                done += await fetch_and_move(ns, ids)
            return done

        return work

    def upsert(batch: list[dict[str, object]]) -> Callable[[], Awaitable[int]]:
        async def work() -> int:
            await index.upsert(vectors=batch, namespace=spec.namespace, show_progress=False)
            return len(batch)

        return work

    async def drive() -> None:
        ns = spec.namespace
        if spec.many_namespaces:
            async for page in index.list_namespaces():
                for description in page.namespaces:
                    await submit(whole_namespace(str(description.name)))
        elif spec.scenario == "purge-prefix":
            async for ids in list_batches(ns, spec.prefix):
                await submit(delete(ns, ids))
        elif spec.scenario == "purge-ids":
            async for ids in id_batches(1000):
                await submit(delete(ns, ids))
        elif spec.scenario in ("export-prefix", "copy"):
            async for ids in list_batches(ns, spec.prefix):
                await submit(move(ns, ids))
        elif spec.scenario == "export-ids":
            async for ids in id_batches(int(spec.extra.get("fetch_batch", 1000))):
                await submit(move(ns, ids))
        elif spec.scenario == "import":
            assert spec.input_file
            for batch in sdk_wire.upsert_chunks(sdk_wire.read_input(spec.input_file, spec.format), "rest"):
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
        if target is not None:
            await target.close()
        if out is not None:
            out.close()
    outcome.extra["elapsed_inner_s"] = time.perf_counter() - started
    outcome.requests = sdk_wire.COUNTS.attempts
    outcome.http_429 = sdk_wire.COUNTS.http_429
    outcome.retries = sdk_wire.COUNTS.retries
    return outcome
