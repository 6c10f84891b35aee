"""Export: stream records out of an index into JSONL or Parquet, exactly once, resumable.

Flow per namespace (one after another, so each namespace's records are contiguous in the output)::

    ID source ──pages──▶ page queue ──batches ≤1000 IDs──▶ fetch workers ──records──▶ writer ──▶ sink
    (list chains with prefix fan-out,   (a free worker takes what     (in flight by Little's  (commits)
     an ID file, or fetch_by_metadata)    is queued, up to 1000 IDs)    law on fetch rate)

Commit protocol (what makes it exactly-once). Fetches finish out of order, so the writer appends a
batch's records as soon as they arrive and keeps, per chain, which pages are written: the chain's
*watermark* is the resume position after the newest page such that it and every earlier page of the
chain are written; pages written past the watermark are *beyond* it. A commit is:

1. ``sink.commit()`` — flush + fsync; returns the sink position (JSONL byte offset; Parquet: the list
   of closed part files with their checksums),
2. ONE checkpoint transaction holding that position, every chain (prefix, bound, carve level,
   watermark, done) and the IDs written beyond the watermarks, plus counters.

Resume: cut the sink back to the recorded position (everything written after the last commit is
removed), restart each chain from its watermark, and drop listed IDs that the checkpoint says were
already written beyond it. So each record in the output was written by exactly one committed batch,
and every listed record is either before the position or listed again. Namespaces finished are
recorded in the same transactions; the manifest is written atomically once everything is committed.
"""

from __future__ import annotations

import contextlib
import math
import shutil
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.concurrency import LatencyTracker, in_flight_for
from bulkops.engine.fanout import Chain
from bulkops.engine.sources import IdSource, IdsSource, ListSource, Page
from bulkops.errors import UsageError
from bulkops.jobs.ids_input import IdsInput, prepare_ids
from bulkops.jobs.session import (
    checkpoint_path_for,
    open_dataplane,
    run_fields,
    run_fields_from_json,
    run_fields_to_json,
)
from bulkops.jobs.task_groups import single_errors
from bulkops.limits.profiles import Profile
from bulkops.models import MAX_IDS_PER_REQUEST, Record
from bulkops.sinks.base import RecordSink, SinkPosition
from bulkops.sinks.formats import detect_format, open_writer
from bulkops.sinks.manifest import Manifest, NamespaceEntry, manifest_path, write_manifest

__all__ = ["ExportProgress", "ExportReport", "IndexInfo", "export", "open_dataplane", "single_errors"]

LIST_PAGE_IDS = 100
FILTER_PAGE_LIMIT = 1000
_PAGE_QUEUE_IDS = 20 * MAX_IDS_PER_REQUEST  # backpressure: listed IDs waiting for a fetch worker
_MAX_FETCH_WORKERS = 8
_COMMIT_INTERVAL = 5.0  # seconds between commits for JSONL (Parquet commits when a part is full)


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What the manifest records about the source index (whatever could be learned)."""

    name: str | None
    host: str
    dimension: int | None
    metric: str | None
    vector_type: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "dimension": self.dimension,
            "metric": self.metric,
            "vector_type": self.vector_type,
        }


@dataclass(frozen=True, slots=True)
class ExportProgress:
    namespace: str
    exported: int  # records written in this run and before (whole job)
    elapsed: float


@dataclass(frozen=True, slots=True)
class ExportReport:
    output: Path
    manifest: Path
    format: str
    exported: int
    namespaces: Mapping[str, int]
    missing: int  # IDs listed or given that fetch did not return (deleted meanwhile, or unknown)
    requests: Mapping[str, int]
    rate_limited: int
    retries: int
    elapsed: float  # this run
    records_per_second: float  # records written in this run ÷ elapsed
    bound: float | None  # records/s the documented limits allow for this kind of source
    resumed: bool
    commits: int
    index: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rate_vs_bound(self) -> float | None:
        return self.records_per_second / self.bound if self.bound else None


# --- the source index ------------------------------------------------------------------------------


async def describe_source(dp: DataPlane, *, name: str | None, client: Any) -> IndexInfo:
    stats: Mapping[str, Any] = {}
    with contextlib.suppress(Exception):
        stats = await dp.describe_index_stats()
    dimension = stats.get("dimension")
    metric = stats.get("metric")
    vector_type = stats.get("vectorType") or stats.get("vector_type")
    if client is not None and name is not None and (dimension is None or metric is None):
        with contextlib.suppress(Exception):
            described = await client.control.describe_index(name)
            dimension = dimension or described.get("dimension")
            metric = metric or described.get("metric")
            vector_type = vector_type or described.get("vector_type")
    return IndexInfo(
        name=name,
        host=dp.host,
        dimension=int(dimension) if dimension else None,
        metric=str(metric) if metric else None,
        vector_type=str(vector_type or "dense"),
    )


# --- the page queue: batches are formed when a fetch worker is free -----------------------------------


class _PageQueue:
    """Listed pages waiting for a fetch. ``take`` hands a free worker up to 1000 IDs of whole pages.

    A worker waits a little (``linger``) for a fuller batch while fewer than ``min_ids`` are queued:
    fetch has its own budget (100 req/s) and small fetches would waste it.
    """

    def __init__(self, clock: Clock, *, capacity: int, min_ids: int, linger: float) -> None:
        self._clock = clock
        self._pages: deque[tuple[_Slice, float]] = deque()
        self._ids = 0
        self._capacity = capacity
        self._min_ids = min_ids
        self._linger = linger
        self._closed = False
        self._changed = anyio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def put(self, piece: _Slice) -> None:
        while self._ids >= self._capacity:
            await self._changed.wait()
        self._pages.append((piece, self._clock.now()))
        self._ids += len(piece.ids)
        self._notify()

    def close(self) -> None:
        self._closed = True
        self._notify()

    async def take(self, max_ids: int) -> list[_Slice] | None:
        while True:
            if not self._pages:
                if self._closed:
                    return None
                await self._changed.wait()
                continue
            age = self._clock.now() - self._pages[0][1]
            if self._ids >= self._min_ids or self._closed or age >= self._linger:
                break
            with anyio.move_on_after(self._linger - age):
                await self._changed.wait()
        taken: list[_Slice] = []
        count = 0
        while self._pages and (not taken or count + len(self._pages[0][0].ids) <= max_ids):
            page, _ = self._pages.popleft()
            taken.append(page)
            count += len(page.ids)
        self._ids -= count
        self._notify()
        return taken


# --- per-chain bookkeeping for the commit protocol ---------------------------------------------------


@dataclass(slots=True)
class _ChainMark:
    start: str | None  # resume position before any page of this run
    done_before: bool
    next_seq: int = 0  # pages of this chain handed out so far
    written_upto: int = 0  # pages 0..written_upto-1 are all written
    watermark: str | None = None
    done: bool = False
    beyond: dict[int, tuple[Page, tuple[str, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.watermark = self.start
        self.done = self.done_before


@dataclass(frozen=True, slots=True)
class _Slice:
    """One page inside a fetch batch: the IDs to fetch (already-written ones dropped)."""

    page: Page
    seq: int
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Fetched:
    slices: tuple[_Slice, ...]
    records: Mapping[str, Record]


class _Tracker:
    """Which pages of which chain are written; the watermark and beyond-set of the commit protocol."""

    def __init__(self, chains: Iterable[Chain], skip: Iterable[str]) -> None:
        self.marks: dict[int, _ChainMark] = {}
        for chain in chains:
            self.marks[chain.id] = _ChainMark(chain.position, chain.done)
        self.skip = set(skip)  # IDs written beyond a watermark by an earlier run

    def assign(self, page: Page) -> _Slice:
        mark = self.marks.get(page.chain)
        if mark is None:  # a chain carved in this run
            mark = self.marks[page.chain] = _ChainMark(None, False)
        seq = mark.next_seq
        mark.next_seq += 1
        ids = tuple(i for i in page.ids if i not in self.skip) if self.skip else page.ids
        return _Slice(page, seq, ids)

    def written(self, piece: _Slice) -> None:
        mark = self.marks[piece.page.chain]
        mark.beyond[piece.seq] = (piece.page, piece.ids)
        while mark.written_upto in mark.beyond:
            page, _ = mark.beyond.pop(mark.written_upto)
            mark.written_upto += 1
            mark.watermark = page.position
            if page.last:
                mark.done = True

    def snapshot(self, chains: Iterable[Chain]) -> list[Chain]:
        out = []
        for chain in chains:
            mark = self.marks.get(chain.id)
            if mark is None:
                out.append(replace(chain, position=None, done=False))
            else:
                out.append(replace(chain, position=mark.watermark, done=mark.done))
        return out

    def beyond_ids(self) -> list[str]:
        ids = set(self.skip)
        for mark in self.marks.values():
            for _, written in mark.beyond.values():
                ids.update(written)
        return sorted(ids)


# --- the job ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Spec:
    namespaces: list[str] | None
    all_namespaces: bool
    prefix: str | None
    ids: IdsInput | None
    filter: Mapping[str, Any] | None
    include_values: bool
    include_metadata: bool

    @property
    def kind(self) -> str:
        if self.filter is not None:
            return "filter"
        if self.ids is not None:
            return "ids"
        return "prefix"


class _ExportRun:
    def __init__(
        self,
        dp: DataPlane,
        spec: _Spec,
        sink: RecordSink,
        cp: Checkpoint,
        profile: Profile,
        *,
        clock: Clock,
        progress: Callable[[ExportProgress], None] | None,
        target_chains: int | None,
        fetch_workers: int | None,
    ) -> None:
        self.dp = dp
        self.spec = spec
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
        self.format = detect_format(sink.path)
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
        if self.sink.wants_commit():
            return True
        interval_due = self.clock.now() - self.last_commit >= _COMMIT_INTERVAL
        return interval_due and self.sink.pending > 0 and self.format == "jsonl"

    def _write(self, namespace: str, records: Sequence[Record]) -> None:
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
        self.sink.write(namespace, records)
        self.exported += len(records)
        self.exported_this_run += len(records)
        self._pending_exported += len(records)
        if self.progress is not None:
            self.progress(ExportProgress(namespace, self.exported, self.clock.now() - self.started))

    # -- by listing / ID file + fetch -------------------------------------------------------------

    def _source(self, namespace: str, chains: list[Chain]) -> IdSource:
        if self.spec.kind == "ids":
            assert self.spec.ids is not None
            return IdsSource(self.spec.ids.open(), chains=chains or None, page_size=MAX_IDS_PER_REQUEST)
        return ListSource(
            self.dp,
            namespace=namespace,
            prefix=self.spec.prefix or "",
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
        if self.spec.kind == "prefix" and self.list_rate:
            needed = self.list_rate * LIST_PAGE_IDS / max(1.0, self.ids_per_fetch)
            rate = min(rate, needed) if rate else needed
        return in_flight_for(rate, self.fetch_latency.service_time, minimum=4, maximum=_MAX_FETCH_WORKERS)

    async def export_by_ids(self, namespace: str) -> None:
        chains = self.cp.chains(namespace)
        tracker = _Tracker(chains, self.cp.get(f"beyond:{namespace}", []))
        source = self._source(namespace, chains)
        for chain in source.chains:
            tracker.marks.setdefault(chain.id, _ChainMark(chain.position, chain.done))
        queue = _PageQueue(
            self.clock, capacity=_PAGE_QUEUE_IDS, min_ids=MAX_IDS_PER_REQUEST // 2, linger=0.02
        )
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
                    await send.send(_Fetched(tuple(slices), records))

        async def writer(recv: MemoryObjectReceiveStream[_Fetched]) -> None:
            async with recv:
                async for fetched in recv:
                    seen: set[str] = set()
                    out: list[Record] = []
                    for piece in fetched.slices:
                        for record_id in piece.ids:
                            if record_id in seen:
                                continue
                            seen.add(record_id)
                            record = fetched.records.get(record_id)
                            if record is None:
                                self._pending_missing += 1
                                self.missing += 1
                            else:
                                out.append(record)
                    self._write(namespace, out)
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
        assert self.spec.filter is not None
        chains = self.cp.chains(namespace) or [Chain(0, "")]
        chain = chains[0]
        if not chain.done:
            token = chain.position
            while True:
                page = await self.dp.fetch_by_metadata(
                    self.spec.filter, namespace=namespace, limit=FILTER_PAGE_LIMIT, token=token
                )
                self._write(namespace, page.records)
                token = page.next_token
                chain = replace(chain, position=token, done=not token)
                if chain.done:
                    break
                if self._due():
                    await self.commit(namespace, [chain], [], namespace_done=False)
        await self.commit(namespace, [chain], [], namespace_done=True)

    def bound(self) -> float | None:
        if self.spec.kind == "filter":
            return self.fbm_rate * FILTER_PAGE_LIMIT if self.fbm_rate else None
        fetch_bound = self.fetch_rate * MAX_IDS_PER_REQUEST if self.fetch_rate else math.inf
        if self.spec.kind == "ids":
            return fetch_bound if fetch_bound != math.inf else None
        list_bound = self.list_rate * LIST_PAGE_IDS if self.list_rate else math.inf
        found = min(fetch_bound, list_bound)
        return None if found == math.inf else found


def _check_filter(filter: Mapping[str, Any]) -> None:
    if not isinstance(filter, Mapping) or not filter:
        raise UsageError("filter= must be a non-empty metadata filter, e.g. {'genre': {'$eq': 'drama'}}")


async def export(
    *,
    to: str | Path,
    index: str | None = None,
    host: str | None = None,
    namespace: str | None = None,
    namespaces: Sequence[str] | None = None,
    all_namespaces: bool = False,
    prefix: str | None = None,
    ids: Iterable[str] | str | Path | None = None,
    filter: Mapping[str, Any] | None = None,
    checkpoint: str | Path | None = None,
    include_values: bool = True,
    include_metadata: bool = True,
    overwrite: bool = False,
    api_key: str | None = None,
    controller_host: str | None = None,
    limits: str | Profile | None = "default",
    progress: Callable[[ExportProgress], None] | None = None,
    commit_every: int = 50_000,
    dataplane: DataPlane | None = None,
    clock: Clock = SYSTEM_CLOCK,
    target_chains: int | None = None,
    fetch_workers: int | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> ExportReport:
    """Export records to ``to`` (``*.parquet``: a Parquet directory; anything else: one JSONL file).

    Choose the namespaces with ``namespace`` (default: the default namespace), ``namespaces`` or
    ``all_namespaces``, and the records with at most one of ``prefix``, ``ids`` (an iterable of IDs,
    or the path of a file with one ID per line) or ``filter`` (fetch_by_metadata, API 2025-10); none
    exports everything. ``checkpoint`` (default ``<to>.checkpoint``) makes the job resumable: run the
    same call again after a crash and it continues where the last commit left off; after success it
    returns the stored report without sending anything. ``commit_every``: records between durable
    commits (for Parquet, also the rows per part file).
    """
    spec, output, fmt, checkpoint_path = _validate(
        to=to,
        namespace=namespace,
        namespaces=namespaces,
        all_namespaces=all_namespaces,
        prefix=prefix,
        ids=ids,
        filter=filter,
        checkpoint=checkpoint,
        include_values=include_values,
        include_metadata=include_metadata,
        commit_every=commit_every,
    )

    async with open_dataplane(
        index=index,
        host=host,
        dataplane=dataplane,
        api_key=api_key,
        controller_host=controller_host,
        limits=limits,
        client_options=client_options,
    ) as (dp, profile, client):
        job_spec = {
            "index": index,
            "host": dp.host,
            "namespaces": spec.namespaces,
            "all_namespaces": all_namespaces,
            "source": spec.kind,
            "prefix": prefix,
            "ids": {"source": spec.ids.source, "sha256": spec.ids.digest} if spec.ids else None,
            "filter": spec.filter,
            "to": str(output),
            "format": fmt,
            "include_values": include_values,
            "include_metadata": include_metadata,
        }
        # Refuse to clobber an existing output before a checkpoint file is even created: a checkpoint
        # left by a refused run must not make the next run look like a resume.
        _refuse_existing_output(output, checkpoint_path, overwrite=overwrite)
        with Checkpoint.open(checkpoint_path, kind="export", spec=job_spec) as cp:
            finished = cp.get("report")
            if finished is not None:
                return _report_from_json(finished, resumed=True)
            if cp.get("namespaces") is None:  # the job never started writing: a fresh start
                _clear_output(output, checkpoint_path, overwrite=overwrite)
            info_json = cp.get("index")
            if info_json is None:
                info = await describe_source(dp, name=index, client=client)
                info_json = info.to_json()
            names = cp.get("namespaces")
            if names is None:
                if spec.namespaces is not None:
                    names = spec.namespaces
                else:
                    names = [str(ns["name"]) for ns in await dp.list_namespaces()]
                with cp.step() as step:
                    step.set("namespaces", names)
                    step.set("index", info_json)
            sink = open_writer(
                output, vector_type=str(info_json.get("vector_type") or "dense"), commit_records=commit_every
            )
            try:
                await anyio.to_thread.run_sync(sink.truncate_to, cp.get("sink"))
                run = _ExportRun(
                    dp,
                    spec,
                    sink,
                    cp,
                    profile,
                    clock=clock,
                    progress=progress,
                    target_chains=target_chains,
                    fetch_workers=fetch_workers,
                )
                done = set(cp.get("namespaces_done", []))
                for ns in names:
                    if ns in done:
                        continue
                    if spec.kind == "filter":
                        await run.export_by_filter(ns)
                    else:
                        await run.export_by_ids(ns)
                elapsed = clock.now() - run.started
            finally:
                sink.close()
            manifest = _manifest(sink, fmt, info_json, names, spec, clock)
            write_manifest(output, manifest)
            report = ExportReport(
                output=output,
                manifest=manifest_path(output),
                format=fmt,
                exported=manifest.total,
                namespaces={ns.name: ns.count for ns in manifest.namespaces},
                missing=run.missing,
                **run_fields(client, elapsed=elapsed, records=run.exported_this_run),
                bound=run.bound(),
                resumed=cp.resumed,
                commits=run.commits,
                index=info_json,
            )
            with cp.step() as step:
                step.set("report", _report_to_json(report))
            return report


def _validate(
    *,
    to: str | Path,
    namespace: str | None,
    namespaces: Sequence[str] | None,
    all_namespaces: bool,
    prefix: str | None,
    ids: Iterable[str] | str | Path | None,
    filter: Mapping[str, Any] | None,
    checkpoint: str | Path | None,
    include_values: bool,
    include_metadata: bool,
    commit_every: int,
) -> tuple[_Spec, Path, str, Path]:
    """Check the arguments (nothing is sent or written before this passes)."""
    selectors = [x for x in (prefix, ids, filter) if x is not None]
    if len(selectors) > 1:
        raise UsageError("give at most one of prefix=, ids= or filter=")
    if sum((namespace is not None, namespaces is not None, all_namespaces)) > 1:
        raise UsageError("give at most one of namespace=, namespaces= or all_namespaces=True")
    if filter is not None:
        _check_filter(filter)
    if namespaces is not None and (isinstance(namespaces, str) or not list(namespaces)):
        raise UsageError("namespaces= must be a non-empty list of namespace names")
    if commit_every < 1:
        raise UsageError("commit_every must be at least 1")
    output = Path(to).absolute()
    fmt = "parquet" if output.suffix == ".parquet" else "jsonl"
    if not output.parent.is_dir():
        raise UsageError(f"the folder of {output} does not exist; create it or choose another path")
    if fmt == "jsonl" and output.is_dir():
        raise UsageError(f"{output} is a directory; JSONL exports go to a file (or name it *.parquet)")
    # Validated in full before anything is sent, re-readable for each namespace, fingerprinted so
    # that a checkpoint is tied to exactly these IDs.
    ids_input = (
        prepare_ids(Path(ids).absolute() if isinstance(ids, str | Path) else ids) if ids is not None else None
    )
    spec = _Spec(
        namespaces=[namespace] if namespace is not None else (list(namespaces) if namespaces else None),
        all_namespaces=all_namespaces,
        prefix=prefix,
        ids=ids_input,
        filter=dict(filter) if filter is not None else None,
        include_values=include_values,
        include_metadata=include_metadata,
    )
    if spec.namespaces is None and not all_namespaces:
        spec.namespaces = [""]
    checkpoint_path = checkpoint_path_for(output, checkpoint, ".checkpoint")

    return spec, output, fmt, checkpoint_path


def _refuse_existing_output(output: Path, checkpoint_path: Path, *, overwrite: bool) -> None:
    if not overwrite and output.exists() and not checkpoint_path.exists():
        raise UsageError(
            f"{output} already exists and there is no checkpoint ({checkpoint_path}) of an export into "
            "it; remove it, choose another path, or pass overwrite=True"
        )


def _clear_output(output: Path, checkpoint_path: Path, *, overwrite: bool) -> None:
    """A fresh job starts from an empty output: refuse to clobber one unless asked to."""
    if not output.exists():
        manifest_path(output).unlink(missing_ok=True)
        return
    if not overwrite:
        raise UsageError(
            f"{output} already exists and {checkpoint_path} holds no export into it; "
            "remove it, choose another path, or pass overwrite=True"
        )
    if output.is_dir():
        shutil.rmtree(output)
    else:
        output.unlink()
    manifest_path(output).unlink(missing_ok=True)


def _manifest(
    sink: RecordSink, fmt: str, info: Mapping[str, Any], names: list[str], spec: _Spec, clock: Clock
) -> Manifest:
    parts = sink.parts()
    counts: dict[str, int] = dict.fromkeys(names, 0)
    first_line: dict[str, int] = {}
    if fmt == "jsonl":
        for ns, first, count in sink.segments():  # type: ignore[attr-defined]
            counts[ns] = counts.get(ns, 0) + count
            first_line.setdefault(ns, first)
    else:
        for part in parts:
            counts[part.namespace or ""] = counts.get(part.namespace or "", 0) + part.rows
    entries = tuple(
        NamespaceEntry(ns, counts[ns], first_line.get(ns) if fmt == "jsonl" else None) for ns in counts
    )
    if fmt == "jsonl":
        entries = tuple(e if e.first_line is not None else replace(e, first_line=0) for e in entries)
    return Manifest(
        output_format=fmt,
        index=info,
        namespaces=entries,
        parts=tuple(parts),
        total=sum(counts.values()),
        source={"kind": spec.kind, "prefix": spec.prefix, "filter": spec.filter},
        include_values=spec.include_values,
        include_metadata=spec.include_metadata,
        created_at=clock.wall(),
    )


def _report_to_json(report: ExportReport) -> dict[str, Any]:
    return {
        "output": str(report.output),
        "manifest": str(report.manifest),
        "format": report.format,
        "exported": report.exported,
        "namespaces": dict(report.namespaces),
        "missing": report.missing,
        **run_fields_to_json(report),
        "bound": report.bound,
        "commits": report.commits,
        "index": dict(report.index),
    }


def _report_from_json(doc: Mapping[str, Any], *, resumed: bool) -> ExportReport:
    return ExportReport(
        output=Path(doc["output"]),
        manifest=Path(doc["manifest"]),
        format=doc["format"],
        exported=doc["exported"],
        namespaces=doc["namespaces"],
        missing=doc["missing"],
        **run_fields_from_json(doc),
        bound=doc["bound"],
        resumed=resumed,
        commits=doc["commits"],
        index=doc["index"],
    )
