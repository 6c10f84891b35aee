"""A purge's verification: once the deletes are visible, look again, delete leftovers, count what remains.

Deleted records stay visible for a while (eventual consistency), so one look is not proof; the last look
must find nothing or the purge raises VerificationError. How long to wait before looking is observed,
not assumed (:mod:`bulkops.jobs.purge.lag`): each round waits until a probe of the latest delete shows
it visible, ``verify_delay`` being the upper bound, then looks at every namespace (several at once).

An IDs purge runs its first round beside the deletes (:class:`EarlyCheck`), and a purge whose early
checks covered every ID and found nothing needs no round after the deletes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from bulkops.engine.concurrency import in_flight_for
from bulkops.engine.pipeline import run_pipeline
from bulkops.engine.sources import IdSource, IdsSource
from bulkops.errors import ApiError, NotFoundError
from bulkops.jobs.namespaces import existing_namespaces, for_each_namespace
from bulkops.jobs.purge.context import PurgeContext
from bulkops.jobs.purge.lag import FIRST_STEP, MAX_STEP
from bulkops.jobs.purge.report import Verification
from bulkops.models import MAX_IDS_PER_REQUEST

__all__ = ["EarlyCheck", "EarlyRound", "verify"]


class _CannotVerify(Exception):
    """Internal: the verification pass has no way to look (e.g. fetch_by_metadata unsupported)."""


_PENDING_BATCHES = 64  # deleted batches waiting for their check: memory stays bounded
_MAX_CHECKERS = 32


class EarlyCheck:
    """The first verification round of an IDs purge in one namespace, run beside the deletes.

    Each deleted batch is fetched again under the fetch limits, which the deletes do not use: first at
    the consistency lag seen so far after its delete, then every 20..160 ms while some of it is still
    visible, until it is gone or ``verify_delay`` (the upper bound) has passed since its delete; only
    what is still there then is a leftover, deleted at once. The checks teach the run's
    :class:`~bulkops.jobs.purge.lag.DeleteWatch` the lag. When every ID of the input was checked in this
    run and nothing was left, the round after the deletes is not needed; otherwise (a resumed run,
    leftovers, checks that fell behind) :func:`verify` runs its rounds. Profiled: re-fetching 50k IDs
    after the deletes was a quarter of an IDs purge's time at 25 ms latency.
    """

    def __init__(self, ctx: PurgeContext, namespace: str) -> None:
        self._ctx = ctx
        self._namespace = namespace
        self._send, self._receive = anyio.create_memory_object_stream[tuple[float, Sequence[str]]](
            _PENDING_BATCHES
        )
        self.checked = 0
        self.found = 0
        self.overflowed = False

    def submit(self, ids: Sequence[str]) -> None:
        """``ids`` were just deleted. Never slows the deletes: when the checks fall too far behind
        (a long lag at a high delete rate), the early round gives up and the rounds after the deletes
        check everything, as without it."""
        if self.overflowed:
            return
        try:
            self._send.send_nowait((self._ctx.clock.now(), ids))
        except anyio.WouldBlock:
            self.overflowed = True
            self._send.close()

    def close(self) -> None:
        self._send.close()

    def covers_everything(self) -> bool:
        ids = self._ctx.ids
        return not self.overflowed and ids is not None and self.checked == ids.count

    async def run(self) -> None:
        workers = in_flight_for(self._ctx.rate("fetch"), 0.05, minimum=2, maximum=_MAX_CHECKERS)
        async with self._receive, anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(self._worker, self._receive.clone())

    async def _worker(self, receive: MemoryObjectReceiveStream[tuple[float, Sequence[str]]]) -> None:
        ctx = self._ctx
        watch = ctx.watch
        async with receive:
            async for deleted_at, ids in receive:
                first = deleted_at + watch.estimate
                if first > ctx.clock.now():
                    await ctx.clock.sleep(first - ctx.clock.now())
                left = list(ids)
                step = FIRST_STEP
                while True:
                    present = await ctx.dp.fetch(left, namespace=self._namespace)
                    left = [i for i in left if i in present]
                    watch.observe(deleted_at, gone=not left)
                    remaining = deleted_at + watch.upper - ctx.clock.now()
                    if not left or remaining <= 0:
                        break
                    await ctx.clock.sleep(min(step, remaining))
                    step = min(2 * step, MAX_STEP)
                if left:  # still there past the upper bound: a leftover, not lag
                    await ctx.delete_ids(left, self._namespace)
                self.found += len(left)
                self.checked += len(ids)


class EarlyRound:
    """The early checks of every namespace, summed as each namespace finishes (memory stays flat)."""

    def __init__(self, namespaces: int) -> None:
        self.namespaces = namespaces
        self.covered = 0  # namespaces whose every ID was checked
        self.found = 0

    def add(self, check: EarlyCheck) -> None:
        self.covered += check.covers_everything()
        self.found += check.found

    def covers_everything(self) -> bool:
        return self.covered == self.namespaces


async def verify(ctx: PurgeContext, early: EarlyRound | None = None, *, deleted: int = 0) -> Verification:
    """Once the deletes are visible, look again; delete what is left; the last look must find nothing.

    ``early``: the first round, already run beside the deletes; ``deleted``: the count shown to the
    progress callback.
    """
    options = ctx.spec.options
    watch = ctx.watch
    leftovers = 0

    def result(remaining: int, rounds: int) -> Verification:
        return Verification(
            True,
            remaining=remaining,
            rounds=rounds,
            leftovers_deleted=leftovers,
            waited=watch.waited,
            lag=watch.lag_seen or None,
        )

    if early is not None and early.covers_everything():
        if early.found == 0:
            return result(0, 1)
        leftovers += early.found
    for round_number in range(1, options.verify_rounds + 1):
        ctx.emit("verifying", deleted)
        await watch.settled()
        try:
            found = await _find_leftovers(ctx, delete=True)
        except _CannotVerify as exc:
            return Verification(False, note=str(exc))
        if found == 0:
            return result(0, round_number)
        leftovers += found
    await watch.settled()
    remaining = await _find_leftovers(ctx, delete=False)
    return result(remaining, options.verify_rounds + 1)


async def _find_leftovers(ctx: PurgeContext, *, delete: bool) -> int:
    """What is still there in every namespace (several at once), deleted when ``delete``.

    With several namespaces, one look at the namespaces' record counts first: a namespace that holds
    no record (a tenant purged whole) needs no look of its own. Counts drop as soon as records are
    deleted, so this can only skip namespaces that are empty, whatever the lag; 2,000 emptied
    namespaces then cost 20 pages of the namespaces API instead of 2,000 list requests.
    """
    kind = ctx.spec.plan
    found = 0
    namespaces: Sequence[str] = ctx.namespaces
    if len(namespaces) > 1:
        counts = await existing_namespaces(ctx.dp)
        namespaces = [ns for ns in namespaces if counts.get(ns, 0) > 0]

    async def one(namespace: str) -> None:
        nonlocal found
        if kind in ("list_and_delete", "delete_ids"):
            found += await _find_by_id(ctx, namespace, delete=delete)
        elif kind == "delete_by_filter":
            found += await _find_by_filter(ctx, namespace, delete=delete)
        else:
            found += await _find_in_namespace(ctx, namespace, delete=delete)

    await for_each_namespace(namespaces, one, lanes=ctx.lanes)
    return found


async def _find_in_namespace(ctx: PurgeContext, namespace: str, *, delete: bool) -> int:
    listed = await ctx.dp.list_page(namespace=namespace, limit=100)
    if listed.ids and delete:
        with contextlib.suppress(NotFoundError):
            await ctx.dp.delete_all(namespace=namespace)
        ctx.watch.deleted_namespace(namespace)
    return len(listed.ids)


async def _find_by_id(ctx: PurgeContext, namespace: str, *, delete: bool) -> int:
    kind = ctx.spec.plan
    found = 0

    async def handle(ids: Sequence[str]) -> None:
        nonlocal found
        if kind == "delete_ids":
            present = await ctx.dp.fetch(ids, namespace=namespace)
            ids = [i for i in ids if i in present]
        found += len(ids)
        if delete and ids:
            await ctx.delete_ids(ids, namespace)

    source: IdSource
    if kind == "list_and_delete":
        source = ctx.list_source(namespace, None, None)
    else:
        assert ctx.ids is not None
        source = IdsSource(ctx.ids.open(), page_size=MAX_IDS_PER_REQUEST)
    rate = ctx.rate("fetch") if kind == "delete_ids" else ctx.rate("delete", MAX_IDS_PER_REQUEST)
    await run_pipeline(source, handle, rate=rate, clock=ctx.clock)
    return found


async def _find_by_filter(ctx: PurgeContext, namespace: str, *, delete: bool) -> int:
    filter_ = ctx.spec.selection.filter
    assert filter_ is not None
    try:
        page = await ctx.dp.fetch_by_metadata(filter_, namespace=namespace, limit=100)
    except ApiError as exc:
        raise _CannotVerify(f"fetch_by_metadata is not available: {exc.message}") from exc
    if not page.records:
        return 0
    found = len(page.records) if page.next_token is None else await _count_filter_ns(ctx, namespace)
    if delete:
        await ctx.dp.delete_by_filter(filter_, namespace=namespace)
        ctx.watch.deleted_by_filter(namespace)
    return found


async def _count_filter_ns(ctx: PurgeContext, namespace: str) -> int:
    filter_ = ctx.spec.selection.filter
    assert filter_ is not None
    total, token = 0, None
    while True:
        page = await ctx.dp.fetch_by_metadata(filter_, namespace=namespace, limit=100, token=token)
        total += len(page.records)
        if not page.next_token:
            return total
        token = page.next_token
