"""The delete phase of a purge, by plan kind: by ID (listed or given), by filter, whole namespaces.

Every step is recorded in the checkpoint, so a rerun redoes only what was not acknowledged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.pipeline import Progress, run_pipeline
from bulkops.engine.sources import IdSource, IdsSource, ListSource
from bulkops.errors import NotFoundError, UsageError
from bulkops.jobs.purge_verify import EarlyCheck
from bulkops.jobs.task_groups import single_errors
from bulkops.models import MAX_IDS_PER_REQUEST

if TYPE_CHECKING:
    from bulkops.jobs.purge_job import PurgeJob

__all__ = ["FILTER_FANOUT", "delete_targets"]


FILTER_FANOUT = 8  # namespaces purged by filter at once; the client paces each at 5 req/s


async def delete_targets(job: PurgeJob, journal: Checkpoint | None) -> None:
    """Delete what the plan targets, the cheapest way its kind allows; time it for the report."""
    started = job.clock.now()
    kind = job.plan.kind
    if kind in ("list_and_delete", "delete_ids"):
        await _delete_by_id(job, journal)
    elif kind == "delete_by_filter":
        await _delete_by_filter(job, journal)
    else:
        await _delete_namespaces(job, journal)
    job.deleting_seconds = job.clock.now() - started


async def _delete_by_id(job: PurgeJob, journal: Checkpoint | None) -> None:
    namespace = job.plan.namespaces[0]
    chains = journal.chains(namespace) if journal else None
    source: IdSource
    if job.plan.kind == "list_and_delete":
        source = job.list_source(namespace, journal, chains, deleting=True)
    else:
        assert job.ids_input is not None
        source = IdsSource(job.ids_input.open(), chains=chains, page_size=MAX_IDS_PER_REQUEST)
    early = EarlyCheck(job, namespace) if _fresh_ids_purge(job, journal) else None
    job.early_check = early

    async def delete(ids: Sequence[str]) -> None:
        if job.max_delete is not None and job.deleted_total + len(ids) > job.max_delete:
            raise UsageError(
                f"stopped at max_delete={job.max_delete}: more records appeared under the target "
                "after they were counted. Rerun with a higher max_delete to finish."
            )
        job.deleted_total += len(ids)
        await job.delete_ids(ids, namespace)
        job.deleted_this_run += len(ids)
        if early is not None:
            early.submit(ids)

    def on_progress(p: Progress) -> None:
        job.emit("deleting", p.processed)

    with single_errors():
        async with anyio.create_task_group() as tg:
            if early is not None:
                tg.start_soon(early.run)
            try:
                await run_pipeline(
                    source,
                    delete,
                    checkpoint=journal,
                    scope=namespace,
                    counter="deleted",
                    rate=job.rate("delete", MAX_IDS_PER_REQUEST),
                    progress=on_progress,
                    clock=job.clock,
                )
            finally:
                if early is not None:
                    early.close()
    if isinstance(source, ListSource):
        job.list_requests += source.requests


def _fresh_ids_purge(job: PurgeJob, journal: Checkpoint | None) -> bool:
    """An IDs purge whose deletes all happen in this run: its first verification round can run early."""
    if job.plan.kind != "delete_ids" or not job.verify:
        return False
    return journal is None or (not journal.in_flight() and journal.counters().get("deleted", 0) == 0)


async def _delete_by_filter(job: PurgeJob, journal: Checkpoint | None) -> None:
    assert job.plan.filter is not None
    filter_ = job.plan.filter
    slots = anyio.CapacityLimiter(FILTER_FANOUT)

    async def one(namespace: str) -> None:
        async with slots:
            with contextlib.suppress(NotFoundError):
                await job.dp.delete_by_filter(filter_, namespace=namespace)
            job.other_requests += 1
            job.record(journal, **{f"done:{namespace}": True})

    async with anyio.create_task_group() as tg:
        for namespace in job.plan.namespaces:
            if journal is None or not journal.get(f"done:{namespace}", False):
                tg.start_soon(one, namespace)


async def _delete_namespaces(job: PurgeJob, journal: Checkpoint | None) -> None:
    counted: dict[str, int] = {}
    stats = await job.dp.describe_index_stats()
    job.other_requests += 1
    for namespace, entry in (stats.get("namespaces") or {}).items():
        counted[namespace] = int(entry.get("vectorCount", entry.get("vector_count", 0)) or 0)
    for namespace in job.plan.namespaces:
        if journal is not None and journal.get(f"done:{namespace}", False):
            continue
        try:
            if job.plan.kind == "delete_namespace":
                await job.dp.delete_namespace(namespace or "__default__")
            else:
                await job.dp.delete_all(namespace=namespace)
        except NotFoundError:
            pass  # already gone
        job.other_requests += 1
        n = counted.get(namespace, counted.get("__default__", 0) if namespace == "" else 0)
        job.deleted_this_run += n
        if journal is not None:
            with journal.step() as step:
                step.set(f"done:{namespace}", True)
                step.count("deleted", n)
        else:
            job.deleted_total += n
