"""Scoped limiters: one adaptive bucket per (operation, scope kind, scope name, unit) of one index.

Pinecone enforces several limits on one request at once: a delete of 1000 IDs in namespace ``a`` counts
against the per-namespace and the per-index delete limits, in requests and in records. A
:class:`ScopedLimiter` belongs to one index (one data-plane host) and creates buckets lazily from the
profile's rows: index-scoped rows get one bucket, namespace-scoped rows one bucket per namespace.

:meth:`ScopedLimiter.acquire` books each bucket that applies, narrowest scope first (namespace, then
index), waiting on the clock for each in turn. Booking one at a time rather than all at the latest
time keeps a slow namespace from holding back other namespaces in the shared index bucket.

A waiter that wakes to find its bucket cut or held since it booked (the bucket's ``generation``
moved) books again, so a 429 slows requests already queued, not only new ones.

Spare budget: requests made inside :func:`spare_budget_only` (a list probe of a prefix that is probably
empty) book a bucket only when nothing is booked ahead of now, one at a time, so they fill the gaps
other requests leave and never queue in front of them; when nobody else wants the budget they run at
its full rate.

A 429 names the operation and scope it hit (see :mod:`bulkops.limits.rate_limit_message`);
:meth:`ScopedLimiter.on_rate_limited` cuts exactly that bucket. A 429 naming a limit the profile does
not know creates a learned bucket (its ceiling read from the message when it says one); a 429 naming
nothing cuts every bucket the request used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import anyio

from bulkops.clock import Clock
from bulkops.limits.bucket import AdaptiveBucket, AdaptiveTuning
from bulkops.limits.profiles import OPERATIONS, Profile
from bulkops.limits.rate_limit_message import NamedLimit, ScopeKind, Unit

__all__ = ["ScopeKey", "ScopedLimiter", "spare_budget_only"]

_LIMIT_IN_MESSAGE = re.compile(r"\((\d+(?:\.\d+)?)(?: QPS)?\)")
_SPARE_ONLY: ContextVar[bool] = ContextVar("bulkops_spare_budget_only", default=False)


@contextmanager
def spare_budget_only() -> Iterator[None]:
    """Requests made inside (in this task) use only budget no other request is waiting for."""
    token = _SPARE_ONLY.set(True)
    try:
        yield
    finally:
        _SPARE_ONLY.reset(token)


@dataclass(frozen=True, slots=True, order=True)
class ScopeKey:
    """Names one bucket. ``scope_name`` is the index name or the namespace."""

    operation: str
    scope_kind: ScopeKind
    scope_name: str
    unit: Unit

    def __str__(self) -> str:
        return f"{self.operation}/{self.scope_kind}:{self.scope_name}/{self.unit}"


class ScopedLimiter:
    """Every bucket of one index. ``index_name`` names the index scope in stats (a host if unknown)."""

    def __init__(
        self,
        profile: Profile,
        *,
        index_name: str,
        clock: Clock,
        tuning: AdaptiveTuning | None = None,
    ) -> None:
        self.profile = profile
        self.index_name = index_name
        self._clock = clock
        self._tuning = tuning or AdaptiveTuning()
        self._buckets: dict[ScopeKey, AdaptiveBucket] = {}
        self._learned: dict[tuple[str, ScopeKind, Unit], float] = {}
        self._spare_turn = anyio.Lock()  # spare-budget requests book one at a time

    def _rows(self, operation: str) -> Iterator[tuple[ScopeKind, Unit, float]]:
        for limit in self.profile.limits_for(operation):
            yield limit.scope, limit.unit, limit.rate
        for (op, kind, unit), rate in self._learned.items():
            if op == operation and self.profile.rate(op, kind, unit) is None:
                yield kind, unit, rate

    def _bucket(self, key: ScopeKey, ceiling: float) -> AdaptiveBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = AdaptiveBucket(ceiling, clock=self._clock, tuning=self._tuning)
        return bucket

    def _key(self, operation: str, kind: ScopeKind, unit: Unit, namespace: str) -> ScopeKey:
        return ScopeKey(operation, kind, namespace if kind == "namespace" else self.index_name, unit)

    def applicable(
        self, operation: str, *, namespace: str, records: int = 0, size: int = 0
    ) -> list[tuple[ScopeKey, AdaptiveBucket, float]]:
        """The buckets a request must pass with their weights, narrowest scope first."""
        found: list[tuple[ScopeKey, AdaptiveBucket, float]] = []
        for kind, unit, rate in self._rows(operation):
            weight = 1.0 if unit == "requests" else float(records if unit == "records" else size)
            if weight <= 0:
                continue
            key = self._key(operation, kind, unit, namespace)
            found.append((key, self._bucket(key, rate), weight))
        found.sort(key=lambda item: (item[0].scope_kind != "namespace", item[0].unit))
        return found

    async def acquire(self, operation: str, *, namespace: str, records: int = 0, size: int = 0) -> float:
        """Wait until every applicable bucket admits the request; returns the seconds waited."""
        start = self._clock.now()
        spare = _SPARE_ONLY.get()
        for _, bucket, weight in self.applicable(operation, namespace=namespace, records=records, size=size):
            if spare:
                await self._pass_spare(bucket, weight)
            else:
                await self._pass(bucket, weight)
        return self._clock.now() - start

    async def _pass_spare(self, bucket: AdaptiveBucket, weight: float) -> None:
        """Book ``bucket`` once nothing is booked ahead of now (see the module docstring)."""
        async with self._spare_turn:
            while (backlog := bucket.backlog()) > 0:
                await self._clock.sleep(backlog)
            await self._pass(bucket, weight)

    async def _pass(self, bucket: AdaptiveBucket, weight: float) -> None:
        """Book ``bucket`` and sleep until the slot; book again if a 429 cut or held it meanwhile."""
        while True:
            reservation = bucket.reserve(weight)
            delay = reservation.release_at - self._clock.now()
            if delay <= 0:
                return
            try:
                await self._clock.sleep(delay)
            except anyio.get_cancelled_exc_class():
                bucket.cancel(reservation)
                raise
            if bucket.generation == reservation.generation:
                return

    def on_success(self, operation: str, *, namespace: str, records: int = 0, size: int = 0) -> None:
        for _, bucket, _ in self.applicable(operation, namespace=namespace, records=records, size=size):
            bucket.on_success()

    def on_rate_limited(
        self,
        operation: str,
        *,
        namespace: str,
        named: NamedLimit | None,
        message: str = "",
        retry_after: float | None = None,
        records: int = 0,
        size: int = 0,
    ) -> list[ScopeKey]:
        """Cut the scope the 429 names (or every scope the request used); returns the keys cut."""
        if named is None:
            return self._cut(self._targets(operation, namespace, records, size), retry_after)
        op = named.operation if named.operation in OPERATIONS else operation
        row = (op, named.scope_kind, named.unit)
        ceiling = self.profile.rate(*row) or self._learned.get(row) or _ceiling_from(message)
        if ceiling is None:
            return self._cut(self._targets(operation, namespace, records, size), retry_after)
        if self.profile.rate(*row) is None:
            self._learned[row] = ceiling
        # The request's own namespace, not the spelling in the message ("" may appear as "__default__").
        key = self._key(op, named.scope_kind, named.unit, namespace)
        return self._cut([(key, self._bucket(key, ceiling))], retry_after)

    def _targets(
        self, operation: str, namespace: str, records: int, size: int
    ) -> list[tuple[ScopeKey, AdaptiveBucket]]:
        return [
            (key, bucket)
            for key, bucket, _ in self.applicable(operation, namespace=namespace, records=records, size=size)
        ]

    @staticmethod
    def _cut(targets: list[tuple[ScopeKey, AdaptiveBucket]], retry_after: float | None) -> list[ScopeKey]:
        cut: list[ScopeKey] = []
        for key, bucket in targets:
            bucket.on_rate_limited()
            if retry_after:
                bucket.hold(retry_after)
            cut.append(key)
        return cut

    def rates(self) -> dict[ScopeKey, float]:
        """Current rate of every bucket created so far (units per second)."""
        return {key: bucket.rate for key, bucket in sorted(self._buckets.items())}

    def bucket(self, key: ScopeKey) -> AdaptiveBucket | None:
        return self._buckets.get(key)

    def __repr__(self) -> str:
        name, count = self.index_name, len(self._buckets)
        return f"ScopedLimiter(profile={self.profile.name!r}, index={name!r}, buckets={count})"


def _ceiling_from(message: str) -> float | None:
    match = _LIMIT_IN_MESSAGE.search(message)
    return float(match.group(1)) if match else None
