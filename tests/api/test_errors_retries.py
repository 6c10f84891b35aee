"""The request loop over both transports (test doubles, instant clock): status families, 429s and their
scopes, Retry-After, retries, the retry budget, the deadline; then what only one transport has."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest

from bulkops.api import Client, HttpResponse, RequestEvent, SentRequest
from bulkops.api.executor import Call
from bulkops.api.rest.exchange import http_call
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
from bulkops.limits.retry import RetryPolicy
from bulkops.testing import FakeClock

from .conftest import CONTROLLER, INDEX_HOST
from .doubles import OK, Fail, Lost, Routes, Wire, json_response, text_response

MakeClient = Callable[..., Client]
DESCRIBE = f"{CONTROLLER}/indexes/idx"
DELETE = f"{INDEX_HOST}/vectors/delete"
FETCH = re.compile(r"^http://idx\.test:5081/vectors/fetch\?.*$")

CONTROL_BODY = b'{"error":{"code":"%s","message":"%s"},"status":%d}'


@pytest.fixture(params=["rest", "grpc"])
def wire(request: pytest.FixtureRequest) -> Wire:
    return Wire(request.param)


@pytest.fixture
def over(wire: Wire, clock: FakeClock) -> Callable[..., Client]:
    def make(**options: object) -> Client:
        return wire.client(clock=clock, rng=random.Random(0), **options)

    return make


async def delete(client: Client) -> None:
    await client.index_at(INDEX_HOST).delete_ids(["a"], namespace="ns")


# --- both transports ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (Fail(400, "INVALID_ARGUMENT", "Vector dimension 2 does not match", 3), BadRequestError),
        (Fail(401, "UNAUTHENTICATED", "API key is missing or invalid", 16), AuthenticationError),
        (Fail(403, "PERMISSION_DENIED", "Quota exceeded", 7), ForbiddenError),
        (Fail(403, "PERMISSION_DENIED", "Deletion protection is enabled", 7), DeletionProtectedError),
        (Fail(404, "NOT_FOUND", "Namespace not found", 5), NotFoundError),
        (Fail(409, "ALREADY_EXISTS", "Resource already exists.", 6), ConflictError),
        (Fail(412, "FAILED_PRECONDITION", "pending restore", 9), PreconditionFailedError),
        (Fail(501, "UNIMPLEMENTED", "Not Implemented", 12), ServerError),
    ],
)
async def test_non_retryable_failures_raise_their_class_after_one_attempt(
    wire: Wire, over: MakeClient, failure: Fail, expected: type[ApiError]
) -> None:
    wire.script(failure)
    async with over() as client:
        with pytest.raises(expected) as caught:
            await delete(client)
    assert type(caught.value) is expected
    assert caught.value.status == failure.http
    assert failure.message in caught.value.message
    assert client.stats.requests["delete"] == 1
    assert client.stats.statuses == {failure.http: 1}
    assert client.stats.total_retries == 0


@pytest.mark.parametrize(
    ("failure", "last"),
    [
        (Fail(429, "RESOURCE_EXHAUSTED", "Too many requests", 8), RateLimitedError),
        (Fail(500, "INTERNAL", "Internal server error", 13), ServerError),
        (Fail(500, "UNKNOWN", "Unknown error", 2), ServerError),
        (Fail(503, "UNAVAILABLE", "upstream connect error", 14), ServerError),
    ],
)
async def test_retryable_failures_are_retried_until_attempts_run_out(
    wire: Wire, over: MakeClient, failure: Fail, last: type[ApiError]
) -> None:
    wire.script(failure)
    async with over(max_attempts=3) as client:
        with pytest.raises(RetryExhaustedError, match="3 attempt") as caught:
            await delete(client)
    assert isinstance(caught.value.last_error, last)
    assert caught.value.last_error.status == failure.http
    assert client.stats.requests["delete"] == 3
    assert client.stats.retries["delete"] == 2
    assert client.stats.failed["delete"] == 1


async def test_a_transient_failure_then_success_returns_the_answer(wire: Wire, over: MakeClient) -> None:
    wire.script(Fail(503, "UNAVAILABLE", "busy"), OK)
    async with over() as client:
        await delete(client)
    stats = client.stats
    assert stats.requests["delete"] == 2
    assert stats.succeeded["delete"] == 1
    assert stats.statuses == {503: 1, 200: 1}


async def test_a_429_with_retry_after_waits_exactly_that_long(
    wire: Wire, over: MakeClient, clock: FakeClock
) -> None:
    events: list[RequestEvent] = []
    wire.script(Fail(429, "RESOURCE_EXHAUSTED", "slow down", retry_after=1.5), OK)
    async with over() as client:
        client.subscribe(events.append)
        await delete(client)
    assert clock.sleeps == [1.5]
    assert [e.kind for e in events] == ["rate_limited", "retry", "completed"]
    assert events[1].delay == 1.5
    assert client.stats.rate_limited["delete"] == 1


async def test_retry_after_is_capped(wire: Wire, over: MakeClient, clock: FakeClock) -> None:
    wire.script(Fail(429, "RESOURCE_EXHAUSTED", "slow down", retry_after=3600), OK)
    async with over(retry=RetryPolicy(retry_after_cap=4.0)) as client:
        await delete(client)
    assert clock.sleeps == [4.0]


async def test_a_429_without_retry_after_backs_off_with_jitter(
    wire: Wire, over: MakeClient, clock: FakeClock
) -> None:
    too_many = Fail(429, "RESOURCE_EXHAUSTED", "Too Many Requests")
    wire.script(too_many, too_many, OK)
    async with over(retry=RetryPolicy(base_delay=0.4)) as client:
        await delete(client)
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 0.4
    assert 0 <= clock.sleeps[1] <= 0.8


async def test_a_429_naming_a_scope_cuts_exactly_that_scope(wire: Wire, over: MakeClient) -> None:
    message = format_rate_limit_message(Limit("delete", "namespace", "requests", 5000), "ns")
    wire.script(Fail(429, "RESOURCE_EXHAUSTED", message, code=8))
    async with over(limits="default", max_attempts=1) as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.index_at(INDEX_HOST, name="idx").delete_ids(["a"], namespace="ns")
    named = (caught.value.operation, caught.value.scope_kind, caught.value.scope_name)
    assert named == ("delete", "namespace", "ns")  # read once, by the request loop
    rates = client.stats.rates
    assert rates["delete/namespace:ns/requests"] == 2500.0
    assert rates["delete/index:idx/requests"] == 5000.0  # the index scope was not named: untouched


async def test_a_monthly_quota_429_fails_at_once(wire: Wire, over: MakeClient) -> None:
    quota = "Request failed. You've reached your write unit limit for the current month (2000000)."
    wire.script(Fail(429, "RESOURCE_EXHAUSTED", quota))
    async with over() as client:
        with pytest.raises(RateLimitedError, match="current month"):
            await delete(client)
    assert client.stats.requests["delete"] == 1


async def test_the_retry_budget_makes_a_dead_server_fail_fast(wire: Wire, over: MakeClient) -> None:
    wire.script(Fail(503, "UNAVAILABLE", "down"))
    reasons = []
    async with over(max_attempts=6, retry_budget_tokens=20) as client:
        for _ in range(4):
            with pytest.raises(RetryExhaustedError) as caught:
                await delete(client)
            reasons.append(str(caught.value))
    # 20 tokens: 6 failures (attempts cap), 4 more (tokens 10 = half), then 1 attempt per call
    attempts = [6, 4, 1, 1]
    assert client.stats.requests["delete"] == sum(attempts)
    assert "max_attempts=6" in reasons[0]
    assert all("retry budget exhausted" in reason for reason in reasons[1:])
    assert client.stats.retry_budget == 20 - sum(attempts)


async def test_successes_refill_the_budget(wire: Wire, over: MakeClient) -> None:
    down = Fail(503, "UNAVAILABLE", "down")
    wire.script(down, down, OK)
    async with over(max_attempts=6, retry_budget_tokens=4) as client:
        with pytest.raises(RetryExhaustedError, match="budget"):
            await delete(client)  # 4 -> 3 -> 2: no retry at 2
        for _ in range(10):
            await delete(client)
    assert client.stats.retry_budget == pytest.approx(3.0)


async def test_the_deadline_stops_retries_that_would_end_after_it(
    wire: Wire, over: MakeClient, clock: FakeClock
) -> None:
    wire.script(Fail(500, "INTERNAL", "oops", retry_after=3))
    async with over(deadline=5.0, max_attempts=10) as client:
        with pytest.raises(RetryExhaustedError, match="deadline"):
            await delete(client)
    assert clock.sleeps == [3.0]
    assert client.stats.requests["delete"] == 2


async def test_nothing_is_sent_after_the_deadline(wire: Wire, over: MakeClient, clock: FakeClock) -> None:
    async with over(deadline=5.0) as client:
        clock.jump(6.0)
        with pytest.raises(RetryExhaustedError, match="deadline passed"):
            await delete(client)
    assert client.stats.total_requests == 0
    assert client.stats.failed["delete"] == 1
    assert wire.sent == 0


async def test_lost_connections_are_retried_as_transport_errors(wire: Wire, over: MakeClient) -> None:
    wire.script(Lost(), Lost(text="Socket closed"), OK)
    async with over() as client:
        await delete(client)
    assert client.stats.transport_errors == 2
    assert client.stats.succeeded["delete"] == 1
    assert client.stats.statuses == {200: 1}  # no answer, no status


async def test_timeouts_become_request_timeout_errors(wire: Wire, over: MakeClient) -> None:
    wire.script(Lost(timeout=True))
    async with over(max_attempts=2) as client:
        with pytest.raises(RetryExhaustedError) as caught:
            await delete(client)
    assert isinstance(caught.value.last_error, RequestTimeoutError)
    assert isinstance(caught.value.last_error, TransportError)


async def test_without_retries_the_error_itself_is_raised(wire: Wire, over: MakeClient) -> None:
    wire.script(Fail(503, "UNAVAILABLE", "down"))
    async with over(max_attempts=1) as client:
        with pytest.raises(ServerError):
            await delete(client)


async def test_the_api_key_in_an_error_message_is_redacted(wire: Wire, over: MakeClient) -> None:
    secret = "pcsk_SECRET_in_an_echo"
    wire.script(Fail(401, "UNAUTHENTICATED", f"bad key {secret} in header api-key"))
    async with over(api_key=secret) as client:
        with pytest.raises(AuthenticationError) as caught:
            await delete(client)
    assert "bad key *** in header" in caught.value.message
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)


# --- REST only -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected", "message"),
    [
        (401, b"API key is missing or invalid", AuthenticationError, "missing or invalid"),
        (403, CONTROL_BODY % (b"FORBIDDEN", b"Quota exceeded", 403), ForbiddenError, "Quota"),
        (
            403,
            CONTROL_BODY % (b"FORBIDDEN", b"Deletion protection is enabled for this index.", 403),
            DeletionProtectedError,
            "Deletion protection",
        ),
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
async def test_control_plane_bodies_and_request_ids(
    make_client: MakeClient, status: int, body: bytes, expected: type[ApiError], message: str
) -> None:
    routes = Routes().add("GET", DESCRIBE, text_response(status, body, {"x-pinecone-request-id": "req-1"}))
    async with make_client(routes=routes) as client:
        with pytest.raises(expected) as caught:
            await client.control.describe_index("idx")
    assert type(caught.value) is expected
    assert message in caught.value.message
    assert caught.value.request_id == "req-1"
    assert client.stats.requests["describe_index"] == 1


@pytest.mark.parametrize(("status", "body"), [(408, b"request timeout"), (502, b"<html>Bad Gateway</html>")])
async def test_http_only_retryable_statuses(make_client: MakeClient, status: int, body: bytes) -> None:
    routes = Routes().add("POST", DELETE, text_response(status, body), repeat=True)
    async with make_client(routes=routes, max_attempts=2) as client:
        with pytest.raises(RetryExhaustedError) as caught:
            await delete(client)
    assert isinstance(caught.value.last_error, ApiError)
    assert caught.value.last_error.status == status
    assert client.stats.requests["delete"] == 2


async def test_a_non_idempotent_call_is_not_retried(make_client: MakeClient) -> None:
    routes = Routes().add("POST", DELETE, text_response(503, b"down"), repeat=True)
    async with make_client(routes=routes) as client:
        executor = client._running()
        assert client._http is not None
        call: Call[HttpResponse] = http_call(
            client._http, "delete", "POST", DELETE, body=b"{}", idempotent=False
        )
        with pytest.raises(ServerError):
            await executor.run(call)
    assert client.stats.requests["delete"] == 1


def _ids_in(request: SentRequest) -> list[str]:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(request.url).query).get("ids", [])


@pytest.mark.parametrize("status", [413, 414, 431])
async def test_fetch_splits_a_batch_rejected_as_too_large(make_client: MakeClient, status: int) -> None:
    sizes: list[int] = []

    def answer(request: SentRequest) -> HttpResponse:
        ids = _ids_in(request)
        sizes.append(len(ids))
        if len(ids) > 2:
            return text_response(status, "URI Too Long")
        return json_response({"vectors": {i: {"id": i, "values": [0.5]} for i in ids}})

    async with make_client(routes=Routes().add("GET", FETCH, answer, repeat=True)) as client:
        found = await client.index_at(INDEX_HOST).fetch([f"id{i}" for i in range(8)], namespace="ns")
    assert sorted(found) == [f"id{i}" for i in range(8)]
    assert sizes == [8, 4, 2, 2, 4, 2, 2]
    assert client.stats.total_retries == 0


async def test_a_single_id_too_large_is_reported(make_client: MakeClient) -> None:
    routes = Routes().add("GET", FETCH, text_response(414, b"URI Too Long"), repeat=True)
    async with make_client(routes=routes) as client:
        with pytest.raises(RequestTooLargeError):
            await client.index_at(INDEX_HOST).fetch(["x" * 500], namespace="ns")
    assert client.stats.requests["fetch"] == 1


async def test_fetch_cuts_batches_by_the_url_budget(make_client: MakeClient) -> None:
    lengths: list[int] = []

    def answer(request: SentRequest) -> HttpResponse:
        lengths.append(len(request.url) - len(INDEX_HOST))
        return json_response({"vectors": {}})

    routes = Routes().add("GET", FETCH, answer, repeat=True)
    async with make_client(routes=routes, max_fetch_url_bytes=300) as client:
        await client.index_at(INDEX_HOST).fetch([f"doc-{i:04d}#chunk" for i in range(50)], namespace="ns")
    assert len(lengths) > 1
    assert all(length <= 300 for length in lengths)
