"""How long a purge's deletes take to become visible, observed rather than assumed.

A deleted record stays visible to list and fetch for a while (Pinecone's consistency lag; the local
server's ``--consistency-lag``). The verification must look after that, but a fixed wait is a guess: too
short and it finds what is still on its way out, too long and every purge pays for it (5 s was a third
of a 200k-ID purge). So the purge watches its own deletes:

- :class:`DeleteWatch` remembers the latest delete (when, in which namespace, a few of its IDs) and what
  was seen of the lag: the longest time after a delete at which a deleted record was still visible;
- :meth:`DeleteWatch.keep_probing` re-fetches recently deleted IDs while the deletes go on (one small fetch
  at a time, under the fetch budget a purge by prefix leaves idle), so the lag is known when they end
  (an IDs purge learns it from its early checks instead, :class:`bulkops.jobs.purge.verify.EarlyCheck`);
- :meth:`DeleteWatch.settled` then waits after the last delete only until a probe shows it visible:
  first at the lag seen so far, then every 20..160 ms. ``verify_delay`` is the upper bound: past it,
  whatever is still there is a leftover, not lag.

Against a server without lag the wait is one fetch; with 3 s of lag it is about 3 s. The verification
that follows looks at everything either way, so the result is exact whatever the probes saw.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.errors import ApiError, BulkopsError, NotFoundError

__all__ = ["DeleteWatch", "DeletedSample"]

SAMPLE_IDS = 10  # deleted IDs a probe fetches again
FIRST_STEP = 0.02  # seconds between probes of a delete still visible: 20, 40, 80, 160, 160...
MAX_STEP = 0.16
PROBE_PAUSE = 0.1  # the prober's pause between two deletes it follows (it only needs the lag)
_RECENT = 32  # lag observations the estimate looks back on

SampleKind = Literal["ids", "namespace", "filter"]


@dataclass(frozen=True, slots=True)
class DeletedSample:
    """One delete to probe: ``ids`` of a delete by ID, or a whole namespace / a filter's matches."""

    namespace: str
    at: float  # when the delete was acknowledged
    kind: SampleKind
    ids: tuple[str, ...] = ()


class DeleteWatch:
    """The latest delete of a purge and the consistency lag seen so far (see the module docstring).

    ``upper``: ``verify_delay``, the longest a delete may take to become visible; ``filter``: a filter
    purge's filter (probes look for records matching it).
    """

    def __init__(
        self, dp: DataPlane, clock: Clock, *, upper: float, filter: Mapping[str, Any] | None = None
    ) -> None:
        self._dp = dp
        self._clock = clock
        self.upper = upper
        self._filter = filter
        self.latest: DeletedSample | None = None
        self._visible_ages: deque[float] = deque(maxlen=_RECENT)
        self.lag_seen = 0.0  # the longest time after a delete at which it was seen still visible
        self.waited = 0.0  # seconds :meth:`settled` waited, in all
        self.probes = 0
        self._changed = anyio.Event()

    # -- what was deleted --------------------------------------------------------------------------

    def _note(self, sample: DeletedSample) -> None:
        self.latest = sample
        self._changed.set()
        self._changed = anyio.Event()

    def deleted_ids(self, namespace: str, ids: Sequence[str]) -> None:
        if ids:
            self._note(DeletedSample(namespace, self._clock.now(), "ids", tuple(ids[-SAMPLE_IDS:])))

    def deleted_namespace(self, namespace: str) -> None:
        self._note(DeletedSample(namespace, self._clock.now(), "namespace"))

    def deleted_by_filter(self, namespace: str) -> None:
        self._note(DeletedSample(namespace, self._clock.now(), "filter"))

    async def changed(self) -> None:
        await self._changed.wait()

    # -- what was seen -----------------------------------------------------------------------------

    def observe(self, deleted_at: float, *, gone: bool) -> None:
        """A check of something deleted at ``deleted_at``: still visible, or gone."""
        if not gone:
            age = self._clock.now() - deleted_at
            self._visible_ages.append(age)
            self.lag_seen = max(self.lag_seen, age)

    @property
    def estimate(self) -> float:
        """When to look first after a delete: the longest recent age at which one was still visible."""
        return min(self.upper, max(self._visible_ages, default=0.0))

    async def gone(self, sample: DeletedSample) -> bool:
        """One probe: is ``sample``'s delete visible (its records no longer listed or fetched)?"""
        self.probes += 1
        try:
            if sample.kind == "ids":
                present = await self._dp.fetch(sample.ids, namespace=sample.namespace)
                gone = not any(i in present for i in sample.ids)
            elif sample.kind == "namespace":
                gone = not (await self._dp.list_page(namespace=sample.namespace, limit=1)).ids
            else:
                assert self._filter is not None
                page = await self._dp.fetch_by_metadata(self._filter, namespace=sample.namespace, limit=1)
                gone = not page.records
        except NotFoundError:
            gone = True  # the namespace is gone altogether
        except ApiError:
            return True  # no way to probe (e.g. fetch_by_metadata): the verification looks anyway
        except BulkopsError:
            return False  # no answer (retries spent): cannot tell; wait on, at most until the bound
        self.observe(sample.at, gone=gone)
        return gone

    async def follow(self, sample: DeletedSample) -> bool:
        """Probe ``sample`` from ``at + estimate`` until it is gone or ``upper`` has passed since it;
        returns whether it was seen gone."""
        clock = self._clock
        first = sample.at + self.estimate
        if first > clock.now():
            await clock.sleep(first - clock.now())
        step = FIRST_STEP
        deadline = sample.at + self.upper
        while True:
            if await self.gone(sample):
                return True
            left = deadline - clock.now()
            if left <= 0:
                return False
            await clock.sleep(min(step, left))
            step = min(2 * step, MAX_STEP)

    async def settled(self) -> None:
        """Wait until the latest delete is visible, at most ``upper`` after it (nothing deleted in this
        run, or ``upper`` 0: no wait)."""
        sample = self.latest
        if sample is None or self.upper <= 0:
            return
        started = self._clock.now()
        await self.follow(sample)
        self.waited += self._clock.now() - started

    async def keep_probing(self) -> None:
        """Follow the latest delete, one probe at a time, until cancelled (the caller cancels it when the
        deletes end): the lag is then known when they do. Never delays a delete (it only reads)."""
        if self.upper <= 0:
            return
        followed: DeletedSample | None = None
        while True:
            sample = self.latest
            if sample is None or sample is followed:
                await self.changed()
                continue
            followed = sample
            await self.follow(sample)
            await self._clock.sleep(PROBE_PAUSE)
