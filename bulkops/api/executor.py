"""The request loop: rate limit, send, classify, and retry one logical request.

Every request of a client goes through :meth:`RequestExecutor.run`:

1. wait in the scoped limiter (data-plane requests; control-plane requests have no documented limits),
2. check the job deadline, send through the :class:`~bulkops.api.rest.transport.Transport`,
3. 2xx: feed success to the limiter (additive increase) and the retry budget, return the answer;
4. otherwise build the error (:func:`bulkops.errors.error_from_response`); a 429 cuts the scope it names
   (multiplicative decrease) and holds it for ``Retry-After``;
5. retry when the policy allows it, attempts remain, the retry budget has tokens and the deadline
   leaves room for the wait; else raise the error itself (first attempt, or a non-retryable error) or
   :class:`~bulkops.errors.RetryExhaustedError` wrapping the last one.

Nothing here prints; retries are logged at DEBUG on ``bulkops.api`` without URLs' query strings or
headers, and every event goes to the stats subscribers.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

from bulkops.api.rest.transport import HttpResponse, Transport
from bulkops.api.stats import EventKind, RequestEvent, StatsRecorder
from bulkops.clock import Clock
from bulkops.errors import (
    ApiError,
    BulkopsError,
    RateLimitedError,
    RequestTooLargeError,
    RetryExhaustedError,
    TransportError,
    error_from_response,
    parse_retry_after,
    redact,
)
from bulkops.limits.profiles import parse_rate_limit_message
from bulkops.limits.retry import RetryBudget, RetryPolicy
from bulkops.limits.scoped import ScopedLimiter

__all__ = ["Call", "RequestExecutor"]

log = logging.getLogger("bulkops.api")


@dataclass(frozen=True, slots=True)
class Call:
    """One logical request. ``operation`` names the limiter rows (see limits/profiles.py)."""

    operation: str
    method: str
    url: str
    body: bytes | None = None
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
        transport: Transport,
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
        self.transport = transport
        self.policy = policy
        self.budget = budget
        self.clock = clock
        self.stats = stats
        self.deadline_at = deadline_at
        self.timeout = timeout
        self._secret = secret
        self._rng = rng or random.Random()

    async def run(self, call: Call) -> HttpResponse:
        """Send ``call`` until it succeeds or may no longer be retried; raise bulkops errors."""
        size = len(call.body) if call.body is not None else 0
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
            try:
                response = await self.transport.send(call.method, call.url, body=call.body, timeout=timeout)
            except TransportError as exc:
                error: BulkopsError = exc
                self.stats.transport_errors += 1
                status = None
                retry_after = None
            else:
                self.stats.bytes_received += len(response.body)
                self.stats.statuses[response.status] += 1
                status = response.status
                if 200 <= response.status < 300:
                    self._succeeded(call, attempt, started, size, response.status)
                    return response
                error = error_from_response(
                    response.status,
                    self._redacted(response.body),
                    response.headers,
                    method=call.method,
                    url=call.url.split("?", 1)[0],
                )
                retry_after = parse_retry_after(response.headers.get("retry-after"))
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

    def _emit(self, kind: EventKind, call: Call, attempt: int, **details: Any) -> None:
        """Tell subscribers what happened to this attempt of ``call`` (records carried included)."""
        self.stats.emit(RequestEvent(kind, call.operation, attempt, records=call.records, **details))

    def _redacted(self, body: bytes) -> bytes:
        """An error body with the API key removed (a proxy may echo request headers back)."""
        if self._secret and self._secret.encode() in body:
            return body.replace(self._secret.encode(), b"***")
        return body

    def _attempt_timeout(self, call: Call, attempt: int) -> float:
        if self.deadline_at is None:
            return self.timeout
        remaining = self.deadline_at - self.clock.now()
        if remaining <= 0:
            raise RetryExhaustedError(
                f"{call.operation}: the job deadline passed before attempt {attempt} could be sent"
            )
        return min(self.timeout, remaining)

    def _succeeded(self, call: Call, attempt: int, started: float, size: int, status: int) -> None:
        self.stats.succeeded[call.operation] += 1
        self.stats.records += call.records
        self.budget.record_success()
        if call.limiter is not None:
            call.limiter.on_success(call.operation, namespace=call.namespace, records=call.records, size=size)
        self._emit("completed", call, attempt, status=status, elapsed=self.clock.now() - started)

    def _rate_limited(self, call: Call, error: RateLimitedError, attempt: int, size: int) -> tuple[str, ...]:
        self.stats.rate_limited[call.operation] += 1
        cut: tuple[str, ...] = ()
        if call.limiter is not None:
            hold = None
            if error.retry_after is not None:
                hold = min(error.retry_after, self.policy.retry_after_cap)
            keys = call.limiter.on_rate_limited(
                call.operation,
                namespace=call.namespace,
                named=parse_rate_limit_message(error.message),
                message=error.message,
                retry_after=hold,
                records=call.records,
                size=size,
            )
            cut = tuple(str(key) for key in keys)
        self._emit("rate_limited", call, attempt, status=429, error=_label(error), scopes=cut)
        return cut

    def _retry_delay(
        self, call: Call, error: BulkopsError, attempt: int, retry_after: float | None
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

    def _give_up(self, call: Call, error: BulkopsError, attempt: int, status: int | None) -> BulkopsError:
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
        return f"HTTP {error.status}"
    return type(error).__name__
