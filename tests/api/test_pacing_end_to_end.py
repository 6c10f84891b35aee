"""The whole request path (limiter → executor → transport) on FakeClock + MockTransport: exact send times."""

from __future__ import annotations

import random

import anyio
import orjson
import pytest

from bulkops.api import Client, HttpResponse, MockTransport, SentRequest
from bulkops.clock import FakeClock
from bulkops.limits.bucket import AdaptiveTuning
from bulkops.limits.profiles import Limit, Profile, format_rate_limit_message

PACED = AdaptiveTuning(burst_seconds=0.0, cooldown=0.0, regrow_seconds=1000.0)
OK = HttpResponse(200, {}, b"{}")


def make(clock: FakeClock, transport: MockTransport, *limits: Limit) -> Client:
    return Client(
        "k",
        "http://ctl.test",
        limits=Profile("test", limits),
        clock=clock,
        tuning=PACED,
        transport=transport,
        rng=random.Random(0),
    )


async def run_concurrently(clock: FakeClock, *jobs: object) -> None:
    async with anyio.create_task_group() as tg:
        for job in jobs:
            tg.start_soon(job)  # type: ignore[arg-type]
            await anyio.lowlevel.checkpoint()
        await clock.run_until_idle()


async def test_deletes_go_out_at_the_namespace_rate_weighted_by_records() -> None:
    clock = FakeClock()
    times: list[tuple[float, int]] = []

    def answer(request: SentRequest) -> HttpResponse:
        times.append((clock.now(), len(orjson.loads(request.body or b"{}")["ids"])))
        return OK

    transport = MockTransport(answer)
    limits = (Limit("delete", "namespace", "requests", 10), Limit("delete", "namespace", "records", 1000))
    async with make(clock, transport, *limits) as client:
        index = client.index_at("http://idx.test")

        def delete(count: int) -> object:
            return lambda: index.delete_ids([f"id{i}" for i in range(count)], namespace="ns")

        await run_concurrently(clock, delete(500), delete(500), delete(1), delete(1))
    # records: 500 drains in 0.5 s; requests: 10/s. The 1-ID deletes wait for the records bucket.
    assert times == [(0.0, 500), (pytest.approx(0.5), 500), (pytest.approx(1.0), 1), (pytest.approx(1.1), 1)]


async def test_a_429_naming_the_namespace_halves_its_pace_and_the_retry_waits_retry_after() -> None:
    clock = FakeClock()
    sent: list[tuple[float, str]] = []
    message = format_rate_limit_message(Limit("delete", "namespace", "requests", 4), "a")
    body = orjson.dumps({"code": 8, "message": message, "details": []})
    answers = iter([HttpResponse(429, {"retry-after": "1"}, body)])

    def answer(request: SentRequest) -> HttpResponse:
        namespace = orjson.loads(request.body or b"{}")["namespace"]
        sent.append((clock.now(), namespace))
        return next(answers, OK) if namespace == "a" else OK

    transport = MockTransport(answer)
    async with make(clock, transport, Limit("delete", "namespace", "requests", 4)) as client:
        index = client.index_at("http://idx.test")

        def delete(namespace: str) -> object:
            return lambda: index.delete_ids(["x"], namespace=namespace)

        await run_concurrently(clock, delete("a"), delete("a"), delete("b"), delete("b"))
        rates = client.stats.rates
    a_times = [t for t, ns in sent if ns == "a"]
    b_times = [t for t, ns in sent if ns == "b"]
    assert b_times == [0.0, pytest.approx(0.25)]  # b untouched: 4/s
    # a: the first try at 0 is answered 429 at once (Retry-After 1 s, rate 4 -> 2/s) before the second
    # request books, so the hold puts that one at 1.0; the retry, back after its 1 s wait, books the
    # next slot at the new 2/s pace: 1.5.
    assert a_times == [0.0, pytest.approx(1.0), pytest.approx(1.5)]
    assert 2.0 < rates["delete/namespace:a/requests"] < 2.01  # halved, plus a sliver regrown since
    assert rates["delete/namespace:b/requests"] == 4.0


async def test_handler_exceptions_become_retries() -> None:
    from bulkops.errors import TransportError

    clock = FakeClock()
    answers = iter([TransportError("reset"), OK])
    transport = MockTransport(lambda _: next(answers))
    async with make(clock, transport) as client:
        index = client.index_at("http://idx.test")
        await run_concurrently(clock, lambda: index.delete_all(namespace="ns"))
    assert len(transport.sent) == 2
    assert transport.closed
