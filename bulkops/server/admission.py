"""What happens to a data-plane request before it does any work: latency, faults, rate limits
(and, for ``after-`` faults, what happens to its answer once the work is done).

Order: the injected latency is served first (it models the network and server time), then an
injected fault may replace the answer, then the rate limiter admits or refuses with a 429 whose
message is :func:`bulkops.limits.profiles.format_rate_limit_message` (the client parses it).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from contextvars import ContextVar

from bulkops.clock import Clock
from bulkops.limits.profiles import PROFILES, Limit, Unit, format_rate_limit_message
from bulkops.server.config import ServerConfig
from bulkops.server.faults import FaultInjector, FaultRule
from bulkops.server.limits import RateLimiter
from bulkops.server.wire import ApiProblem

__all__ = ["Admission", "InjectedReset"]

# An ``after-`` fault chosen for the current request, applied by the middleware once the work is done.
_AFTER: ContextVar[tuple[FaultRule, str, str] | None] = ContextVar("bulkops_after_fault", default=None)


class InjectedReset(Exception):
    """Raised to make the middleware reset the connection instead of answering."""


class Admission:
    """Latency, fault and rate-limit gate shared by every index of one server."""

    def __init__(self, config: ServerConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._random = random.Random(config.seed)
        self._faults = FaultInjector(config.faults, config.seed)
        self._limiter = RateLimiter(config.limits, clock) if config.limits is not None else None

    async def admit(
        self, operation: str, index: str, namespace: str, amounts: Mapping[Unit, float] | None = None
    ) -> None:
        latency = self._config.latency_for(operation)
        if latency.active:
            delay = latency.fixed_ms + self._random.uniform(0, latency.jitter_ms)
            await self._clock.sleep(delay / 1000)
        rule = self._faults.choose(operation)
        if rule is not None and rule.after:
            _AFTER.set((rule, operation, index))
        elif rule is not None:
            await self._inject(rule, operation, index)
        if self._limiter is not None:
            refusal = self._limiter.admit(operation, index, namespace, amounts or {"requests": 1})
            if refusal is not None:
                raise ApiProblem(429, format_rate_limit_message(refusal.limit, refusal.scope_name))

    @staticmethod
    def begin_request() -> None:
        _AFTER.set(None)

    async def after_work(self) -> None:
        """Apply the ``after-`` fault of this request, if one was chosen (the work is already done)."""
        pending = _AFTER.get()
        if pending is not None:
            _AFTER.set(None)
            await self._inject(*pending)

    async def _inject(self, rule: FaultRule, operation: str, index: str) -> None:
        if rule.kind == "stall":
            await self._clock.sleep(rule.stall_seconds)
        elif rule.kind == "reset":
            raise InjectedReset
        elif rule.kind == "429":
            raise ApiProblem(429, format_rate_limit_message(self._spurious_limit(operation), index))
        else:
            status = int(rule.kind)
            text = "Internal server error" if status == 500 else "Service unavailable"
            raise ApiProblem(status, f"{text} (injected fault)")

    def _spurious_limit(self, operation: str) -> Limit:
        profile = self._config.limits or PROFILES["default"]
        for limit in profile.limits_for(operation):
            if limit.scope == "index" and limit.unit == "requests":
                return limit
        return Limit(operation, "index", "requests", 100)
