"""Counting what a selection holds in some namespaces: a purge's dry run and ``max_delete`` guard, a copy's
dry run. Nothing here changes the index.

By kind of selection: every record (the namespaces' record counts, one request), a prefix (list the
prefixes: one request per 100 IDs, fanned out), IDs (fetch them: those that exist), a filter
(``fetch_by_metadata`` pages). Namespaces are counted several at once (:func:`for_each_namespace`);
``limit`` stops the count as soon as it is passed, so a refusal costs at most ``limit / 100`` list
requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.engine.pipeline import run_pipeline
from bulkops.engine.sources import IdsSource, ListSource, list_rate_meter
from bulkops.errors import ApiError
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.namespaces import NAMESPACE_LANES, existing_namespaces, for_each_namespace
from bulkops.jobs.selection import Selection
from bulkops.limits.profiles import Profile
from bulkops.models import MAX_IDS_PER_REQUEST

__all__ = ["FILTER_COUNT_PAGE", "Count", "count_selected"]

FILTER_COUNT_PAGE = 100  # records per fetch_by_metadata page while counting


@dataclass(frozen=True, slots=True)
class Count:
    """Records found (None: they cannot be counted, ``note`` says why), per namespace, and a sample of
    IDs. A count stopped at its limit holds what was found by then (more than the limit)."""

    found: int | None
    sample: tuple[str, ...] = ()
    note: str | None = None
    by_namespace: Mapping[str, int] = field(default_factory=dict)


class _Passed(Exception):
    """Internal: the count passed its limit; stops every lane."""


class _Tally:
    def __init__(self, limit: int | None, sample_size: int) -> None:
        self.limit = limit
        self.sample_size = sample_size
        self.found = 0
        self.sample: list[str] = []
        self.by_namespace: dict[str, int] = {}

    def add(self, namespace: str, ids: Sequence[str]) -> None:
        self.found += len(ids)
        self.by_namespace[namespace] = self.by_namespace.get(namespace, 0) + len(ids)
        self.sample.extend(ids[: max(0, self.sample_size - len(self.sample))])
        if self.limit is not None and self.found > self.limit:
            raise _Passed

    def count(self, note: str | None = None) -> Count:
        return Count(self.found, tuple(self.sample), note, dict(self.by_namespace))


async def count_selected(
    dp: DataPlane,
    namespaces: Sequence[str],
    selection: Selection,
    *,
    ids: IdsInput | None,
    profile: Profile,
    clock: Clock,
    limit: int | None = None,
    sample_size: int = 10,
    target_chains: int | None = None,
    lanes: int = NAMESPACE_LANES,
) -> Count:
    """What ``selection`` holds in ``namespaces`` (see the module docstring); stops once past ``limit``."""
    tally = _Tally(limit, sample_size)
    kind = selection.kind
    if kind == "everything":
        return await _count_namespaces(dp, namespaces, tally)
    try:
        if kind == "prefixes":
            await _count_listed(dp, namespaces, selection, tally, profile, clock, target_chains, lanes)
        elif kind == "ids":
            assert ids is not None
            await _count_existing(dp, namespaces, ids, tally, profile, clock, lanes)
        else:
            assert selection.filter is not None
            await _count_filter(dp, namespaces, selection.filter, tally, lanes)
    except _Passed:
        pass
    except _Uncountable as exc:
        return Count(None, note=str(exc))
    return tally.count()


async def _count_listed(
    dp: DataPlane,
    namespaces: Sequence[str],
    selection: Selection,
    tally: _Tally,
    profile: Profile,
    clock: Clock,
    target_chains: int | None,
    lanes: int,
) -> None:
    achieved = list_rate_meter(delegate=False)

    async def one(namespace: str) -> None:
        async def add(ids: Sequence[str]) -> None:
            tally.add(namespace, ids)

        source = ListSource(
            dp,
            namespace=namespace,
            prefixes=selection.prefixes,
            list_rate=profile.rate("list", "index"),
            target_chains=target_chains,
            achieved=achieved,
            clock=clock,
        )
        # Small buffers: the listing runs at most a few pages ahead of the count.
        await run_pipeline(
            source, add, max_workers=1, batch_size=100, page_buffer=1, batch_buffer=1, clock=clock
        )

    await for_each_namespace(namespaces, one, lanes=lanes)


async def _count_existing(
    dp: DataPlane,
    namespaces: Sequence[str],
    ids: IdsInput,
    tally: _Tally,
    profile: Profile,
    clock: Clock,
    lanes: int,
) -> None:
    async def one(namespace: str) -> None:
        async def check(batch: Sequence[str]) -> None:
            present = await dp.fetch(batch, namespace=namespace)
            tally.add(namespace, [i for i in batch if i in present])

        source = IdsSource(ids.open(), page_size=MAX_IDS_PER_REQUEST)
        await run_pipeline(source, check, rate=profile.rate("fetch", "index"), clock=clock)

    await for_each_namespace(namespaces, one, lanes=lanes)


class _Uncountable(Exception):
    """Internal: the index cannot count what the selection names (no fetch_by_metadata)."""


async def _count_filter(
    dp: DataPlane, namespaces: Sequence[str], filter_: Mapping[str, Any], tally: _Tally, lanes: int
) -> None:
    async def one(namespace: str) -> None:
        token: str | None = None
        while True:
            try:
                page = await dp.fetch_by_metadata(
                    filter_, namespace=namespace, limit=FILTER_COUNT_PAGE, token=token
                )
            except ApiError as exc:
                why = f"fetch_by_metadata: {exc.message}"
                raise _Uncountable(f"the records matching the filter cannot be counted here ({why})") from exc
            tally.add(namespace, [r.id for r in page.records])
            if not page.next_token:
                return
            token = page.next_token

    await for_each_namespace(namespaces, one, lanes=lanes)


async def _count_namespaces(dp: DataPlane, namespaces: Sequence[str], tally: _Tally) -> Count:
    counts = await existing_namespaces(dp)
    by_namespace = {ns: counts.get(ns, 0) for ns in namespaces}
    sample: list[str] = []
    for namespace in namespaces:
        if len(sample) >= tally.sample_size:
            break
        if by_namespace[namespace]:
            page = await dp.list_page(namespace=namespace, limit=tally.sample_size)
            sample.extend(page.ids[: tally.sample_size - len(sample)])
    return Count(sum(by_namespace.values()), tuple(sample), None, by_namespace)
