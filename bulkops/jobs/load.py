"""Import (``bulkops.load``): upsert an export (JSONL or Parquet) back into an index, resumable.

Records are read in order and cut into upsert batches of at most 1000 records and 2 MB (the documented
upsert limits), per namespace; several batches are upserted at once (Little's law on the upsert byte
budget and the measured latency), under the client's scoped limits.

Resumable: every input record has an *ordinal*. Batches finish out of order; the *watermark* is the
first ordinal whose batch is not finished. The checkpoint stores the reader position of the watermark,
the counters, and the rejections before it, in one transaction. Resume re-reads from the watermark;
upserting a record twice writes the same values, so replaying the batches that were in flight is
harmless.

Rejections: a batch the server refuses with 400 (e.g. a vector of the wrong dimension) is split in
half and retried until the records it refuses are isolated. Each is reported with its file location
(line of a JSONL file, part and row of a Parquet export) and the server's reason; with
``on_error="skip"`` the rest goes on, with ``"stop"`` the job stops and raises
:class:`RecordRejectedError` (whatever was upserted before stays).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import anyio
import orjson
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.concurrency import LatencyTracker, in_flight_for
from bulkops.errors import EXIT_CODES, BadRequestError, BulkopsError, RequestTooLargeError, UsageError
from bulkops.jobs.session import (
    checkpoint_path_for,
    open_dataplane,
    run_fields,
    run_fields_from_json,
    run_fields_to_json,
)
from bulkops.jobs.task_groups import single_errors
from bulkops.limits.profiles import Profile
from bulkops.models import MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES, Record
from bulkops.sinks.base import ReadItem, SinkPosition
from bulkops.sinks.formats import open_reader
from bulkops.sinks.manifest import Manifest

__all__ = ["LoadProgress", "LoadReport", "RecordRejectedError", "Rejection", "load"]

_BODY_OVERHEAD = 1024  # {"vectors": [...], "namespace": "..."} around the records
_MAX_WORKERS = 16
_COMMIT_INTERVAL = 2.0
_KEEP_REJECTIONS = 1000  # stored in the checkpoint and the report; the count is always exact

OnError = Literal["stop", "skip"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """One input record that was not imported, where it is, and why."""

    ordinal: int
    location: str
    id: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"ordinal": self.ordinal, "location": self.location, "id": self.id, "reason": self.reason}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Rejection:
        return cls(int(doc["ordinal"]), str(doc["location"]), doc.get("id"), str(doc["reason"]))


@dataclass(frozen=True, slots=True)
class LoadProgress:
    upserted: int
    rejected: int
    elapsed: float


@dataclass(frozen=True, slots=True)
class LoadReport:
    source: Path
    upserted: int
    rejected: int
    rejections: tuple[Rejection, ...]  # the first ones (at most 1000), in input order
    namespaces: Mapping[str, int]
    requests: Mapping[str, int]
    rate_limited: int
    retries: int
    elapsed: float
    records_per_second: float
    resumed: bool
    stopped: bool = False  # on_error="stop" stopped the job at a rejected record
    extra: Mapping[str, Any] = field(default_factory=dict)


class RecordRejectedError(BulkopsError):
    """``on_error="stop"``: a record was rejected; ``report`` tells what was imported before it."""

    exit_code: ClassVar[int] = EXIT_CODES["partial"]

    def __init__(self, rejection: Rejection, report: LoadReport) -> None:
        super().__init__(
            f"{rejection.location}: {_which(rejection)} was rejected: {rejection.reason}. "
            f"{report.upserted} records were imported before the job stopped; fix the record and run "
            "again (the checkpoint resumes), or pass on_error='skip' to import the rest"
        )
        self.rejection = rejection
        self.report = report


def _which(rejection: Rejection) -> str:
    return f"record {rejection.id!r}" if rejection.id is not None else "the record"


@dataclass(slots=True)
class _Batch:
    namespace: str
    items: list[ReadItem]
    size: int

    @property
    def first(self) -> int:
        return self.items[0].ordinal


@dataclass(slots=True)
class _Done:
    first: int
    end: int  # one past the last ordinal
    upserted: int
    namespace: str
    rejections: list[Rejection]


def _wire_size(record: Record) -> int:
    return len(orjson.dumps(record.to_wire())) + 1


def _batches(
    items: Iterator[ReadItem],
    namespace: str | None,
    *,
    max_records: int,
    max_bytes: int,
    rejected: Callable[[ReadItem, str], None],
) -> Iterator[_Batch]:
    """Consecutive records of one namespace, cut at ``max_records`` or ``max_bytes`` of vector JSON."""
    current: _Batch | None = None
    for item in items:
        if item.record is None:
            if current is not None:
                yield current
                current = None
            rejected(item, item.error or "unreadable")
            continue
        ns = namespace if namespace is not None else (item.namespace or "")
        size = _wire_size(item.record)
        if size + _BODY_OVERHEAD > max_bytes:
            if current is not None:
                yield current
                current = None
            rejected(item, f"the record is {size} bytes as JSON; an upsert request holds at most {max_bytes}")
            continue
        if current is not None and (
            current.namespace != ns
            or len(current.items) >= max_records
            or current.size + size + _BODY_OVERHEAD > max_bytes
        ):
            yield current
            current = None
        if current is None:
            current = _Batch(ns, [], 0)
        current.items.append(item)
        current.size += size
    if current is not None:
        yield current


class _Watermark:
    """The first ordinal not yet finished, and a reader position at or before it to restart from."""

    def __init__(self, start: int, resume: SinkPosition | None) -> None:
        self.value = start
        self.resume = resume
        self._starts: dict[int, SinkPosition] = {}  # span start ordinal → reader position
        self._done: dict[int, _Done] = {}

    def started(self, first: int, resume: SinkPosition) -> None:
        self._starts[first] = resume

    def finished(self, done: _Done) -> list[_Done]:
        """Record ``done``; return the finished spans the watermark just passed, in order."""
        self._done[done.first] = done
        passed = []
        while self.value in self._done:
            span = self._done.pop(self.value)
            own = self._starts.pop(span.first, None)
            passed.append(span)
            self.value = span.end
            # When no span starts at the new watermark yet, restart at the span just passed:
            # re-reading it is cheap and ordinals below the watermark are skipped on resume.
            self.resume = self._starts.get(self.value, own if own is not None else self.resume)
        return passed


class _LoadRun:
    def __init__(
        self,
        dp: DataPlane,
        cp: Checkpoint,
        profile: Profile,
        *,
        on_error: OnError,
        clock: Clock,
        progress: Callable[[LoadProgress], None] | None,
        workers: int | None,
        commit_every: int,
    ) -> None:
        self.dp = dp
        self.cp = cp
        self.on_error = on_error
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
        self.latency = LatencyTracker()
        self.avg_bytes = float(MAX_UPSERT_BYTES // 4)
        self.started = clock.now()
        self.last_commit = self.started
        self.stop_at: Rejection | None = None
        self.commit_every = commit_every

    def wanted_workers(self) -> int:
        if self.workers is not None:
            return self.workers
        rate = self.request_rate
        if self.byte_rate:
            by_bytes = self.byte_rate / max(1.0, self.avg_bytes)
            rate = min(rate, by_bytes) if rate else by_bytes
        return in_flight_for(rate, self.latency.service_time, minimum=2, maximum=_MAX_WORKERS)

    async def upsert(self, batch: _Batch) -> _Done:
        """Upsert a batch; isolate and report the records the server refuses (halving)."""
        rejections: list[Rejection] = []
        upserted = 0
        stack: list[list[ReadItem]] = [batch.items]
        while stack:
            items = stack.pop()
            records = [item.record for item in items if item.record is not None]
            try:
                started = self.clock.now()
                await self.dp.upsert(records, namespace=batch.namespace)
                self.latency.observe(self.clock.now() - started)
                upserted += len(records)
            except (BadRequestError, RequestTooLargeError) as exc:
                if isinstance(exc, BadRequestError) and len(items) == 1:
                    rejection = Rejection(items[0].ordinal, items[0].location, records[0].id, exc.message)
                    rejections.append(rejection)
                    if self.on_error == "stop" and (
                        self.stop_at is None or rejection.ordinal < self.stop_at.ordinal
                    ):
                        self.stop_at = rejection
                    continue
                if len(items) == 1:
                    raise
                half = len(items) // 2
                stack.extend([items[half:], items[:half]])  # first half first: input order
        last = batch.items[-1].ordinal + 1
        return _Done(
            batch.first, last, upserted, batch.namespace, sorted(rejections, key=lambda r: r.ordinal)
        )

    def commit(self, mark: _Watermark, passed: list[_Done]) -> None:
        upserted = sum(d.upserted for d in passed)
        rejected = sum(len(d.rejections) for d in passed)
        for span in passed:
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


async def load(
    *,
    from_: str | Path,
    index: str | None = None,
    host: str | None = None,
    namespace: str | None = None,
    checkpoint: str | Path | None = None,
    on_error: OnError = "stop",
    batch_size: int = MAX_IDS_PER_REQUEST,
    max_batch_bytes: int = MAX_UPSERT_BYTES,
    api_key: str | None = None,
    controller_host: str | None = None,
    limits: str | Profile | None = "default",
    progress: Callable[[LoadProgress], None] | None = None,
    dataplane: DataPlane | None = None,
    clock: Clock = SYSTEM_CLOCK,
    workers: int | None = None,
    commit_every: int = 10_000,
    client_options: Mapping[str, Any] | None = None,
) -> LoadReport:
    """Upsert the records of an export (``*.jsonl`` file or ``*.parquet`` directory) into an index.

    ``namespace``: put every record there; None (default) keeps the namespaces the export recorded
    (from its manifest; the default namespace for a JSONL file without one). ``checkpoint`` (default
    ``<from_>.load-checkpoint``) makes the job resumable; run the same call again after a crash.
    ``commit_every``: input records between checkpoint commits (also every 2 s).
    ``on_error``: ``"stop"`` raises :class:`RecordRejectedError` at the first record the server
    refuses; ``"skip"`` reports it in ``LoadReport.rejections`` and goes on.
    """
    source, checkpoint_path = _validate(from_, checkpoint, on_error, batch_size, max_batch_bytes)
    reader, manifest = open_reader(source)
    async with open_dataplane(
        index=index,
        host=host,
        dataplane=dataplane,
        api_key=api_key,
        controller_host=controller_host,
        limits=limits,
        client_options=client_options,
    ) as (dp, profile, client):
        spec = {
            "from": str(source),
            "index": index,
            "host": dp.host,
            "namespace": namespace,
            "batch_size": batch_size,
            "max_batch_bytes": max_batch_bytes,
        }
        with Checkpoint.open(checkpoint_path, kind="import", spec=spec) as cp:
            finished = cp.get("report")
            if finished is not None:
                return _report_from_json(finished)
            if manifest is not None:
                await _check_target(dp, manifest, source)
            run = _LoadRun(
                dp,
                cp,
                profile,
                on_error=on_error,
                clock=clock,
                progress=progress,
                workers=workers,
                commit_every=max(1, commit_every),
            )
            start = int(cp.get("watermark", 0))
            mark = _Watermark(start, cp.get("resume"))
            items = reader.items(mark.resume)
            await _run(run, mark, items, namespace, batch_size=batch_size, max_bytes=max_batch_bytes)
            elapsed = clock.now() - run.started
            report = LoadReport(
                source=source,
                upserted=run.upserted,
                rejected=run.rejected,
                rejections=tuple(run.rejections),
                namespaces=dict(run.namespaces),
                **run_fields(client, elapsed=elapsed, records=run.upserted_this_run),
                resumed=cp.resumed,
                stopped=run.stop_at is not None,
                extra={"manifest_total": manifest.total if manifest else None},
            )
            if run.stop_at is not None:
                raise RecordRejectedError(run.stop_at, report)
            with cp.step() as step:
                step.set("report", _report_to_json(report))
            return report


async def _check_target(dp: DataPlane, manifest: Manifest, source: Path) -> None:
    """Refuse an import every record of which the index would reject (nothing is sent but a stats call)."""
    if not manifest.include_values and manifest.index.get("vector_type", "dense") == "dense":
        raise UsageError(
            f"{source} was exported without values (include_values=False); it cannot be upserted"
        )
    want = manifest.index.get("dimension")
    try:
        have = (await dp.describe_index_stats()).get("dimension")
    except BulkopsError:
        return  # the upserts will tell
    if want and have and int(want) != int(have):
        raise UsageError(
            f"{source} holds vectors of dimension {want} but the target index has dimension {have}; "
            "import into an index of the same dimension"
        )


def _validate(
    from_: str | Path, checkpoint: str | Path | None, on_error: str, batch_size: int, max_batch_bytes: int
) -> tuple[Path, Path]:
    source = Path(from_).absolute()
    if on_error not in ("stop", "skip"):
        raise UsageError(f"on_error must be 'stop' or 'skip', not {on_error!r}")
    if not 1 <= batch_size <= MAX_IDS_PER_REQUEST:
        raise UsageError(f"batch_size must be between 1 and {MAX_IDS_PER_REQUEST} (Pinecone's upsert limit)")
    if not 4096 <= max_batch_bytes <= MAX_UPSERT_BYTES:
        raise UsageError(
            f"max_batch_bytes must be between 4096 and {MAX_UPSERT_BYTES} (2 MB, Pinecone's limit)"
        )
    if not source.exists():
        raise UsageError(f"{source} does not exist; give a JSONL file or a Parquet export directory")
    checkpoint_path = checkpoint_path_for(source, checkpoint, ".load-checkpoint")
    return source, checkpoint_path


async def _run(
    run: _LoadRun,
    mark: _Watermark,
    items: Iterator[ReadItem],
    namespace: str | None,
    *,
    batch_size: int,
    max_bytes: int,
) -> None:
    start = mark.value
    early: list[_Done] = []  # rejections found while cutting batches (unreadable records)

    def rejected_at_read(item: ReadItem, reason: str) -> None:
        rejection = Rejection(item.ordinal, item.location, item.record.id if item.record else None, reason)
        mark.started(item.ordinal, item.resume)
        early.append(_Done(item.ordinal, item.ordinal + 1, 0, "", [rejection]))
        if run.on_error == "stop" and run.stop_at is None:
            run.stop_at = rejection

    skipped = (i for i in items if i.ordinal >= start)
    batches = _batches(
        skipped, namespace, max_records=batch_size, max_bytes=max_bytes, rejected=rejected_at_read
    )
    batch_send, batch_recv = anyio.create_memory_object_stream[_Batch](4)
    done_send, done_recv = anyio.create_memory_object_stream[_Done](_MAX_WORKERS)
    limiter = anyio.CapacityLimiter(run.wanted_workers())

    async def produce(early_send: MemoryObjectSendStream[_Done]) -> None:
        async with batch_send, early_send:
            for batch in batches:
                while early:
                    await early_send.send(early.pop(0))
                if run.stop_at is not None:
                    break
                mark.started(batch.first, batch.items[0].resume)
                run.avg_bytes = 0.9 * run.avg_bytes + 0.1 * batch.size
                await batch_send.send(batch)
            while early:
                await early_send.send(early.pop(0))

    async def worker(recv: MemoryObjectReceiveStream[_Batch], send: MemoryObjectSendStream[_Done]) -> None:
        async with recv, send:
            async for batch in recv:
                if run.stop_at is not None and batch.first > run.stop_at.ordinal:
                    continue  # after the record that stopped the job
                async with limiter:
                    done = await run.upsert(batch)
                limiter.total_tokens = run.wanted_workers()
                await send.send(done)

    async def collect() -> None:
        passed: list[_Done] = []
        try:
            await collect_into(passed)
        finally:
            # Also when a worker failed: everything below the watermark is finished, so it is safe
            # (and saves redoing it) to record it.
            run.commit(mark, passed)  # synchronous: nothing can cancel it

    async def collect_into(passed: list[_Done]) -> None:
        async with done_recv:
            async for done in done_recv:
                run.upserted_this_run += done.upserted
                if run.on_error == "stop" and done.rejections:
                    # Never finished: the watermark stays before it, so a rerun stops here again
                    # unless the record was fixed.
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
                for _ in range(_MAX_WORKERS):
                    tg.start_soon(worker, batch_recv.clone(), done_send.clone())
            batch_recv.close()


def _report_to_json(report: LoadReport) -> dict[str, Any]:
    return {
        "source": str(report.source),
        "upserted": report.upserted,
        "rejected": report.rejected,
        "rejections": [r.to_json() for r in report.rejections],
        "namespaces": dict(report.namespaces),
        **run_fields_to_json(report),
        "extra": dict(report.extra),
    }


def _report_from_json(doc: Mapping[str, Any]) -> LoadReport:
    return LoadReport(
        source=Path(doc["source"]),
        upserted=doc["upserted"],
        rejected=doc["rejected"],
        rejections=tuple(Rejection.from_json(r) for r in doc["rejections"]),
        namespaces=doc["namespaces"],
        **run_fields_from_json(doc),
        resumed=True,
        extra=doc.get("extra", {}),
    )
