"""Retry policy maths and the retry budget: pure, no clock."""

from __future__ import annotations

import random

import pytest

from bulkops.errors import (
    BadRequestError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    error_from_response,
)
from bulkops.limits.retry import NO_RETRY, RetryBudget, RetryPolicy


def test_full_jitter_stays_within_the_exponential_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    rng = random.Random(7)
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.8  # really spread over the whole range
        assert min(delays) < cap * 0.2


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(retry_after_cap=10.0)
    rng = random.Random(1)
    assert policy.delay_for(RateLimitedError(429, "slow down", retry_after=2.5), 1, rng) == 2.5
    assert policy.delay_for(RateLimitedError(429, "slow down", retry_after=600), 1, rng) == 10.0


def test_429_without_retry_after_uses_backoff() -> None:
    policy = RetryPolicy(base_delay=1.0)
    delay = policy.delay_for(RateLimitedError(429, "slow down"), 2, random.Random(3))
    assert 0.0 <= delay <= 2.0


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    assert RetryPolicy().is_retryable(error_from_response(status, b"oops"))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 413, 414, 422, 431, 501])
def test_other_statuses_are_never_retried(status: int) -> None:
    assert not RetryPolicy().is_retryable(error_from_response(status, b"no"))


def test_transport_errors_are_retried_unless_switched_off() -> None:
    assert RetryPolicy().is_retryable(TransportError("reset"))
    assert RetryPolicy().is_retryable(RequestTimeoutError("slow"))
    assert not RetryPolicy(retry_transport_errors=False).is_retryable(TransportError("reset"))


def test_non_idempotent_requests_are_never_retried() -> None:
    assert not RetryPolicy().is_retryable(ServerError(503, "down"), idempotent=False)


def test_monthly_quota_429_is_not_retried() -> None:
    body = (
        b'{"code":8,"message":"Request failed. You\'ve reached your write unit limit for the current '
        b'month (2000000). To continue writing data, upgrade your plan.","details":[]}'
    )
    error = error_from_response(429, body)
    assert isinstance(error, RateLimitedError)
    assert not RetryPolicy().is_retryable(error)


def test_errors_that_are_not_bulkops_errors_are_not_retried() -> None:
    assert not RetryPolicy().is_retryable(ValueError("bug"))
    assert not NO_RETRY.is_retryable(BadRequestError(400, "x"))
    assert NO_RETRY.max_attempts == 1
    assert not RetryPolicy().is_retryable(NotFoundError(404, "gone"))


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="delays"):
        RetryPolicy(base_delay=-1)


def test_budget_stops_retries_after_half_the_tokens_and_refills_with_successes() -> None:
    budget = RetryBudget(max_tokens=10, token_ratio=0.5)
    for _ in range(4):
        budget.record_failure()
    assert budget.allows_retry()  # 6 > 5
    budget.record_failure()
    assert not budget.allows_retry()  # 5 is not > 5
    budget.record_success()
    assert budget.allows_retry()  # 5.5
    for _ in range(100):
        budget.record_success()
    assert budget.tokens == 10
    for _ in range(100):
        budget.record_failure()
    assert budget.tokens == 0


def test_non_idempotent_requests_are_retried_only_after_429() -> None:
    policy = RetryPolicy()
    assert policy.is_retryable(RateLimitedError(429, "slow down"), idempotent=False)
    assert not policy.is_retryable(TransportError("reset"), idempotent=False)
