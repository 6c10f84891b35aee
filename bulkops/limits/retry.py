"""Retry policy as data, pure backoff maths, and a retry budget (gRFC A6 retry throttling).

The policy only answers questions ("may this error be retried?", "how long to wait before attempt n?");
the request loop in :mod:`bulkops.api.executor` owns the clock and the sleeping, so every number here
can be tested without waiting.

- Full jitter (``uniform(0, min(max_delay, base_delay * 2**(n-1)))``) spreads retries of many concurrent
  requests instead of synchronising them into waves.
- ``Retry-After`` wins when the server sends it, capped by ``retry_after_cap``.
- The :class:`RetryBudget` is shared by every request of a client: each retryable failure costs a
  token, each success earns ``token_ratio`` back, and once the bucket is at or below half only first
  attempts go out. A dead server therefore costs about ``max_tokens / 2`` retries in total, not
  ``max_attempts`` per request.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bulkops.errors import ApiError, RateLimitedError, TransportError

__all__ = ["DEFAULT_RETRYABLE_STATUSES", "NO_RETRY", "RetryBudget", "RetryPolicy"]

DEFAULT_RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})

_MONTHLY_QUOTA_WORDS = ("for the current month", "unit limit for the current")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Which failures are retried, how often, and how long to wait between attempts."""

    max_attempts: int = 6
    """Attempts in total, the first one included."""
    base_delay: float = 0.2
    max_delay: float = 20.0
    retry_after_cap: float = 30.0
    """A server-given ``Retry-After`` is honoured up to this many seconds."""
    retryable_statuses: frozenset[int] = field(default=DEFAULT_RETRYABLE_STATUSES)
    retry_transport_errors: bool = True
    """Connection refused/reset and timeouts. Safe because every bulkops request is idempotent."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.retry_after_cap < 0:
            raise ValueError("delays must be >= 0")

    def is_retryable(self, error: BaseException, *, idempotent: bool = True) -> bool:
        """Whether ``error`` may be retried at all (ignoring attempts, budget and deadline).

        A non-idempotent request (a control-plane create) is retried only after a 429: the server
        refused it without acting. After a 5xx or a lost connection it may have been carried out.
        """
        if isinstance(error, RateLimitedError) and _is_monthly_quota(error.message):
            return False  # waiting seconds will not bring back a monthly quota
        if not idempotent:
            return isinstance(error, RateLimitedError) and error.status in self.retryable_statuses
        if isinstance(error, TransportError):
            return self.retry_transport_errors
        if isinstance(error, ApiError):
            return error.status in self.retryable_statuses
        return False

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter delay before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2.0 ** (attempt - 1)))
        return rng.uniform(0.0, ceiling)

    def delay_for(
        self, error: BaseException, attempt: int, rng: random.Random, *, retry_after: float | None = None
    ) -> float:
        """Seconds to wait before retrying after ``error`` on attempt ``attempt``.

        ``retry_after`` is the answer's ``Retry-After`` (a 503 may send one too); for a 429 the error
        carries it already.
        """
        if retry_after is None and isinstance(error, ApiError):
            retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self.retry_after_cap)
        return self.backoff(attempt, rng)


NO_RETRY = RetryPolicy(max_attempts=1)


def _is_monthly_quota(message: str) -> bool:
    lowered = message.lower()
    return any(words in lowered for words in _MONTHLY_QUOTA_WORDS)


class RetryBudget:
    """A token bucket of retries shared by all requests of one client (gRFC A6 retry throttling)."""

    __slots__ = ("_tokens", "max_tokens", "token_ratio")

    def __init__(self, max_tokens: float = 20.0, token_ratio: float = 0.1) -> None:
        if max_tokens <= 0 or token_ratio < 0:
            raise ValueError("max_tokens must be > 0 and token_ratio >= 0")
        self.max_tokens = float(max_tokens)
        self.token_ratio = float(token_ratio)
        self._tokens = float(max_tokens)

    @property
    def tokens(self) -> float:
        return self._tokens

    def record_failure(self) -> None:
        self._tokens = max(0.0, self._tokens - 1.0)

    def record_success(self) -> None:
        self._tokens = min(self.max_tokens, self._tokens + self.token_ratio)

    def allows_retry(self) -> bool:
        return self._tokens > self.max_tokens / 2

    def __repr__(self) -> str:
        return f"RetryBudget(tokens={self._tokens:g}/{self.max_tokens:g})"
