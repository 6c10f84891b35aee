"""The request loop: rate limit, send, classify, and retry one logical request, whatever the transport.

Every request of a client goes through :meth:`RequestExecutor.run`:

1. wait in the scoped limiter (data-plane requests; control-plane requests have no documented limits),
2. check the job deadline, then call the :class:`Call`'s own ``send`` (REST or gRPC: the executor knows
   neither; it sees an :class:`Answer` or a raised :class:`~bulkops.errors.TransportError`),
3. success: feed it to the limiter (additive increase) and the retry budget, return the answer's value;
4. an error answer (already classified by the transport through the status tables in
   :mod:`bulkops.errors`): a 429 (or gRPC RESOURCE_EXHAUSTED) is parsed once
   (:func:`~bulkops.limits.rate_limit_message.parse_rate_limit_message`), cuts the scope it names
   (multiplicative decrease) and holds it for ``Retry-After``;
5. retry when the policy allows it, attempts remain, the retry budget has tokens and the deadline
   leaves room for the wait; else raise the error itself (first attempt, or a non-retryable error) or
   :class:`~bulkops.errors.RetryExhaustedError` wrapping the last one.

The API key is scrubbed from every error here, whichever transport produced it. Nothing here prints;
retries are logged at DEBUG on ``bulkops.api`` without URLs' query strings or headers, and every event
goes to the stats subscribers.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from bulkops.api.stats import EventKind, RequestEvent, StatsRecorder
from bulkops.clock import Clock
from bulkops.errors import (
    ApiError,
    BulkopsError,
    RateLimitedError,
    RequestTooLargeError,
    RetryExhaustedError,
    TransportError,
    redact,
)
from bulkops.limits.rate_limit_message import parse_rate_limit_message
from bulkops.limits.retry import RetryBudget, RetryPolicy
from bulkops.limits.scoped import ScopedLimiter

__all__ = ["Answer", "Call", "RequestExecutor", "Send"]

log = logging.getLogger("bulkops.api")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    """What one attempt got back from the server, in terms both transports share.

    ``status`` is the HTTP status, or for gRPC the HTTP status of the same family (OK = 200; see
    :data:`bulkops.errors.GRPC_HTTP_STATUS`), so statistics and retry rules read the same. ``error`` is
    None on success (then ``value`` is the decoded answer); otherwise the classified error.
    """

    status: int
    value: T | None = None
    received: int = 0
    """Bytes of the answer's body (or message), for the statistics."""
    error: ApiError | None = None
    retry_after: float | None = None
    """Seconds the server asked us to wait (``Retry-After``, or gRPC's trailer equivalents)."""


Send = Callable[[float], Awaitable[Answer[T]]]
"""One attempt: send with this timeout (seconds). Raises TransportError when no answer came back."""


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One logical request. ``operation`` names the limiter rows (see limits/profiles.py)."""

    operation: str
    send: Send[T]
    size: int = 0
    """Bytes the request carries (the limiter's ``bytes`` weight and ``bytes_sent``)."""
    namespace: str = ""
    records: int = 0
    """Records the request carries (IDs to delete, vectors to upsert) — the limiter's record weight."""
    limiter: ScopedLimiter | None = None
    idempotent: bool = True
    """Data-plane requests are idempotent. Control-plane creates are not: they are retried only on 429."""


class RequestExecutor:
    """Runs :class:`Call` objects with pacing, retries, a retry budget and a deadline."""

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        budget: RetryBudget,
        clock: Clock,
        stats: StatsRecorder,
        secret: str | None,
        deadline_at: float | None = None,
        timeout: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self.budget = budget
        self.clock = clock
        self.stats = stats
        self.deadline_at = deadline_at
        self.timeout = timeout
        self._secret = secret
        self._rng = rng or random.Random()

    async def run(self, call: Call[T]) -> T:
        """Send ``call`` until it succeeds or may no longer be retried; raise bulkops errors."""
        size = call.size
        attempt = 0
        while True:
            attempt += 1
            if call.limiter is not None:
                waited = await call.limiter.acquire(
                    call.operation, namespace=call.namespace, records=call.records, size=size
                )
                self.stats.wait_seconds += waited
            try:
                timeout = self._attempt_timeout(call, attempt)
            except RetryExhaustedError as exc:
                raise self._give_up(call, exc, attempt, None) from None
            started = self.clock.now()
            self.stats.requests[call.operation] += 1
            self.stats.bytes_sent += size
            self.stats.in_flight += 1
            status: int | None = None
            retry_after: float | None = None
            try:
                answer = await call.send(timeout)
            except TransportError as exc:
                error: BulkopsError = self._scrubbed(exc)
                self.stats.transport_errors += 1
            else:
                self.stats.bytes_received += answer.received
                self.stats.statuses[answer.status] += 1
                status = answer.status
                if answer.error is None:
                    self._succeeded(call, attempt, started, size, answer.status)
                    return cast(T, answer.value)
                error = self._scrubbed(answer.error)
                retry_after = answer.retry_after
            finally:
                self.stats.in_flight -= 1
            scopes = (
                self._rate_limited(call, error, attempt, size) if isinstance(error, RateLimitedError) else ()
            )
            delay = self._retry_delay(call, error, attempt, retry_after)
            if delay is None:
                raise self._give_up(call, error, attempt, status)
            self.stats.retries[call.operation] += 1
            log.debug(
                "retrying %s (attempt %d failed: %s) in %.3f s",
                call.operation,
                attempt,
                _label(error),
                delay,
            )
            self._emit(
                "retry",
                call,
                attempt,
                status=status,
                elapsed=self.clock.now() - started,
                delay=delay,
                error=_label(error),
                scopes=scopes,
            )
            await self.clock.sleep(delay)

    def _emit(self, kind: EventKind, call: Call[Any], attempt: int, **details: Any) -> None:
        """Tell subscribers what happened to this attempt of ``call`` (records carried included)."""
        self.stats.emit(RequestEvent(kind, call.operation, attempt, records=call.records, **details))

    def _scrubbed(self, error: BulkopsError) -> BulkopsError:
        """``error`` without the API key (a proxy may echo request headers back, a user may paste the
        key as a host); the same object when there was nothing to remove."""
        if not self._secret or self._secret not in str(error):
            return error
        if isinstance(error, ApiError):
            return error.redacted(self._secret)
        scrubbed = type(error)(redact(str(error), self._secret))
        scrubbed.__cause__ = None
        return scrubbed

    def _attempt_timeout(self, call: Call[Any], attempt: int) -> float:
        if self.deadline_at is None:
            return self.timeout
        remaining = self.deadline_at - self.clock.now()
        if remaining <= 0:
            raise RetryExhaustedError(
                f"{call.operation}: the job deadline passed before attempt {attempt} could be sent"
            )
        return min(self.timeout, remaining)

    def _succeeded(self, call: Call[Any], attempt: int, started: float, size: int, status: int) -> None:
        self.stats.succeeded[call.operation] += 1
        self.stats.records += call.records
        self.budget.record_success()
        if call.limiter is not None:
            call.limiter.on_success(call.operation, namespace=call.namespace, records=call.records, size=size)
        self._emit("completed", call, attempt, status=status, elapsed=self.clock.now() - started)

    def _rate_limited(
        self, call: Call[Any], error: RateLimitedError, attempt: int, size: int
    ) -> tuple[str, ...]:
        """Count the 429, read which scope it names (once, here, for both transports) and cut it."""
        self.stats.rate_limited[call.operation] += 1
        named = parse_rate_limit_message(error.message)
        if named is not None:
            error.operation, error.scope_kind, error.scope_name = (
                named.operation,
                named.scope_kind,
                named.scope_name,
            )
        cut: tuple[str, ...] = ()
        if call.limiter is not None:
            hold = None
            if error.retry_after is not None:
                hold = min(error.retry_after, self.policy.retry_after_cap)
            keys = call.limiter.on_rate_limited(
                call.operation,
                namespace=call.namespace,
                named=named,
                message=error.message,
                retry_after=hold,
                records=call.records,
                size=size,
            )
            cut = tuple(str(key) for key in keys)
        self._emit("rate_limited", call, attempt, status=error.status, error=_label(error), scopes=cut)
        return cut

    def _retry_delay(
        self, call: Call[Any], error: BulkopsError, attempt: int, retry_after: float | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when the call must give up now."""
        if isinstance(error, RequestTooLargeError):
            return None  # the caller splits the batch; the same request would fail again
        if not self.policy.is_retryable(error, idempotent=call.idempotent):
            return None
        # 429s are paced by the adaptive limiter; the budget guards against a failing server, and (as in
        # gRFC A6) every failed attempt costs a token, the last one included.
        counts_against_budget = not isinstance(error, RateLimitedError)
        if counts_against_budget:
            self.budget.record_failure()
        if attempt >= self.policy.max_attempts:
            return None
        if counts_against_budget and not self.budget.allows_retry():
            return None
        delay = self.policy.delay_for(error, attempt, self._rng, retry_after=retry_after)
        if self.deadline_at is not None and self.clock.now() + delay >= self.deadline_at:
            return None
        return delay

    def _give_up(
        self, call: Call[Any], error: BulkopsError, attempt: int, status: int | None
    ) -> BulkopsError:
        self.stats.failed[call.operation] += 1
        retryable = self.policy.is_retryable(error, idempotent=call.idempotent) and not isinstance(
            error, RequestTooLargeError
        )
        self._emit("failed", call, attempt, status=status, error=_label(error))
        if isinstance(error, RetryExhaustedError) or not retryable or self.policy.max_attempts == 1:
            return error  # nothing was retried: the error itself says it all
        reason = self._exhaustion_reason(attempt)
        message = redact(
            f"{call.operation} failed after {attempt} attempt(s) ({reason}): {error}", self._secret
        )
        exhausted = RetryExhaustedError(message, last_error=error)
        exhausted.__cause__ = error
        return exhausted

    def _exhaustion_reason(self, attempt: int) -> str:
        if attempt >= self.policy.max_attempts:
            return f"max_attempts={self.policy.max_attempts} reached"
        if not self.budget.allows_retry():
            return "retry budget exhausted: the server keeps failing"
        return "the job deadline leaves no time for another attempt"


def _label(error: BaseException) -> str:
    if isinstance(error, ApiError):
        return f"gRPC {error.grpc_status}" if error.grpc_status else f"HTTP {error.status}"
    return type(error).__name__
