"""The export's run loop: namespaces in lanes, one page queue, shared fetch workers, one writer, the commits.

::

    lane (≤ lanes namespaces at once): ID source ──pages──┐
    lane: ID source ──pages──────────────────────────────┤──▶ page queue ──▶ fetch workers ──▶ writer ──▶ sink
    lane: fetch_by_metadata pages ───────────────────────────────────────────(records)──────▶   (pen)

Every namespace runs in a lane (:func:`bulkops.jobs.namespaces.for_each_namespace`); the fetch workers
(Little's law on the fetch budget, at most 16) serve all of them, so the index's list and fetch budgets
are shared by every namespace and a thousand small namespaces keep the budget as busy as one big one.
The writer writes one namespace at a time (:mod:`bulkops.jobs.export.pen`), so each namespace's records
stay contiguous, and commits (sink, then one checkpoint step) as :mod:`bulkops.jobs.export` describes;
the bookkeeping of written pages is :class:`bulkops.jobs.export.commits.CommitTracker`.

Memory does not grow with the number of namespaces: the lanes, the queue (per namespace and in all),
the fetches in flight and the records waiting for the pen are all bounded.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.concurrency import LatencyTracker, in_flight_for
from bulkops.engine.fanout import Chain
from bulkops.engine.sources import IdSource, Page, list_rate_meter
from bulkops.errors import BulkopsError
from bulkops.jobs.export.commits import ChainMark, CommitTracker, PageSlice
from bulkops.jobs.export.page_queue import PageQueue
from bulkops.jobs.export.pen import Output, Pen
from bulkops.jobs.export.report import ExportProgress
from bulkops.jobs.export.spec import ExportSpec
from bulkops.jobs.groups import single_errors
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.namespaces import NAMESPACE_LANES, for_each_namespace
from bulkops.jobs.selection import id_source
from bulkops.limits.profiles import Profile
from bulkops.models import LIST_PAGE_IDS, MAX_IDS_PER_REQUEST, Record
from bulkops.sinks.base import RecordSink, SinkPosition

__all__ = ["FILTER_PAGE_LIMIT", "PEN_CAPACITY", "ExportRun"]


FILTER_PAGE_LIMIT = 1000
_PAGE_QUEUE_IDS = 20 * MAX_IDS_PER_REQUEST  # backpressure: one namespace's listed IDs waiting for a fetch
_QUEUE_IDS = 40 * MAX_IDS_PER_REQUEST  # ... and every namespace's (the pen holder's always get in)
_MAX_FETCH_WORKERS = 16  # a memory cap (each holds up to 1000 records); Little's law sizes below it
PEN_CAPACITY = 5 * MAX_IDS_PER_REQUEST  # records fetched for namespaces waiting for the pen
_MIN_COMMIT_SECONDS = 1.0  # a small namespace closes a Parquet part; commits of those wait this long


@dataclass(frozen=True, slots=True)
class _Fetched:
    """Every record of ``namespace`` has been handed to the writer."""

    namespace: str


@dataclass(slots=True)
class _Lane:
    """One namespace being exported: its ID source and written pages, or its filter position."""

    namespace: str
    tracker: CommitTracker | None = None
    source: IdSource | None = None
    chain: Chain | None = None  # by filter: the position after the last written page
    outstanding: int = 0  # batches taken for a fetch and not yet handed to the writer
    listed_all: bool = False
    signalled: bool = False
    fetched: anyio.Event = field(default_factory=anyio.Event)

    def chains(self) -> list[Chain]:
        if self.tracker is not None and self.source is not None:
            return self.tracker.snapshot(self.source.chains)
        return [self.chain] if self.chain is not None else []

    def beyond(self) -> list[str]:
        return self.tracker.beyond_ids() if self.tracker is not None else []


class ExportRun:
    """One run of an export job (a resume is a new run): the namespaces' lanes, the writer, the commits."""

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
        lanes: int = NAMESPACE_LANES,
        sizes: Mapping[str, int] | None = None,
    ) -> None:
        self.dp = dp
        self.sizes = sizes or {}  # records per namespace when known (caps the list fan-out's estimates)
        self.spec = spec
        self.ids = ids
        self.sink = sink
        self.cp = cp
        self.clock = clock
        self.progress = progress
        self.target_chains = target_chains
        self.fetch_workers = fetch_workers
        self.lanes = lanes
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
        self._finished: list[str] = []  # namespaces complete since the last commit
        self._finished_this_run: set[str] = set()
        self._received: Counter[str] = Counter()  # records the writer was handed, per namespace
        self._emitted: Counter[str] = Counter()  # ... and wrote
        self._last_namespace: str | None = None  # the namespace the sink wrote last
        self._lanes: dict[str, _Lane] = {}
        self._list_meter = list_rate_meter(delegate=False)
        self.pen = Pen(PEN_CAPACITY)
        self.queue = PageQueue(
            clock,
            capacity=_PAGE_QUEUE_IDS,
            total_capacity=_QUEUE_IDS,
            min_ids=MAX_IDS_PER_REQUEST // 2,
            linger=0.02,
            pen=self.pen.holds,
        )

    # -- the whole run ----------------------------------------------------------------------------

    async def run(self, names: Sequence[str], done: set[str], holder: str | None) -> None:
        """Export every namespace of ``names`` not in ``done``; ``holder`` (the namespace partly written
        at the last commit) gets the pen and goes first."""
        todo = [ns for ns in names if ns not in done]
        if holder is not None and holder in todo:
            todo.remove(holder)
            todo.insert(0, holder)
            self.pen.holder = holder
        send, receive = anyio.create_memory_object_stream[Output | _Fetched](4)
        limiter = anyio.CapacityLimiter(self._workers_wanted())

        async def lanes() -> None:
            async with send:
                await for_each_namespace(todo, lambda ns: self._lane(ns, send), lanes=self.lanes)
                self.queue.finish()

        with single_errors():
            async with anyio.create_task_group() as tg:
                tg.start_soon(lanes)
                for _ in range(_MAX_FETCH_WORKERS):
                    tg.start_soon(self._fetch_worker, send.clone(), limiter)
                tg.start_soon(self._writer, receive)
        unfinished = [ns for ns in todo if ns not in self._finished_this_run]
        if unfinished:
            raise _lost(unfinished[0], "was never completed", len(unfinished))
        await self.commit()

    async def _lane(self, namespace: str, send: MemoryObjectSendStream[Output | _Fetched]) -> None:
        lane = _Lane(namespace)
        self._lanes[namespace] = lane
        if self.spec.selection.kind == "filter":
            await self._by_filter(lane, send)
        else:
            await self._by_ids(lane, send)
        await lane.fetched.wait()

    # -- by listing / ID file + fetch -------------------------------------------------------------

    async def _by_ids(self, lane: _Lane, send: MemoryObjectSendStream[Output | _Fetched]) -> None:
        namespace = lane.namespace
        chains = self.cp.chains(namespace)
        lane.tracker = tracker = CommitTracker(chains, self.cp.get(f"beyond:{namespace}", []))
        lane.source = source = id_source(
            self.dp,
            namespace,
            self.spec.selection,
            self.ids,
            chains,
            list_rate=self.list_rate,
            target_chains=self.target_chains,
            achieved=self._list_meter,
            clock=self.clock,
            records=self.sizes.get(namespace),
        )
        for chain in source.chains:
            tracker.marks.setdefault(chain.id, ChainMark(chain.position, chain.done))
        self.queue.open(namespace)
        page_send, page_recv = anyio.create_memory_object_stream[Page](8)

        async def pump() -> None:
            async with page_recv:
                async for page in page_recv:
                    await self.queue.put(namespace, tracker.assign(page))  # in the chain's page order
            self.queue.close(namespace)
            lane.listed_all = True

        async with anyio.create_task_group() as tg:
            tg.start_soon(source.run, page_send)
            tg.start_soon(pump)
        await self._maybe_fetched(lane, send)

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

    async def _fetch_worker(
        self, send: MemoryObjectSendStream[Output | _Fetched], limiter: anyio.CapacityLimiter
    ) -> None:
        async with send:
            while True:
                # Only the workers Little's law asks for take batches, so a batch is formed at the
                # moment a fetch can go out and holds everything queued by then.
                async with limiter:
                    taken = await self.queue.take(MAX_IDS_PER_REQUEST, self.pen.admit)
                    if taken is None:
                        return
                    namespace, slices, reserved = taken
                    lane = self._lanes[namespace]
                    lane.outstanding += 1
                    ids = list(dict.fromkeys(i for s in slices for i in s.ids))
                    records: Mapping[str, Record] = {}
                    if ids:
                        started = self.clock.now()
                        records = await self.dp.fetch(ids, namespace=namespace)
                        self.fetch_latency.observe(self.clock.now() - started)
                        self.ids_per_fetch = 0.9 * self.ids_per_fetch + 0.1 * len(ids)
                limiter.total_tokens = self._workers_wanted()
                await send.send(_output(lane, slices, ids, records, reserved))
                lane.outstanding -= 1
                await self._maybe_fetched(lane, send)

    async def _maybe_fetched(self, lane: _Lane, send: MemoryObjectSendStream[Output | _Fetched]) -> None:
        """Tell the writer once every record of the lane's namespace was handed to it."""
        if (
            lane.listed_all
            and not lane.signalled
            and lane.outstanding == 0
            and self.queue.drained(lane.namespace)
        ):
            lane.signalled = True
            await send.send(_Fetched(lane.namespace))
            self.queue.forget(lane.namespace)
            lane.fetched.set()

    # -- by metadata filter ----------------------------------------------------------------------

    async def _by_filter(self, lane: _Lane, send: MemoryObjectSendStream[Output | _Fetched]) -> None:
        filter_ = self.spec.selection.filter
        assert filter_ is not None
        namespace = lane.namespace
        lane.chain = (self.cp.chains(namespace) or [Chain(0, "")])[0]
        token = lane.chain.position
        while not lane.chain.done:
            reserved = await self.pen.wait_admit(namespace, FILTER_PAGE_LIMIT)
            page = await self.dp.fetch_by_metadata(
                filter_, namespace=namespace, limit=FILTER_PAGE_LIMIT, token=token
            )
            token = page.next_token

            def written(after: str | None = token) -> None:
                assert lane.chain is not None
                lane.chain = replace(lane.chain, position=after, done=not after)

            await send.send(Output(namespace, page.records, written, reserved))
            if not token:
                break
        lane.listed_all = True
        lane.signalled = True
        await send.send(_Fetched(namespace))
        lane.fetched.set()

    # -- the writer and the commit ----------------------------------------------------------------

    async def _writer(self, receive: MemoryObjectReceiveStream[Output | _Fetched]) -> None:
        async with receive:
            async for item in receive:
                if isinstance(item, Output):
                    self._received[item.namespace] += len(item.records)
                    for output in self.pen.arrived(item):
                        await self._emit(output)
                else:
                    for step in self.pen.fetched(item.namespace):
                        for output in step.outputs:
                            await self._emit(output)
                        if step.finished:
                            self._check_written(step.namespace)
                            self._finished.append(step.namespace)
                            self._finished_this_run.add(step.namespace)
                            self._lanes.pop(step.namespace, None)
                    self.queue.notify()  # the pen may have moved
                if self._due():
                    await self.commit()

    def _check_written(self, namespace: str) -> None:
        """Before a namespace is marked done: the writer wrote every record it was handed for it.

        A safety net under the pen's hand-offs (a pen bug once left a namespace's records waiting for
        good and the export reported it with 0 records): failing here keeps the namespace out of the
        checkpoint's done set, so the same command resumes it from the last commit."""
        received, emitted = self._received.pop(namespace, 0), self._emitted.pop(namespace, 0)
        if received != emitted:
            raise _lost(
                namespace,
                f"was about to be marked done with {received - emitted} of its {received} fetched "
                "records unwritten",
            )

    async def _emit(self, output: Output) -> None:
        """Write ``output`` to the sink and mark its pages written.

        On the loop, except when the namespace changes: a Parquet sink then closes its part file (a
        write, two fsyncs and a checksum: 2.8 ms measured for five records at dimension 1536), which in
        a thread does not stall every other namespace's requests. Every write in a thread would cost
        more than the writes (a hop per write was 7 of 9 s for 1,000 small namespaces on a loaded
        machine)."""
        records = self._shaped(output.records)
        if records:
            if output.namespace != self._last_namespace:
                self._last_namespace = output.namespace
                await anyio.to_thread.run_sync(self.sink.write, output.namespace, records)
            else:
                # Encoded here, on the loop (Python work that needs the GIL anyway); written out in a
                # worker thread when due (row groups, parts, checksums, file I/O: mostly without the
                # GIL, so it overlaps with listing and fetching).
                self.sink.write(output.namespace, records, flush=False)
                if self.sink.flush_due:
                    await anyio.to_thread.run_sync(self.sink.flush)
        self._emitted[output.namespace] += len(output.records)
        output.written()
        self.pen.written(output)
        self.queue.notify()
        self.exported += len(records)
        self.exported_this_run += len(records)
        self._pending_exported += len(records)
        self.missing += output.missing
        self._pending_missing += output.missing
        if self.progress is not None:
            self.progress(ExportProgress(output.namespace, self.exported, self.clock.now() - self.started))

    def _shaped(self, records: Sequence[Record]) -> Sequence[Record]:
        if self.spec.include_values and self.spec.include_metadata:
            return records
        return [
            Record(
                r.id,
                r.values if self.spec.include_values else (),
                r.sparse_values if self.spec.include_values else None,
                r.metadata if self.spec.include_metadata else None,
            )
            for r in records
        ]

    def _due(self) -> bool:
        idle = self.clock.now() - self.last_commit
        if not self.sink.wants_commit(idle):
            return False
        # A Parquet part closed because the namespace changed is small: wait a little for more of them
        # (each commit stores every part so far) rather than commit after every small namespace.
        return self.sink.pending >= self.spec.options.commit_every or idle >= _MIN_COMMIT_SECONDS

    async def commit(self) -> None:
        """Make the sink durable, then record in ONE checkpoint step its position, the pen holder's
        chains and beyond-set, the namespaces finished since the last commit and the counters."""
        position: SinkPosition = await anyio.to_thread.run_sync(self.sink.commit)
        pending_exported = self._pending_exported
        pending_missing = self._pending_missing
        finished = list(self._finished)
        holder = self.pen.holder
        lane = self._lanes.get(holder) if holder is not None else None
        with self.cp.step() as step:
            step.set("sink", position)
            step.set("pen", holder)
            if holder is not None and lane is not None:
                step.save_chains(holder, lane.chains())
                step.set(f"beyond:{holder}", lane.beyond())
            for namespace in finished:
                step.set(f"done:{namespace}", True)
            step.count("exported", pending_exported)
            step.count("missing", pending_missing)
        self._pending_exported -= pending_exported
        self._pending_missing -= pending_missing
        del self._finished[: len(finished)]
        self.commits += 1
        self.last_commit = self.clock.now()

    def bound(self, *, records: int, namespaces: int) -> float | None:
        """The records/s the documented limits allow: a request carries at most one namespace's records,
        so with many small namespaces (``records`` ÷ ``namespaces`` each) the bound is lower."""
        kind = self.spec.selection.kind
        per_namespace = records / namespaces if namespaces and records else math.inf
        if kind == "filter":
            return self.fbm_rate * min(FILTER_PAGE_LIMIT, per_namespace) if self.fbm_rate else None
        fetch_bound = (
            self.fetch_rate * min(MAX_IDS_PER_REQUEST, per_namespace) if self.fetch_rate else math.inf
        )
        if kind == "ids":
            return fetch_bound if fetch_bound != math.inf else None
        list_bound = self.list_rate * min(LIST_PAGE_IDS, per_namespace) if self.list_rate else math.inf
        found = min(fetch_bound, list_bound)
        return None if found == math.inf else found


def _lost(namespace: str, what: str, count: int = 1) -> BulkopsError:
    others = f" (and {count - 1} more namespaces)" if count > 1 else ""
    return BulkopsError(
        f"export stopped: namespace {namespace!r}{others} {what}, an internal error of bulkops; nothing "
        "since the last commit is recorded, so running the same command again resumes it; please report it"
    )


def _output(
    lane: _Lane, slices: list[PageSlice], ids: list[str], records: Mapping[str, Record], reserved: int
) -> Output:
    """The records fetched for ``ids`` (the IDs of ``slices`` in page order, each once, as fetched),
    and how many of them were missing; no per-ID bookkeeping beyond the fetch's own map."""
    found = [record for record in map(records.get, ids) if record is not None]
    tracker = lane.tracker
    assert tracker is not None

    def written() -> None:
        for piece in slices:
            tracker.written(piece)

    return Output(lane.namespace, found, written, reserved, len(ids) - len(found))
