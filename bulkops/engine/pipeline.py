"""The streaming pipeline: ID source → batcher → workers, in one task group, with flat memory.

::

    source.run ──pages──▶ batch_pages ──batches──▶ workers (≤ max_workers tasks)
                 (bounded)               (bounded)   each: checkpoint in-flight → work(ids) → ack step

The streams are small and bounded, so a slow stage stops the ones before it and memory does not grow
with the job. Workers are started as batches wait for one (up to ``max_workers``), so a small job (a
namespace of five records) holds one, not 32; the number allowed to run a request at once follows
Little's law on the work's rate limit and the measured latency (:mod:`bulkops.engine.concurrency`).
Rate limiting and retries live in the DataPlane client the ``work`` function calls.

Every acknowledged batch is one checkpoint step: the batch leaves the in-flight table, the chains whose
watermark moved are saved, the counters grow (``counter`` by the batch's IDs, plus any counts ``work``
returns, e.g. a copy's records upserted and IDs not found, so they are exact across crashes). A failure
or cancellation stops the task group; a final save of the chains follows (synchronous: nothing can
interrupt it); batches that were in flight stay recorded and are redone first on resume (``work`` must
be idempotent: deletes and upserts are). Several pipelines may run at once on one checkpoint (one per
namespace, each its own ``scope``): batch ids come from the checkpoint, so they never collide.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream

from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.batcher import Batch, WatermarkTracker, batch_pages
from bulkops.engine.checkpoint import Checkpoint, CheckpointStep
from bulkops.engine.concurrency import LatencyTracker, in_flight_for
from bulkops.engine.sources import IdSource, Page
from bulkops.models import MAX_IDS_PER_REQUEST

__all__ = ["PipelineStats", "Progress", "run_pipeline"]

Work = Callable[[Sequence[str]], Awaitable[Mapping[str, int] | None]]
"""Handles one batch of IDs; may return counts to add in the step that acknowledges the batch."""


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot for progress callbacks; counts are cumulative over resumed runs."""

    processed: int
    batches: int
    elapsed: float
    workers: int


@dataclass(frozen=True, slots=True)
class PipelineStats:
    processed: int  # IDs handed to work and acknowledged in this run (redone in-flight ones included)
    batches: int
    redone: int  # IDs of in-flight batches redone at start
    elapsed: float
    max_workers_used: int


class _Counter:
    def __init__(self) -> None:
        self.processed = 0
        self.batches = 0
        self.peak_workers = 0
        self.active = 0


async def run_pipeline(
    source: IdSource,
    work: Work,
    *,
    checkpoint: Checkpoint | None = None,
    scope: str = "",
    counter: str = "processed",
    rate: float | None = None,
    max_workers: int = 32,
    batch_size: int = MAX_IDS_PER_REQUEST,
    page_buffer: int = 64,
    batch_buffer: int = 4,
    progress: Callable[[Progress], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> PipelineStats:
    """Run ``work`` over every ID ``source`` yields; see the module docstring for the guarantees."""
    started = clock.now()
    stats = _Counter()
    latency = LatencyTracker()
    limiter = anyio.CapacityLimiter(in_flight_for(rate, latency.service_time, maximum=max_workers))
    local_ids = itertools.count()
    next_batch_id = checkpoint.next_batch_id if checkpoint is not None else lambda: next(local_ids)
    base = checkpoint.counter(counter) if checkpoint else 0

    redone = 0
    if checkpoint is not None:
        for left in checkpoint.in_flight():
            if left.scope != scope:
                continue
            extra = await work(left.ids) if left.ids else None
            with checkpoint.step() as step:
                step.finish_batch(left.batch)
                step.count(counter, len(left.ids))
                _count_extra(step, extra)
            redone += len(left.ids)

    tracker = WatermarkTracker(source.chain)
    spawned = 0

    def spawn(tg: TaskGroup, receive: MemoryObjectReceiveStream[Batch]) -> None:
        nonlocal spawned
        spawned += 1
        tg.start_soon(worker, tg, receive.clone())

    async def worker(tg: TaskGroup, receive: MemoryObjectReceiveStream[Batch]) -> None:
        async with receive:
            async for batch in receive:
                if spawned < max_workers and receive.statistics().current_buffer_used:
                    spawn(tg, receive)  # batches are waiting: one more worker (up to max_workers)
                batch_id = next_batch_id()
                extra: Mapping[str, int] | None = None
                if batch.ids:
                    async with limiter:
                        stats.active += 1
                        stats.peak_workers = max(stats.peak_workers, stats.active)
                        try:
                            if checkpoint is not None:
                                with checkpoint.step() as step:
                                    step.start_batch(batch_id, scope, batch.ids)
                            t0 = clock.now()
                            extra = await work(batch.ids)
                            latency.observe(clock.now() - t0)
                        finally:
                            stats.active -= 1
                    limiter.total_tokens = in_flight_for(rate, latency.service_time, maximum=max_workers)
                moved = tracker.ack(batch.parts)
                if checkpoint is not None:
                    with checkpoint.step() as step:
                        step.save_chains(scope, moved)
                        if batch.ids:
                            step.finish_batch(batch_id)
                        step.count(counter, len(batch.ids))
                        _count_extra(step, extra)
                stats.processed += len(batch.ids)
                stats.batches += 1
                if progress is not None:
                    done = base + redone + stats.processed
                    progress(Progress(done, stats.batches, clock.now() - started, stats.active))

    page_send, page_receive = anyio.create_memory_object_stream[Page](page_buffer)
    batch_send, batch_receive = anyio.create_memory_object_stream[Batch](batch_buffer)
    try:
        # The first receiving end stays open until the end: with workers started one by one, the
        # failure of the only one must reach the batcher as the group's cancellation, not as a
        # BrokenResourceError of its own.
        async with batch_receive, anyio.create_task_group() as tg:
            tg.start_soon(source.run, page_send)
            tg.start_soon(lambda: batch_pages(page_receive, batch_send, tracker, max_ids=batch_size))
            spawn(tg, batch_receive)
    finally:
        if checkpoint is not None:
            # On the loop, not in a thread: other pipelines may be writing the same checkpoint.
            _save_chains(checkpoint, scope, source)
    return PipelineStats(
        processed=stats.processed + redone,
        batches=stats.batches,
        redone=redone,
        elapsed=clock.now() - started,
        max_workers_used=stats.peak_workers,
    )


def _save_chains(checkpoint: Checkpoint, scope: str, source: IdSource) -> None:
    with checkpoint.step() as step:
        step.save_chains(scope, source.chains)


def _count_extra(step: CheckpointStep, extra: Mapping[str, int] | None) -> None:
    for name, delta in (extra or {}).items():
        step.count(name, delta)
