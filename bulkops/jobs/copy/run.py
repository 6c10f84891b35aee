"""The copy's run loop: every namespace in a lane, each an engine pipeline of list → fetch → upsert.

::

    lane (≤ lanes namespaces at once): ID source ──▶ batches ≤1000 IDs ──▶ workers: fetch ─▶ upsert(s) ─▶ ack
                                       (list chains / IDs file)          (job-wide slots: Little's law)

Nothing is written locally: fetched records go straight into upsert requests (gRPC fetch answers hold
float32 arrays, which the gRPC upsert copies once into its message; no Python float per value).

Crash safety is the engine's, not a tracker of the copy's own: each namespace is one
:func:`bulkops.engine.pipeline.run_pipeline` with the checkpoint, scoped by namespace. A batch is
recorded in flight before its fetch and acknowledged (in one step with its chains' watermarks and the
counts its work returned) after its last upsert; a resumed copy redoes the batches in flight and lists
on from the watermarks. Upserts are idempotent, so what is copied twice is the same record, and the
destination ends with exactly the source's records. (The export needs a beyond-set because it appends
to a file; a copy does not.) Counts of a namespace resumed part-way may include records copied twice:
its verification recounts the source instead (``inexact:<namespace>``).

The fetch budget (per index) is shared by every lane through the client; the upsert budget is per
destination namespace, so lanes multiply it. How many batches are held at once (fetched, not yet
upserted) is one job-wide limit sized by Little's law on the rate the binding side allows, so memory
does not grow with the number of namespaces.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import anyio

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.concurrency import LatencyTracker, in_flight_for
from bulkops.engine.fanout import Chain
from bulkops.engine.pipeline import run_pipeline
from bulkops.engine.sources import list_rate_meter
from bulkops.errors import BadRequestError, RequestTooLargeError
from bulkops.jobs.copy.batches import cut_upserts
from bulkops.jobs.copy.report import CopyProgress
from bulkops.jobs.copy.spec import CopySpec
from bulkops.jobs.copy.verify import Sample
from bulkops.jobs.groups import single_errors
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.namespaces import NAMESPACE_LANES, for_each_namespace
from bulkops.jobs.selection import id_source
from bulkops.limits.profiles import Profile
from bulkops.models import LIST_PAGE_IDS, MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES, Record

__all__ = ["FILTER_PAGE_LIMIT", "CopyRun"]

FILTER_PAGE_LIMIT = 1000
_MAX_SLOTS = 16  # batches fetched and not yet upserted, job-wide (each up to 1000 records)
_WORKERS_PER_NAMESPACE = 16  # pipeline workers of one namespace (they wait for a slot holding only IDs)


class CopyRun:
    """One run of a copy job (a resume is a new run): the lanes, the fetch → upsert work, the counts."""

    def __init__(
        self,
        source: DataPlane,
        destination: DataPlane,
        spec: CopySpec,
        cp: Checkpoint | None,
        source_profile: Profile,
        destination_profile: Profile,
        *,
        ids: IdsInput | None,
        sample: Sample,
        clock: Clock,
        progress: Callable[[CopyProgress], None] | None,
        target_chains: int | None,
        lanes: int = NAMESPACE_LANES,
        sizes: Mapping[str, int] | None = None,
    ) -> None:
        self.src = source
        self.sizes = sizes or {}  # records per namespace when known (caps the list fan-out's estimates)
        self.dst = destination
        self.spec = spec
        self.cp = cp
        self.ids = ids
        self.sample = sample
        self.clock = clock
        self.progress = progress
        self.target_chains = target_chains
        self.lanes = lanes
        self.list_rate = source_profile.rate("list", "index")
        self.fetch_rate = source_profile.rate("fetch", "index")
        self.fbm_rate = source_profile.rate("fetch_by_metadata", "namespace")
        self.upsert_bytes_rate = destination_profile.rate("upsert", "namespace", "bytes")
        self.upsert_rate = destination_profile.rate("upsert", "namespace", "requests")
        counters = cp.counters() if cp is not None else {}
        self.copied = counters.get("copied", 0)
        self.missing = counters.get("missing", 0)
        self.copied_this_run = 0
        self.by_namespace: dict[str, int] = {}  # this run's records, per source namespace
        self.bytes_per_record = 0.0  # running mean of the upsert wire bytes
        self.records_per_batch = float(MAX_IDS_PER_REQUEST)
        self.active = 0  # namespaces being copied now
        self.work_latency = LatencyTracker(percentile=0.5, initial=0.1)
        self.slots = anyio.CapacityLimiter(self._slots_wanted())
        self.started = clock.now()
        self._list_meter = list_rate_meter(delegate=False)

    # -- the whole run ----------------------------------------------------------------------------

    async def run(self, names: Sequence[str], done: set[str]) -> None:
        """Copy every namespace of ``names`` not in ``done``, ``lanes`` at a time."""
        await for_each_namespace([ns for ns in names if ns not in done], self._namespace, lanes=self.lanes)

    async def _namespace(self, namespace: str) -> None:
        cp = self.cp
        resumed = cp is not None and (
            bool(cp.chains(namespace)) or any(batch.scope == namespace for batch in cp.in_flight())
        )
        self.active += 1
        try:
            if self.spec.selection.kind == "filter":
                await self._by_filter(namespace)
            else:
                await self._by_ids(namespace)
        finally:
            self.active -= 1
        if cp is not None:
            with cp.step() as step:
                step.set(f"done:{namespace}", True)
                if resumed:
                    step.set(f"inexact:{namespace}", True)
                step.set("sample", self.sample.to_json())

    # -- by listing / ID file ---------------------------------------------------------------------

    async def _by_ids(self, namespace: str) -> None:
        chains = self.cp.chains(namespace) if self.cp is not None else None
        source = id_source(
            self.src,
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

        async def work(ids: Sequence[str]) -> Mapping[str, int]:
            return await self._copy_batch(namespace, ids)

        await run_pipeline(
            source,
            work,
            checkpoint=self.cp,
            scope=namespace,
            counter="listed",
            max_workers=_WORKERS_PER_NAMESPACE,
            clock=self.clock,
        )

    async def _copy_batch(self, namespace: str, ids: Sequence[str]) -> Mapping[str, int]:
        """Fetch ``ids`` from the source, upsert what was found; the counts to acknowledge with it."""
        wanted = list(dict.fromkeys(ids))
        async with self.slots:
            started = self.clock.now()
            fetched = await self.src.fetch(wanted, namespace=namespace)
            found = [fetched[i] for i in wanted if i in fetched]
            if found:
                await self.upsert(found, self.spec.destination_of(namespace))
            self.work_latency.observe(self.clock.now() - started)
        self.records_per_batch = 0.9 * self.records_per_batch + 0.1 * max(1, len(wanted))
        self.slots.total_tokens = self._slots_wanted()
        return self._copied(namespace, [r.id for r in found], len(wanted) - len(found))

    def _copied(self, namespace: str, ids: Sequence[str], missing: int) -> dict[str, int]:
        self.copied += len(ids)
        self.copied_this_run += len(ids)
        self.missing += missing
        self.by_namespace[namespace] = self.by_namespace.get(namespace, 0) + len(ids)
        self.sample.offer(namespace, ids)
        if self.progress is not None:
            self.progress(CopyProgress(namespace, self.copied, self.clock.now() - self.started))
        return {"copied": len(ids), f"copied:{namespace}": len(ids), "missing": missing}

    def _slots_wanted(self) -> int:
        """Batches held at once: Little's law on the batch rate the binding side allows (the source's
        fetch budget; the destination's upsert bytes per namespace, times the namespaces in flight)."""
        rate = self.fetch_rate
        if self.upsert_bytes_rate and self.bytes_per_record:
            batch_bytes = self.bytes_per_record * self.records_per_batch
            by_bytes = self.upsert_bytes_rate * max(1, self.active) / max(1.0, batch_bytes)
            rate = min(rate, by_bytes) if rate else by_bytes
        return in_flight_for(rate, self.work_latency.service_time, minimum=2, maximum=_MAX_SLOTS)

    # -- upserts ------------------------------------------------------------------------------------

    async def upsert(self, records: Sequence[Record], namespace: str) -> None:
        """Upsert ``records`` in requests of ≤ 1000 records and ≤ 2 MB on the destination's wire, all
        at once (the destination's byte budget paces them; one after another, a fetched batch of 1000
        records at dimension 1536 waited for four round trips); a request the server finds too large
        anyway is halved."""
        grpc = getattr(self.dst, "transport", None) == "grpc"
        with single_errors():
            async with anyio.create_task_group() as tg:
                for batch in cut_upserts(records, grpc=grpc):
                    size = batch.size / len(batch.records)
                    mean = self.bytes_per_record
                    self.bytes_per_record = 0.9 * mean + 0.1 * size if mean else size
                    tg.start_soon(self._upsert_halving, batch.records, namespace)

    async def _upsert_halving(self, batch: list[Record], namespace: str) -> None:
        stack = [batch]
        while stack:
            part = stack.pop()
            try:
                await self.dst.upsert(part, namespace=namespace)
            except (BadRequestError, RequestTooLargeError) as exc:
                if len(part) == 1 or not _too_large(exc):
                    raise
                half = len(part) // 2
                stack.extend([part[half:], part[:half]])

    # -- by metadata filter -------------------------------------------------------------------------

    async def _by_filter(self, namespace: str) -> None:
        """``fetch_by_metadata`` pages one after another (the next needs the token), each upserted and
        then recorded with its token as the namespace's position."""
        filter_ = self.spec.selection.filter
        assert filter_ is not None
        chain = (self.cp.chains(namespace) if self.cp is not None else None) or [Chain(0, "")]
        position = chain[0]
        while not position.done:
            async with self.slots:
                page = await self.src.fetch_by_metadata(
                    filter_, namespace=namespace, limit=FILTER_PAGE_LIMIT, token=position.position
                )
                if page.records:
                    await self.upsert(page.records, self.spec.destination_of(namespace))
            position = replace(position, position=page.next_token, done=not page.next_token)
            counts = self._copied(namespace, [r.id for r in page.records], 0)
            if self.cp is not None:
                with self.cp.step() as step:
                    step.save_chains(namespace, [position])
                    for name, delta in counts.items():
                        step.count(name, delta)

    # -- figures ----------------------------------------------------------------------------------

    def bound(self, *, records: int, namespaces: int) -> float | None:
        """Records/s the limits of the binding side allow: the source's list and fetch (a request holds
        one namespace's records), the destination's upsert bytes per namespace (namespaces at once)."""
        per_namespace = records / namespaces if namespaces and records else math.inf
        candidates: list[float] = []
        kind = self.spec.selection.kind
        if kind == "filter" and self.fbm_rate:
            candidates.append(self.fbm_rate * min(FILTER_PAGE_LIMIT, per_namespace) * max(1, namespaces))
        if kind in ("prefixes", "everything") and self.list_rate:
            candidates.append(self.list_rate * min(LIST_PAGE_IDS, per_namespace))
        if kind != "filter" and self.fetch_rate:
            candidates.append(self.fetch_rate * min(MAX_IDS_PER_REQUEST, per_namespace))
        if self.upsert_bytes_rate and self.bytes_per_record:
            parallel = max(1, min(namespaces, self.lanes))
            candidates.append(self.upsert_bytes_rate * parallel / self.bytes_per_record)
        if self.upsert_rate:
            per_request = min(MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES / max(1.0, self.bytes_per_record))
            candidates.append(self.upsert_rate * per_request * max(1, min(namespaces, self.lanes)))
        return min(candidates) if candidates else None


def _too_large(exc: BadRequestError | RequestTooLargeError) -> bool:
    """A refusal that halving fixes (the request's size), not a record the destination refuses."""
    if isinstance(exc, RequestTooLargeError):
        return True
    text = exc.message.lower()
    return "size" in text and ("exceed" in text or "too large" in text)
