"""The import's run loop: read → check and cut batches → upsert workers (Little's law) → collect → commit.

``on_error="stop"``: a record found unfit while batches are cut (:mod:`bulkops.jobs.load.checks`) ends
the reading there, so only the records before it are sent; a record the server refuses ends its batch
there (the halves after it are not sent) and no batch after it starts. Only batches already in flight
when the server refused it can land after it; :attr:`LoadRun.pieces` says exactly which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.concurrency import LatencyTracker, in_flight_for
from bulkops.errors import BadRequestError, RequestTooLargeError
from bulkops.jobs.groups import single_errors
from bulkops.jobs.load.batches import UpsertBatch, cut_batches, wire_size_for
from bulkops.jobs.load.report import LoadProgress, Rejection
from bulkops.jobs.load.spec import LoadOptions
from bulkops.jobs.load.watermark import FinishedSpan, OrdinalWatermark
from bulkops.limits.profiles import Profile
from bulkops.models import MAX_UPSERT_BYTES, Record
from bulkops.sinks.base import ReadItem

__all__ = ["MAX_WORKERS", "LoadRun", "Piece", "upsert_all"]


MAX_WORKERS = 16
_COMMIT_INTERVAL = 2.0
_KEEP_REJECTIONS = 1000  # stored in the checkpoint and the report; the count is always exact


@dataclass(frozen=True, slots=True)
class Piece:
    """Consecutive input records one upsert request wrote (``on_error="stop"`` keeps these)."""

    first: int  # ordinal
    count: int
    where: str  # ``in.jsonl line 12 to line 20``


class LoadRun:
    """One run of an import job: counters, worker sizing, the halving upsert, the commit step."""

    def __init__(
        self,
        dp: DataPlane,
        cp: Checkpoint,
        profile: Profile,
        options: LoadOptions,
        *,
        clock: Clock,
        progress: Callable[[LoadProgress], None] | None,
        workers: int | None,
    ) -> None:
        self.dp = dp
        self.cp = cp
        self.on_error = options.on_error
        self.commit_every = options.commit_every
        self.clock = clock
        self.progress = progress
        self.workers = workers
        self.byte_rate = profile.rate("upsert", "namespace", "bytes")
        self.request_rate = profile.rate("upsert", "namespace", "requests")
        counters = cp.counters()
        self.upserted = counters.get("upserted", 0)
        self.rejected = counters.get("rejected", 0)
        self.namespaces: dict[str, int] = dict(cp.get("namespaces", {}))
        self.rejections: list[Rejection] = [Rejection.from_json(r) for r in cp.get("rejections", [])]
        self.upserted_this_run = 0
        # Records the server accepted in batches that also held a rejected record while
        # on_error="stop": they are in the index, but the watermark cannot pass them, so a rerun
        # upserts them again (idempotent). Reported, never added to the checkpoint's counters.
        self.upserted_unconfirmed = 0
        self.rejected_unconfirmed = 0
        self.latency = LatencyTracker()
        self.avg_bytes = float(MAX_UPSERT_BYTES // 4)
        self.started = clock.now()
        self.last_commit = self.started
        self.stop_at: Rejection | None = None
        self.pieces: list[Piece] = []  # on_error="stop": what was written past the watermark

    def wanted_workers(self) -> int:
        if self.workers is not None:
            return self.workers
        rate = self.request_rate
        if self.byte_rate:
            by_bytes = self.byte_rate / max(1.0, self.avg_bytes)
            rate = min(rate, by_bytes) if rate else by_bytes
        return in_flight_for(rate, self.latency.service_time, minimum=2, maximum=MAX_WORKERS)

    def stopped_before(self, ordinal: int) -> bool:
        """``on_error="stop"`` already stopped at a record before ``ordinal``: do not send it."""
        return self.stop_at is not None and self.stop_at.ordinal < ordinal

    def reject(self, rejection: Rejection) -> None:
        if self.on_error == "stop" and (self.stop_at is None or rejection.ordinal < self.stop_at.ordinal):
            self.stop_at = rejection

    async def upsert(self, batch: UpsertBatch) -> FinishedSpan:
        """Upsert a batch; isolate and report the records the server refuses (halving)."""
        rejections: list[Rejection] = []
        upserted = 0
        stack: list[list[ReadItem]] = [batch.items]
        while stack:
            items = stack.pop()
            if self.stopped_before(items[0].ordinal):
                break  # the halves left are after the record the job stopped at
            records: list[Record] = [item.record for item in items if item.record is not None]
            try:
                started = self.clock.now()
                await self.dp.upsert(records, namespace=batch.namespace)
                self.latency.observe(self.clock.now() - started)
                upserted += len(records)
                if self.on_error == "stop":
                    where = items[0].location + (f" to {items[-1].location}" if len(items) > 1 else "")
                    self.pieces.append(Piece(items[0].ordinal, len(records), where))
            except (BadRequestError, RequestTooLargeError) as exc:
                if isinstance(exc, BadRequestError) and len(items) == 1:
                    rejection = Rejection(items[0].ordinal, items[0].location, records[0].id, exc.message)
                    rejections.append(rejection)
                    self.reject(rejection)
                    continue
                if len(items) == 1:
                    raise
                half = len(items) // 2
                stack.extend([items[half:], items[:half]])  # first half first: input order
        last = batch.items[-1].ordinal + 1
        return FinishedSpan(
            batch.first, last, upserted, batch.namespace, sorted(rejections, key=lambda r: r.ordinal)
        )

    def commit(self, mark: OrdinalWatermark, passed: list[FinishedSpan]) -> None:
        upserted = sum(d.upserted for d in passed)
        rejected = sum(len(d.rejections) for d in passed)
        for span in passed:
            if span.upserted:
                self.namespaces[span.namespace] = self.namespaces.get(span.namespace, 0) + span.upserted
            room = _KEEP_REJECTIONS - len(self.rejections)
            self.rejections.extend(span.rejections[: max(0, room)])
        with self.cp.step() as step:
            step.set("resume", mark.resume)
            step.set("watermark", mark.value)
            step.set("namespaces", self.namespaces)
            step.set("rejections", [r.to_json() for r in self.rejections])
            step.count("upserted", upserted)
            step.count("rejected", rejected)
        self.last_commit = self.clock.now()
        self.pieces = [p for p in self.pieces if p.first >= mark.value]  # the rest is behind us


async def upsert_all(
    run: LoadRun,
    mark: OrdinalWatermark,
    items: Iterator[ReadItem],
    namespace: str | None,
    *,
    batch_size: int,
    max_bytes: int,
    problem: Callable[[Record], str | None],
) -> None:
    start = mark.value
    early: list[FinishedSpan] = []  # rejections found while cutting batches (unreadable, unfit records)

    def rejected_at_read(item: ReadItem, reason: str) -> None:
        if run.stopped_before(item.ordinal):
            return  # read past the record the job stopped at: not looked at
        rejection = Rejection(item.ordinal, item.location, item.record.id if item.record else None, reason)
        mark.started(item.ordinal, item.resume)
        target = namespace if namespace is not None else (item.namespace or "")
        early.append(FinishedSpan(item.ordinal, item.ordinal + 1, 0, target, [rejection]))
        run.reject(rejection)

    skipped = (i for i in items if i.ordinal >= start)
    batches = cut_batches(
        skipped,
        namespace,
        max_records=batch_size,
        max_bytes=max_bytes,
        rejected=rejected_at_read,
        problem=problem,
        wire=wire_size_for(getattr(run.dp, "transport", None)),  # picked by now: the job described the index
    )
    batch_send, batch_recv = anyio.create_memory_object_stream[UpsertBatch](4)
    done_send, done_recv = anyio.create_memory_object_stream[FinishedSpan](MAX_WORKERS)
    limiter = anyio.CapacityLimiter(run.wanted_workers())

    async def produce(early_send: MemoryObjectSendStream[FinishedSpan]) -> None:
        async with batch_send, early_send:
            for batch in batches:
                while early:
                    await early_send.send(early.pop(0))
                if run.stopped_before(batch.first):
                    break
                mark.started(batch.first, batch.items[0].resume)
                run.avg_bytes = 0.9 * run.avg_bytes + 0.1 * batch.size
                await batch_send.send(batch)
            while early:
                await early_send.send(early.pop(0))

    async def worker(
        recv: MemoryObjectReceiveStream[UpsertBatch], send: MemoryObjectSendStream[FinishedSpan]
    ) -> None:
        async with recv, send:
            while True:
                # A worker takes a batch only once it may send it: batches waiting for a slot would
                # each hold their records (and the read buffers behind them) in memory.
                async with limiter:
                    try:
                        batch = await recv.receive()
                    except anyio.EndOfStream:
                        return
                    if run.stopped_before(batch.first):
                        continue  # after the record that stopped the job
                    done = await run.upsert(batch)
                limiter.total_tokens = run.wanted_workers()
                await send.send(done)

    async def collect() -> None:
        passed: list[FinishedSpan] = []
        try:
            await collect_into(passed)
        finally:
            # Also when a worker failed: everything below the watermark is finished, so it is safe
            # (and saves redoing it) to record it.
            run.commit(mark, passed)  # synchronous: nothing can cancel it

    async def collect_into(passed: list[FinishedSpan]) -> None:
        async with done_recv:
            async for done in done_recv:
                run.upserted_this_run += done.upserted
                if run.on_error == "stop" and done.rejections:
                    # Never finished: the watermark stays before it, so a rerun stops here again
                    # unless the record was fixed.
                    run.upserted_unconfirmed += done.upserted
                    run.rejected_unconfirmed += len(done.rejections)
                    continue
                run.upserted += done.upserted
                run.rejected += len(done.rejections)
                passed.extend(mark.finished(done))
                if run.progress is not None:
                    run.progress(LoadProgress(run.upserted, run.rejected, run.clock.now() - run.started))
                due = run.clock.now() - run.last_commit >= _COMMIT_INTERVAL
                if passed and (due or sum(d.end - d.first for d in passed) >= run.commit_every):
                    run.commit(mark, passed)
                    passed.clear()

    with single_errors():
        async with anyio.create_task_group() as tg:
            tg.start_soon(collect)
            async with done_send:
                tg.start_soon(produce, done_send.clone())
                for _ in range(MAX_WORKERS):
                    tg.start_soon(worker, batch_recv.clone(), done_send.clone())
            batch_recv.close()
