"""Error mapping and the retry loop against aioresponses: status families, bodies, 429, budget, deadline."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

from bulkops.api import Client, RequestEvent
from bulkops.api.executor import Call
from bulkops.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DeletionProtectedError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitedError,
    RequestTimeoutError,
    RequestTooLargeError,
    RetryExhaustedError,
    ServerError,
    TransportError,
)
from bulkops.limits.profiles import Limit, format_rate_limit_message

from .conftest import CONTROLLER, INDEX_HOST, InstantClock

MakeClient = Callable[..., Client]
DESCRIBE = f"{CONTROLLER}/indexes/idx"
DELETE = f"{INDEX_HOST}/vectors/delete"
FETCH = re.compile(r"^http://idx\.test:5081/vectors/fetch\?.*$")

CONTROL_BODY = b'{"error":{"code":"%s","message":"%s"},"status":%d}'
DATA_BODY = b'{"code":%d,"message":"%s","details":[]}'


@pytest.mark.parametrize(
    ("status", "body", "expected", "message"),
    [
        (
            400,
            DATA_BODY
            % (
                3,
                b"Vector dimension 2 does not match",
            ),
            BadRequestError,
            "dimension 2",
        ),
        (401, b"API key is missing or invalid", AuthenticationError, "missing or invalid"),
        (403, CONTROL_BODY % (b"FORBIDDEN", b"Quota exceeded", 403), ForbiddenError, "Quota"),
        (
            403,
            CONTROL_BODY % (b"FORBIDDEN", b"Deletion protection is enabled for this index.", 403),
            DeletionProtectedError,
            "Deletion protection",
        ),
        (404, DATA_BODY % (5, b"Namespace not found"), NotFoundError, "Namespace not found"),
        (409, CONTROL_BODY % (b"ALREADY_EXISTS", b"Resource already exists.", 409), ConflictError, "exists"),
        (
            412,
            CONTROL_BODY % (b"FAILED_PRECONDITION", b"pending restore", 412),
            PreconditionFailedError,
            "pending",
        ),
        (
            422,
            CONTROL_BODY % (b"UNPROCESSABLE_ENTITY", b"missing field", 422),
            BadRequestError,
            "missing field",
        ),
        (501, b"<html><body>Not Implemented</body></html>", ServerError, "Not Implemented"),
    ],
)
async def test_non_retryable_statuses_raise_their_class_after_one_attempt(
    make_client: MakeClient, status: int, body: bytes, expected: type[ApiError], message: str
) -> None:
    async with make_client() as client:
        with aioresponses() as mock:
            mock.get(DESCRIBE, status=status, body=body, headers={"x-pinecone-request-id": "req-1"})
            with pytest.raises(expected) as caught:
                await client.control.describe_index("idx")
        assert type(caught.value) is expected
        assert caught.value.status == status
        assert message in caught.value.message
        assert caught.value.request_id == "req-1"
        assert client.stats.requests["describe_index"] == 1
        assert client.stats.total_retries == 0


@pytest.mark.parametrize(
    ("status", "body", "last"),
    [
        (408, b"request timeout", ApiError),
        (429, DATA_BODY % (8, b"Too many requests"), RateLimitedError),
        (500, CONTROL_BODY % (b"UNKNOWN", b"Internal server error", 500), ServerError),
        (502, b"<html>Bad Gateway</html>", ServerError),
        (503, b"upstream connect error", ServerError),
        (504, b"", ServerError),
    ],
)
async def test_retryable_statuses_are_retried_until_attempts_run_out(
    make_client: MakeClient, status: int, body: bytes, last: type[ApiError]
) -> None:
    async with make_client(max_attempts=3) as client:
        with aioresponses() as mock:
            mock.post(DELETE, status=status, body=body, repeat=True)
            with pytest.raises(RetryExhaustedError, match="3 attempt") as caught:
                await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        assert isinstance(caught.value.last_error, last)
        assert caught.value.last_error.status == status
        assert client.stats.requests["delete"] == 3
        assert client.stats.retries["delete"] == 2
        assert client.stats.failed["delete"] == 1


async def test_a_transient_5xx_then_success_returns_the_answer(make_client: MakeClient) -> None:
    async with make_client() as client:
        with aioresponses() as mock:
            mock.post(DELETE, status=503, body=b"busy")
            mock.post(DELETE, payload={})
            await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        stats = client.stats
        assert stats.requests["delete"] == 2
        assert stats.succeeded["delete"] == 1
        assert stats.statuses == {503: 1, 200: 1}


async def test_429_with_retry_after_waits_exactly_that_long(
    make_client: MakeClient, clock: InstantClock
) -> None:
    events: list[RequestEvent] = []
    async with make_client() as client:
        client.subscribe(events.append)
        with aioresponses() as mock:
            mock.post(DELETE, status=429, body=DATA_BODY % (8, b"slow down"), headers={"Retry-After": "1.5"})
            mock.post(DELETE, payload={})
            await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        assert clock.sleeps == [1.5]
        assert [e.kind for e in events] == ["rate_limited", "retry", "completed"]
        assert events[1].delay == 1.5
        assert client.stats.rate_limited["delete"] == 1


async def test_retry_after_is_capped(make_client: MakeClient, clock: InstantClock) -> None:
    from bulkops.limits.retry import RetryPolicy

    async with make_client(retry=RetryPolicy(retry_after_cap=4.0)) as client:
        with aioresponses() as mock:
            mock.post(DELETE, status=429, body=b"slow down", headers={"Retry-After": "3600"})
            mock.post(DELETE, payload={})
            await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        assert clock.sleeps == [4.0]


async def test_429_without_retry_after_backs_off_with_jitter(
    make_client: MakeClient, clock: InstantClock
) -> None:
    from bulkops.limits.retry import RetryPolicy

    async with make_client(retry=RetryPolicy(base_delay=0.4)) as client:
        with aioresponses() as mock:
            mock.post(DELETE, status=429, body=b"Too Many Requests")
            mock.post(DELETE, status=429, body=b"Too Many Requests")
            mock.post(DELETE, payload={})
            await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        assert len(clock.sleeps) == 2
        assert 0 <= clock.sleeps[0] <= 0.4
        assert 0 <= clock.sleeps[1] <= 0.8


async def test_429_naming_a_scope_slows_that_scope(make_client: MakeClient) -> None:
    message = format_rate_limit_message(Limit("fetch", "index", "requests", 100), "idx")
    async with make_client(limits="default", max_attempts=1) as client:
        index = client.index_at(INDEX_HOST, name="idx")
        with aioresponses() as mock:
            mock.get(FETCH, status=429, body=DATA_BODY % (8, message.encode()))
            with pytest.raises(RateLimitedError) as caught:
                await index.fetch(["a"], namespace="ns")
        assert (caught.value.operation, caught.value.scope_kind) == ("fetch", "index")
        assert client.stats.rates["fetch/index:idx/requests"] == 50.0
        assert client.stats.rates["fetch/index:idx/requests"] < 100


async def test_monthly_quota_429_fails_at_once(make_client: MakeClient) -> None:
    body = DATA_BODY % (
        8,
        b"Request failed. You've reached your write unit limit for the current month (2000000).",
    )
    async with make_client() as client:
        with aioresponses() as mock:
            mock.post(DELETE, status=429, body=body, repeat=True)
            with pytest.raises(RateLimitedError, match="current month"):
                await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        assert client.stats.requests["delete"] == 1


async def test_retry_budget_makes_a_dead_server_fail_fast(make_client: MakeClient) -> None:
    async with make_client(max_attempts=6, retry_budget_tokens=20) as client:
        index = client.index_at(INDEX_HOST)
        reasons = []
        with aioresponses() as mock:
            mock.post(DELETE, status=503, body=b"down", repeat=True)
            for _ in range(4):
                with pytest.raises(RetryExhaustedError) as caught:
                    await index.delete_ids(["a"], namespace="ns")
                reasons.append(str(caught.value))
        # 20 tokens: 6 failures (attempts cap), 4 more (tokens 10 = half), then 1 attempt per call
        attempts = [6, 4, 1, 1]
        assert client.stats.requests["delete"] == sum(attempts)
        assert "max_attempts=6" in reasons[0]
        assert all("retry budget exhausted" in reason for reason in reasons[1:])
        assert client.stats.retry_budget == 20 - sum(attempts)


async def test_successes_refill_the_budget(make_client: MakeClient) -> None:
    async with make_client(max_attempts=6, retry_budget_tokens=4) as client:
        index = client.index_at(INDEX_HOST)
        with aioresponses() as mock:
            mock.post(DELETE, status=503, body=b"down")
            mock.post(DELETE, status=503, body=b"down")
            mock.post(DELETE, payload={}, repeat=True)
            with pytest.raises(RetryExhaustedError, match="budget"):
                await index.delete_ids(["a"], namespace="ns")  # 4 -> 3 -> 2: no retry at 2
            for _ in range(10):
                await index.delete_ids(["a"], namespace="ns")
        assert client.stats.retry_budget == pytest.approx(3.0)


async def test_deadline_stops_retries_that_would_end_after_it(
    make_client: MakeClient, clock: InstantClock
) -> None:
    async with make_client(deadline=5.0, max_attempts=10) as client:
        with aioresponses() as mock:
            mock.post(DELETE, status=500, body=b"oops", headers={"Retry-After": "3"}, repeat=True)
            with pytest.raises(RetryExhaustedError, match="deadline"):
                await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        assert clock.sleeps == [3.0]
        assert client.stats.requests["delete"] == 2


async def test_nothing_is_sent_after_the_deadline(make_client: MakeClient, clock: InstantClock) -> None:
    async with make_client(deadline=5.0) as client:
        clock.t = 6.0
        with aioresponses(), pytest.raises(RetryExhaustedError, match="deadline passed"):
            await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        assert client.stats.total_requests == 0
        assert client.stats.failed["delete"] == 1


async def test_connection_errors_are_retried(make_client: MakeClient) -> None:
    async with make_client() as client:
        with aioresponses() as mock:
            mock.post(DELETE, exception=aiohttp.ServerDisconnectedError())
            mock.post(DELETE, exception=aiohttp.ClientConnectionError("Connection reset by peer"))
            mock.post(DELETE, payload={})
            await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        assert client.stats.transport_errors == 2
        assert client.stats.succeeded["delete"] == 1


async def test_timeouts_become_request_timeout_errors(make_client: MakeClient) -> None:
    async with make_client(max_attempts=2) as client:
        with aioresponses() as mock:
            mock.post(DELETE, exception=TimeoutError(), repeat=True)
            with pytest.raises(RetryExhaustedError) as caught:
                await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")
        assert isinstance(caught.value.last_error, RequestTimeoutError)
        assert isinstance(caught.value.last_error, TransportError)


async def test_without_retries_the_error_itself_is_raised(make_client: MakeClient) -> None:
    async with make_client(max_attempts=1) as client:
        with aioresponses() as mock:
            mock.post(DELETE, status=503, body=b"down")
            with pytest.raises(ServerError):
                await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")


async def test_a_non_idempotent_call_is_not_retried(make_client: MakeClient) -> None:
    async with make_client() as client:
        executor = client._running()
        with aioresponses() as mock:
            mock.post(DELETE, status=503, body=b"down", repeat=True)
            with pytest.raises(ServerError):
                await executor.run(Call("delete", "POST", DELETE, body=b"{}", idempotent=False))
        assert client.stats.requests["delete"] == 1


def _ids_in(url: Any) -> list[str]:
    return [value for key, value in url.query.items() if key == "ids"]


@pytest.mark.parametrize("status", [413, 414, 431])
async def test_fetch_splits_a_batch_rejected_as_too_large(make_client: MakeClient, status: int) -> None:
    sizes: list[int] = []

    def answer(url: Any, **_: Any) -> CallbackResult:
        ids = _ids_in(url)
        sizes.append(len(ids))
        if len(ids) > 2:
            return CallbackResult(status=status, body="URI Too Long")
        return CallbackResult(payload={"vectors": {i: {"id": i, "values": [0.5]} for i in ids}})

    async with make_client() as client:
        with aioresponses() as mock:
            mock.get(FETCH, callback=answer, repeat=True)
            found = await client.index_at(INDEX_HOST).fetch([f"id{i}" for i in range(8)], namespace="ns")
        assert sorted(found) == [f"id{i}" for i in range(8)]
        assert sizes == [8, 4, 2, 2, 4, 2, 2]
        assert client.stats.total_retries == 0


async def test_a_single_id_too_large_is_reported(make_client: MakeClient) -> None:
    async with make_client() as client:
        with aioresponses() as mock:
            mock.get(FETCH, status=414, body=b"URI Too Long", repeat=True)
            with pytest.raises(RequestTooLargeError):
                await client.index_at(INDEX_HOST).fetch(["x" * 500], namespace="ns")
        assert client.stats.requests["fetch"] == 1


async def test_fetch_cuts_batches_by_the_url_budget(make_client: MakeClient) -> None:
    lengths: list[int] = []

    def answer(url: Any, **_: Any) -> CallbackResult:
        lengths.append(len(url.raw_path_qs))
        return CallbackResult(payload={"vectors": {}})

    async with make_client(max_fetch_url_bytes=300) as client:
        with aioresponses() as mock:
            mock.get(FETCH, callback=answer, repeat=True)
            await client.index_at(INDEX_HOST).fetch([f"doc-{i:04d}#chunk" for i in range(50)], namespace="ns")
    assert len(lengths) > 1
    assert all(length <= 300 for length in lengths)
