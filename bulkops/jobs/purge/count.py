"""Counting what a purge targets: the dry run's answer and the ``max_delete`` guard.

The guard counts *first*, and stops listing as soon as the count passes ``max_delete``, so a refused
purge costs at most ``max_delete / 100`` list requests and deletes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bulkops.engine.pipeline import run_pipeline
from bulkops.engine.sources import IdsSource
from bulkops.errors import ApiError, Param, UsageError
from bulkops.jobs.namespaces import existing_namespaces
from bulkops.jobs.purge.context import PurgeContext
from bulkops.models import MAX_IDS_PER_REQUEST

__all__ = ["Count", "count_targets", "guard"]


@dataclass(frozen=True, slots=True)
class Count:
    """Records the plan targets (None: they cannot be counted, ``note`` says why) and a sample of IDs."""

    found: int | None
    sample: tuple[str, ...] = ()
    note: str | None = None


class _GuardTripped(Exception):
    """Internal: the count passed ``max_delete``; stops a counting pipeline early."""


async def guard(ctx: PurgeContext) -> int | None:
    """Refuse before the first delete if the target holds more than ``max_delete`` records."""
    limit = ctx.spec.options.max_delete
    assert limit is not None
    ctx.emit("counting", 0)
    count = await count_targets(ctx, limit=limit)
    if count.found is not None and count.found > limit:
        raise UsageError(
            "this purge would delete more than ",
            Param("max_delete", limit),
            f" records ({ctx.spec.plan_text(ctx.namespaces)}); nothing was deleted. Raise ",
            Param("max_delete"),
            " or narrow the target.",
        )
    return count.found


async def count_targets(ctx: PurgeContext, *, limit: int | None) -> Count:
    """What the plan targets across its namespaces; stops once past ``limit``."""
    kind = ctx.spec.plan
    if kind == "delete_ids":
        assert ctx.ids is not None
        if limit is not None:  # every listed ID counts: no request needed to refuse
            return Count(ctx.ids.count * len(ctx.namespaces))
        return await _count_existing_ids(ctx)
    if kind == "list_and_delete":
        return await _count_listed(ctx, limit)
    if kind == "delete_by_filter":
        return await _count_filter(ctx, limit)
    return await _count_namespaces(ctx)


async def _count_listed(ctx: PurgeContext, limit: int | None) -> Count:
    found = 0
    sample: list[str] = []

    async def tally(ids: Sequence[str]) -> None:
        nonlocal found
        found += len(ids)
        sample.extend(ids[: max(0, ctx.sample_size - len(sample))])
        if limit is not None and found > limit:
            raise _GuardTripped

    try:
        for namespace in ctx.namespaces:
            # Small buffers: the listing runs at most a few pages ahead of the count.
            await run_pipeline(
                ctx.list_source(namespace, None, None),
                tally,
                max_workers=1,
                batch_size=100,
                page_buffer=1,
                batch_buffer=1,
                clock=ctx.clock,
            )
    except* _GuardTripped:
        pass
    return Count(found, tuple(sample))


async def _count_existing_ids(ctx: PurgeContext) -> Count:
    assert ctx.ids is not None
    ids_input = ctx.ids
    found = 0
    sample: list[str] = []
    for namespace in ctx.namespaces:

        async def check(ids: Sequence[str], namespace: str = namespace) -> None:
            nonlocal found
            present = await ctx.dp.fetch(ids, namespace=namespace)
            found += len(present)
            sample.extend(i for i in ids if i in present and len(sample) < ctx.sample_size)

        source = IdsSource(ids_input.open(), page_size=MAX_IDS_PER_REQUEST)
        await run_pipeline(source, check, rate=ctx.rate("fetch"), clock=ctx.clock)
    return Count(found, tuple(sample))


async def _count_filter(ctx: PurgeContext, limit: int | None) -> Count:
    assert ctx.spec.selection.filter is not None
    total = 0
    sample: list[str] = []
    for namespace in ctx.namespaces:
        token: str | None = None
        while True:
            try:
                page = await ctx.dp.fetch_by_metadata(
                    ctx.spec.selection.filter, namespace=namespace, limit=100, token=token
                )
            except ApiError as exc:
                if limit is not None:
                    raise UsageError(
                        Param("max_delete"),
                        " needs a count of the records matching the filter, and this index cannot count "
                        f"them (fetch_by_metadata: {exc.message}); nothing was deleted",
                    ) from exc
                return Count(None, note=f"records matching the filter could not be counted: {exc.message}")
            total += len(page.records)
            sample.extend(r.id for r in page.records[: max(0, ctx.sample_size - len(sample))])
            if limit is not None and total > limit:
                return Count(total, tuple(sample))
            if not page.next_token:
                break
            token = page.next_token
    return Count(total, tuple(sample))


async def _count_namespaces(ctx: PurgeContext) -> Count:
    counts = await existing_namespaces(ctx.dp)
    total = sum(counts.get(ns, 0) for ns in ctx.namespaces)
    sample: list[str] = []
    for namespace in ctx.namespaces:
        if len(sample) >= ctx.sample_size or not counts.get(namespace):
            continue
        page = await ctx.dp.list_page(namespace=namespace, limit=ctx.sample_size)
        sample.extend(page.ids[: ctx.sample_size - len(sample)])
    return Count(total, tuple(sample))
