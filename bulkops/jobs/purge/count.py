"""Counting what a purge targets: the dry run's answer and the ``max_delete`` guard.

The guard counts *first*, and stops as soon as the count passes ``max_delete``, so a refused purge costs
at most ``max_delete / 100`` list requests and deletes nothing. The counting itself is
:func:`bulkops.jobs.counting.count_selected` (shared with the copy's dry run).
"""

from __future__ import annotations

from bulkops.errors import Param, UsageError
from bulkops.jobs.counting import Count, count_selected
from bulkops.jobs.purge.context import PurgeContext

__all__ = ["Count", "count_targets", "guard"]


async def guard(ctx: PurgeContext) -> int | None:
    """Refuse before the first delete if the target holds more than ``max_delete`` records."""
    limit = ctx.spec.options.max_delete
    assert limit is not None
    ctx.emit("counting", 0)
    count = await count_targets(ctx, limit=limit)
    if count.found is None:
        raise UsageError(
            Param("max_delete"),
            f" needs a count of the records the purge targets: {count.note}; nothing was deleted",
        )
    if count.found > limit:
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
    if ctx.spec.plan == "delete_ids" and limit is not None:
        assert ctx.ids is not None  # every listed ID counts: no request needed to refuse
        return Count(ctx.ids.count * len(ctx.namespaces))
    return await count_selected(
        ctx.dp,
        ctx.namespaces,
        ctx.spec.selection,
        ids=ctx.ids,
        profile=ctx.profile,
        clock=ctx.clock,
        limit=limit,
        sample_size=ctx.sample_size,
        target_chains=ctx.target_chains,
        lanes=ctx.lanes,
    )
