"""Counting what a purge targets: the dry run's answer and the ``max_delete`` guard.

The guard counts *first*, and stops listing as soon as the count passes ``max_delete``, so a refused
purge costs at most ``max_delete / 100`` list requests and deletes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bulkops.engine.pipeline import run_pipeline
from bulkops.engine.sources import IdsSource
from bulkops.errors import ApiError, UsageError
from bulkops.jobs.purge_report import PurgeReport, Verification
from bulkops.models import MAX_IDS_PER_REQUEST

if TYPE_CHECKING:
    from bulkops.jobs.purge_job import PurgeJob

__all__ = ["count_targets", "dry_run", "guard"]


class _GuardTripped(Exception):
    """Internal: the count passed ``max_delete``; stops a counting pipeline early."""


async def dry_run(job: PurgeJob) -> PurgeReport:
    """Count what would go (with a sample of IDs); delete nothing."""
    sample: list[str] = []
    count = await count_targets(job, limit=None, sample=sample)
    return job.report(
        dry_run=True,
        resumed=False,
        would_delete=count,
        verification=Verification(False, note="dry run: nothing deleted"),
        sample=tuple(sample),
    )


async def guard(job: PurgeJob) -> int | None:
    """Refuse before the first delete if the target holds more than ``max_delete`` records."""
    assert job.max_delete is not None
    job.emit("counting", 0)
    count = await count_targets(job, limit=job.max_delete, sample=[])
    if count is not None and count > job.max_delete:
        raise UsageError(
            f"this purge would delete more than max_delete={job.max_delete} records "
            f"({job.plan.describe()}); nothing was deleted. Raise max_delete or narrow the target."
        )
    return count


async def count_targets(job: PurgeJob, *, limit: int | None, sample: list[str]) -> int | None:
    """Records the plan targets; stops once past ``limit``. None if it cannot be counted."""
    kind = job.plan.kind
    if kind == "delete_ids":
        assert job.ids_input is not None
        if limit is not None:
            return job.ids_input.count  # every listed ID counts: no request needed to refuse
        return await _count_existing_ids(job, sample)
    if kind == "list_and_delete":
        return await _count_listed(job, limit, sample)
    if kind == "delete_by_filter":
        return await _count_filter(job, limit, sample)
    return await _count_namespaces(job, sample)


async def _count_listed(job: PurgeJob, limit: int | None, sample: list[str]) -> int:
    found = 0

    async def tally(ids: Sequence[str]) -> None:
        nonlocal found
        found += len(ids)
        sample.extend(ids[: max(0, job.sample_size - len(sample))])
        if limit is not None and found > limit:
            raise _GuardTripped

    source = job.list_source(job.plan.namespaces[0], None, None)
    try:
        # Small buffers: the listing runs at most a few pages ahead of the count.
        await run_pipeline(
            source, tally, max_workers=1, batch_size=100, page_buffer=1, batch_buffer=1, clock=job.clock
        )
    except* _GuardTripped:
        pass
    job.list_requests += source.requests
    return found


async def _count_existing_ids(job: PurgeJob, sample: list[str]) -> int:
    assert job.ids_input is not None
    namespace = job.plan.namespaces[0]
    found = 0

    async def check(ids: Sequence[str]) -> None:
        nonlocal found
        present = await job.dp.fetch(ids, namespace=namespace)
        job.other_requests += 1
        found += len(present)
        sample.extend(i for i in ids if i in present and len(sample) < job.sample_size)

    source = IdsSource(job.ids_input.open(), page_size=MAX_IDS_PER_REQUEST)
    await run_pipeline(source, check, rate=job.rate("fetch"), clock=job.clock)
    return found


async def _count_filter(job: PurgeJob, limit: int | None, sample: list[str]) -> int | None:
    assert job.plan.filter is not None
    total = 0
    for namespace in job.plan.namespaces:
        token: str | None = None
        while True:
            try:
                page = await job.dp.fetch_by_metadata(
                    job.plan.filter, namespace=namespace, limit=100, token=token
                )
            except ApiError as exc:
                if limit is not None:
                    raise UsageError(
                        "max_delete needs a count of the records matching the filter, and this index "
                        f"cannot count them (fetch_by_metadata: {exc.message}); nothing was deleted"
                    ) from exc
                job.notes.append(f"records matching the filter could not be counted: {exc.message}")
                return None
            job.other_requests += 1
            total += len(page.records)
            sample.extend(r.id for r in page.records[: max(0, job.sample_size - len(sample))])
            if limit is not None and total > limit:
                return total
            if not page.next_token:
                break
            token = page.next_token
    return total


async def _count_namespaces(job: PurgeJob, sample: list[str]) -> int:
    stats = await job.dp.describe_index_stats()
    job.other_requests += 1
    spaces = stats.get("namespaces") or {}
    total = 0
    for namespace in job.plan.namespaces:
        entry = spaces.get(namespace) or spaces.get("__default__" if namespace == "" else namespace) or {}
        total += int(entry.get("vectorCount", entry.get("vector_count", 0)) or 0)
        if len(sample) < job.sample_size:
            page = await job.dp.list_page(namespace=namespace, limit=job.sample_size)
            job.list_requests += 1
            sample.extend(page.ids[: job.sample_size - len(sample)])
    return total
