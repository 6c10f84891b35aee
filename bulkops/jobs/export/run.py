"""The export's run loop: one namespace at a time, listing → page queue → fetch workers → writer → sink.

The writer commits (sink, then one checkpoint step) as :mod:`bulkops.jobs.export` describes; the
bookkeeping is :class:`bulkops.jobs.export.commits.CommitTracker`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.concurrency import LatencyTracker, in_flight_for
from bulkops.engine.fanout import Chain
from bulkops.engine.sources import IdSource, IdsSource, ListSource, Page
from bulkops.jobs.export.commits import ChainMark, CommitTracker, PageSlice
from bulkops.jobs.export.page_queue import PageQueue
from bulkops.jobs.export.report import ExportProgress
from bulkops.jobs.export.spec import ExportSpec
from bulkops.jobs.groups import single_errors
from bulkops.jobs.ids import IdsInput
from bulkops.limits.profiles import Profile
from bulkops.models import LIST_PAGE_IDS, MAX_IDS_PER_REQUEST, Record
from bulkops.sinks.base import RecordSink, SinkPosition

__all__ = ["FILTER_PAGE_LIMIT", "ExportRun"]


FILTER_PAGE_LIMIT = 1000
_PAGE_QUEUE_IDS = 20 * MAX_IDS_PER_REQUEST  # backpressure: listed IDs waiting for a fetch worker
_MAX_FETCH_WORKERS = 16  # a memory cap (each holds up to 1000 records); Little's law sizes below it


@dataclass(frozen=True, slots=True)
class _Fetched:
    """One fetch batch, ready to write: its pages, the records found (in listing order), how many IDs
    were not found."""

    slices: tuple[PageSlice, ...]
    records: list[Record]
    missing: int


class ExportRun:
    """One run of an export job (a resume is a new run): the namespaces' loops and the commits."""

    def __init__(
        self,
        dp: DataPlane,
        spec: ExportSpec,
        sink: RecordSink,
        cp: Checkpoint,
        profile: Profile,
        *,
        ids: IdsInput | None,
        clock: Clock,
        progress: Callable[[ExportProgress], None] | None,
        target_chains: int | None,
        fetch_workers: int | None,
    ) -> None:
        self.dp = dp
        self.spec = spec
        self.ids = ids
        self.sink = sink
        self.cp = cp
        self.clock = clock
        self.progress = progress
        self.target_chains = target_chains
        self.fetch_workers = fetch_workers
        self.list_rate = profile.rate("list", "index")
        self.fetch_rate = profile.rate("fetch", "index")
        self.fbm_rate = profile.rate("fetch_by_metadata", "namespace")
        counters = cp.counters()
        self.exported = counters.get("exported", 0)
        self.missing = counters.get("missing", 0)
        self.exported_this_run = 0
        self.commits = 0
        self.started = clock.now()
        self.last_commit = self.started
        # The median, not a low percentile: one batch of 1000 IDs may take several requests (the URL
        # budget), and that time is service time, not queueing.
        self.fetch_latency = LatencyTracker(percentile=0.5)
        self.ids_per_fetch = float(MAX_IDS_PER_REQUEST // 2)  # running mean of IDs per fetch batch
        self._pending_exported = 0  # written since the last commit, not yet in the counters
        self._pending_missing = 0

    # -- commit ---------------------------------------------------------------------------------

    async def commit(
        self, namespace: str, chains: list[Chain], beyond: list[str], *, namespace_done: bool
    ) -> None:
        position: SinkPosition = await anyio.to_thread.run_sync(self.sink.commit)
        pending_exported = self._pending_exported
        pending_missing = self._pending_missing
        with self.cp.step() as step:
            step.set("sink", position)
            step.save_chains(namespace, chains)
            step.set(f"beyond:{namespace}", beyond)
            step.count("exported", pending_exported)
            step.count("missing", pending_missing)
            if namespace_done:
                done = list(self.cp.get("namespaces_done", []))
                done.append(namespace)
                step.set("namespaces_done", done)
        self._pending_exported -= pending_exported
        self._pending_missing -= pending_missing
        self.commits += 1
        self.last_commit = self.clock.now()

    def _due(self) -> bool:
        return self.sink.wants_commit(self.clock.now() - self.last_commit)

    async def _write(self, namespace: str, records: Sequence[Record]) -> None:
        """Hand ``records`` to the sink: encoded here, on the loop (Python work that needs the GIL
        anyway), written out in a worker thread when due (Parquet row groups, parts and their checksums,
        file I/O: mostly without the GIL, so it overlaps with listing and fetching instead of fighting
        this thread for the GIL). Only this task writes."""
        if not self.spec.include_values or not self.spec.include_metadata:
            records = [
                Record(
                    r.id,
                    r.values if self.spec.include_values else (),
                    r.sparse_values if self.spec.include_values else None,
                    r.metadata if self.spec.include_metadata else None,
                )
                for r in records
            ]
        self.sink.write(namespace, records, flush=False)
        if self.sink.flush_due:
            await anyio.to_thread.run_sync(self.sink.flush)
        self.exported += len(records)
        self.exported_this_run += len(records)
        self._pending_exported += len(records)
        if self.progress is not None:
            self.progress(ExportProgress(namespace, self.exported, self.clock.now() - self.started))

    # -- by listing / ID file + fetch -------------------------------------------------------------

    def _source(self, namespace: str, chains: list[Chain]) -> IdSource:
        if self.ids is not None:
            return IdsSource(self.ids.open(), chains=chains or None, page_size=MAX_IDS_PER_REQUEST)
        return ListSource(
            self.dp,
            namespace=namespace,
            prefixes=self.spec.selection.prefixes,
            chains=chains or None,
            list_rate=self.list_rate,
            target_chains=self.target_chains,
            page_limit=LIST_PAGE_IDS,
            clock=self.clock,
        )

    def _workers_wanted(self) -> int:
        """Fetches in flight: Little's law on the fetch rate the job can use, not the fetch limit.

        Listing feeds at most ``list rate × 100`` IDs/s, i.e. that many ÷ (IDs per batch) fetches/s;
        more fetches in flight than that only hold more records in memory.
        """
        if self.fetch_workers is not None:
            return self.fetch_workers
        rate = self.fetch_rate
        if self.spec.selection.kind in ("prefixes", "everything") and self.list_rate:
            needed = self.list_rate * LIST_PAGE_IDS / max(1.0, self.ids_per_fetch)
            rate = min(rate, needed) if rate else needed
        return in_flight_for(rate, self.fetch_latency.service_time, minimum=4, maximum=_MAX_FETCH_WORKERS)

    async def export_by_ids(self, namespace: str) -> None:
        chains = self.cp.chains(namespace)
        tracker = CommitTracker(chains, self.cp.get(f"beyond:{namespace}", []))
        source = self._source(namespace, chains)
        for chain in source.chains:
            tracker.marks.setdefault(chain.id, ChainMark(chain.position, chain.done))
        queue = PageQueue(self.clock, capacity=_PAGE_QUEUE_IDS, min_ids=MAX_IDS_PER_REQUEST // 2, linger=0.02)
        page_send, page_recv = anyio.create_memory_object_stream[Page](64)
        done_send, done_recv = anyio.create_memory_object_stream[_Fetched](2)
        limiter = anyio.CapacityLimiter(self._workers_wanted())

        async def pump() -> None:
            async with page_recv:
                async for page in page_recv:
                    await queue.put(tracker.assign(page))  # in the chain's page order
            queue.close()

        async def fetch_worker(send: MemoryObjectSendStream[_Fetched]) -> None:
            async with send:
                while True:
                    # Only the workers Little's law asks for take batches, so a batch is formed at
                    # the moment a fetch can go out and holds everything queued by then.
                    async with limiter:
                        slices = await queue.take(MAX_IDS_PER_REQUEST)
                        if slices is None:
                            return
                        ids = list(dict.fromkeys(i for s in slices for i in s.ids))
                        records: Mapping[str, Record] = {}
                        if ids:
                            started = self.clock.now()
                            records = await self.dp.fetch(ids, namespace=namespace)
                            self.fetch_latency.observe(self.clock.now() - started)
                            self.ids_per_fetch = 0.9 * self.ids_per_fetch + 0.1 * len(ids)
                    limiter.total_tokens = self._workers_wanted()
                    found = [record for record in map(records.get, ids) if record is not None]
                    await send.send(_Fetched(tuple(slices), found, len(ids) - len(found)))

        async def writer(recv: MemoryObjectReceiveStream[_Fetched]) -> None:
            async with recv:
                async for fetched in recv:
                    self._pending_missing += fetched.missing
                    self.missing += fetched.missing
                    await self._write(namespace, fetched.records)
                    for piece in fetched.slices:
                        tracker.written(piece)
                    if self._due():
                        await self.commit(
                            namespace,
                            tracker.snapshot(source.chains),
                            tracker.beyond_ids(),
                            namespace_done=False,
                        )

        with single_errors():
            async with anyio.create_task_group() as tg:
                tg.start_soon(source.run, page_send)
                tg.start_soon(pump)
                async with done_send:
                    for _ in range(_MAX_FETCH_WORKERS):
                        tg.start_soon(fetch_worker, done_send.clone())
                tg.start_soon(writer, done_recv)
        await self.commit(namespace, tracker.snapshot(source.chains), [], namespace_done=True)

    # -- by metadata filter ----------------------------------------------------------------------

    async def export_by_filter(self, namespace: str) -> None:
        filter_ = self.spec.selection.filter
        assert filter_ is not None
        chains = self.cp.chains(namespace) or [Chain(0, "")]
        chain = chains[0]
        if not chain.done:
            token = chain.position
            while True:
                page = await self.dp.fetch_by_metadata(
                    filter_, namespace=namespace, limit=FILTER_PAGE_LIMIT, token=token
                )
                await self._write(namespace, page.records)
                token = page.next_token
                chain = replace(chain, position=token, done=not token)
                if chain.done:
                    break
                if self._due():
                    await self.commit(namespace, [chain], [], namespace_done=False)
        await self.commit(namespace, [chain], [], namespace_done=True)

    def bound(self) -> float | None:
        kind = self.spec.selection.kind
        if kind == "filter":
            return self.fbm_rate * FILTER_PAGE_LIMIT if self.fbm_rate else None
        fetch_bound = self.fetch_rate * MAX_IDS_PER_REQUEST if self.fetch_rate else math.inf
        if kind == "ids":
            return fetch_bound if fetch_bound != math.inf else None
        list_bound = self.list_rate * LIST_PAGE_IDS if self.list_rate else math.inf
        found = min(fetch_bound, list_bound)
        return None if found == math.inf else found
