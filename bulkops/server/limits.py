"""Server-side enforcement of a limit profile: one token bucket per (limit row, scope name).

Each bucket holds one second of its rate (so a client pacing at or below the rate, in any pattern
smoother than one-second bursts, is never refused) and refills continuously. A request is admitted
only if every bucket that applies has room; then all of them are charged at once, so a refused
request costs nothing. A request larger than a whole bucket (e.g. 1000 deleted records against a
500/s limit) is admitted when the bucket is full and leaves it in debt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bulkops.clock import Clock
from bulkops.limits.profiles import Limit, Profile, Unit

__all__ = ["RateLimiter", "Refusal"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Which limit refused the request, for which scope name (index or namespace)."""

    limit: Limit
    scope_name: str


class _Bucket:
    __slots__ = ("capacity", "last", "rate", "tokens")

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self.last = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now

    def has_room(self, amount: float) -> bool:
        return self.tokens >= min(amount, self.capacity)


class RateLimiter:
    """Admits or refuses requests against a :class:`Profile`."""

    def __init__(self, profile: Profile, clock: Clock) -> None:
        self._profile = profile
        self._clock = clock
        self._buckets: dict[tuple[str, str, Unit, str], _Bucket] = {}

    def admit(
        self, operation: str, index: str, namespace: str, amounts: Mapping[Unit, float]
    ) -> Refusal | None:
        """Charge every applicable bucket, or none and say which one refused."""
        rows = self._profile.limits_for(operation)
        if not rows:
            return None
        now = self._clock.now()
        charged: list[tuple[_Bucket, float]] = []
        for limit in rows:
            amount = amounts.get(limit.unit, 0.0)
            if amount <= 0:
                continue
            scope_name = index if limit.scope == "index" else f"{index}/{namespace}"
            key = (limit.operation, limit.scope, limit.unit, scope_name)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(limit.rate, now)
            bucket.refill(now)
            if not bucket.has_room(amount):
                return Refusal(limit, index if limit.scope == "index" else namespace)
            charged.append((bucket, amount))
        for bucket, amount in charged:
            bucket.tokens -= amount
        return None
