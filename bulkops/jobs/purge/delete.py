"""The delete phase of a purge, by plan: by ID (listed or given), by filter, whole namespaces.

Every step is recorded in the checkpoint, so a rerun redoes only what was not acknowledged. Namespaces
are purged several at once (:func:`bulkops.jobs.namespaces.for_each_namespace`), each its own
checkpoint scope; the index's delete and list budgets are shared by all of them through the client.
Every delete is noted in the run's :class:`~bulkops.jobs.purge.lag.DeleteWatch`; a purge by prefix
also re-fetches recent deletes while it goes (:meth:`~bulkops.jobs.purge.lag.DeleteWatch.keep_probing`)
so that its verification knows the consistency lag.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import anyio

from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.pipeline import Progress, run_pipeline
from bulkops.engine.sources import IdSource, IdsSource
from bulkops.errors import NotFoundError, Param, UsageError
from bulkops.jobs.groups import single_errors
from bulkops.jobs.namespaces import existing_namespaces, for_each_namespace, label
from bulkops.jobs.purge.context import PurgeContext
from bulkops.jobs.purge.verify import EarlyCheck, EarlyRound
from bulkops.models import MAX_IDS_PER_REQUEST

__all__ = ["FILTER_FANOUT", "Deleted", "delete_targets"]


FILTER_FANOUT = 8  # namespaces purged by filter at once; the client paces each at 5 req/s


@dataclass(slots=True)
class Deleted:
    """What the delete phase did in this run: IDs deleted, seconds it took, the early checks it ran."""

    ids: int = 0
    seconds: float = 0.0
    early: EarlyRound | None = None
    namespaces_done: int = 0


async def delete_targets(ctx: PurgeContext, journal: Checkpoint | None, *, deleted_before: int) -> Deleted:
    """Delete what the plan targets, the cheapest way its kind allows; ``deleted_before``: by earlier
    runs (the ``max_delete`` cap counts them)."""
    started = ctx.clock.now()
    kind = ctx.spec.plan
    if kind in ("list_and_delete", "delete_ids"):
        done = await _delete_by_id(ctx, journal, deleted_before)
    elif kind == "delete_by_filter":
        done = await _delete_by_filter(ctx, journal)
    else:
        done = await _delete_namespaces(ctx, journal)
    done.seconds = ctx.clock.now() - started
    return done


async def _delete_by_id(ctx: PurgeContext, journal: Checkpoint | None, deleted_before: int) -> Deleted:
    done = Deleted()
    fresh = _fresh_ids_purge(ctx, journal)
    if fresh:
        done.early = EarlyRound(len(ctx.namespaces))
    cap = ctx.spec.options.max_delete
    # With a checkpoint the pipelines count from its total (earlier runs and namespaces included);
    # without one, from what this run deleted so far.
    base = journal.counter("deleted") if journal is not None else 0

    async def one(namespace: str) -> None:
        if journal is not None and journal.get(f"done:{namespace}", False):
            return
        chains = journal.chains(namespace) if journal else None
        source: IdSource
        if ctx.spec.plan == "list_and_delete":
            source = ctx.list_source(namespace, journal, chains, deleting=True)
        else:
            assert ctx.ids is not None
            source = IdsSource(ctx.ids.open(), chains=chains, page_size=MAX_IDS_PER_REQUEST)
        early = EarlyCheck(ctx, namespace) if done.early is not None else None

        async def delete(ids: Sequence[str]) -> None:
            if cap is not None and deleted_before + done.ids + len(ids) > cap:
                raise UsageError(
                    "stopped at ",
                    Param("max_delete", cap),
                    ": more records appeared under the target after they were counted. Rerun with a higher ",
                    Param("max_delete"),
                    " to finish.",
                )
            done.ids += len(ids)
            await ctx.delete_ids(ids, namespace)
            if early is not None:
                early.submit(ids)

        def on_progress(p: Progress) -> None:
            ctx.emit("deleting", base + done.ids)

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
                        rate=ctx.rate("delete", MAX_IDS_PER_REQUEST),
                        progress=on_progress,
                        clock=ctx.clock,
                    )
                finally:
                    if early is not None:
                        early.close()
        if early is not None and done.early is not None:
            done.early.add(early)
        if journal is not None:
            with journal.step() as step:
                step.set(f"done:{namespace}", True)
        done.namespaces_done += 1

    with single_errors():
        async with anyio.create_task_group() as tg:
            if ctx.spec.plan == "list_and_delete":
                tg.start_soon(ctx.watch.keep_probing)
            await for_each_namespace(ctx.namespaces, one, lanes=ctx.lanes)
            tg.cancel_scope.cancel()  # the prober has nothing more to follow
    return done


def _fresh_ids_purge(ctx: PurgeContext, journal: Checkpoint | None) -> bool:
    """An IDs purge whose deletes all happen in this run: its first verification round can run early."""
    if ctx.spec.plan != "delete_ids" or not ctx.spec.options.verify:
        return False
    return journal is None or (not journal.in_flight() and journal.counter("deleted") == 0)


async def _delete_by_filter(ctx: PurgeContext, journal: Checkpoint | None) -> Deleted:
    filter_ = ctx.spec.selection.filter
    assert filter_ is not None

    async def one(namespace: str) -> None:
        if journal is not None and journal.get(f"done:{namespace}", False):
            return
        with contextlib.suppress(NotFoundError):
            await ctx.dp.delete_by_filter(filter_, namespace=namespace)
        ctx.watch.deleted_by_filter(namespace)
        if journal is not None:
            with journal.step() as step:
                step.set(f"done:{namespace}", True)

    await for_each_namespace(ctx.namespaces, one, lanes=min(ctx.lanes, FILTER_FANOUT))
    return Deleted()


async def _delete_namespaces(ctx: PurgeContext, journal: Checkpoint | None) -> Deleted:
    done = Deleted()
    counted = await existing_namespaces(ctx.dp)

    async def one(namespace: str) -> None:
        if journal is not None and journal.get(f"done:{namespace}", False):
            return
        try:
            if ctx.spec.plan == "delete_namespace":
                await ctx.dp.delete_namespace(label(namespace))
            else:
                await ctx.dp.delete_all(namespace=namespace)
        except NotFoundError:
            pass  # already gone
        n = counted.get(namespace, 0)
        if n:
            ctx.watch.deleted_namespace(namespace)
        done.ids += n
        if journal is not None:
            with journal.step() as step:
                step.set(f"done:{namespace}", True)
                step.count("deleted", n)

    await for_each_namespace(ctx.namespaces, one, lanes=ctx.lanes)
    return done
