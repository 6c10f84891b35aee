"""The whole request path (limiter → executor → transport double) on FakeClock: exact send times, over
REST and over gRPC alike (one pacing, one reading of Pinecone's 429 message)."""

from __future__ import annotations

import random
from collections.abc import Callable

import anyio
import orjson
import pytest

from bulkops.api import GrpcReply, HttpResponse, MockGrpcTransport, MockTransport, SentRequest, SentRpc
from bulkops.api.client import Client
from bulkops.limits.bucket import AdaptiveTuning
from bulkops.limits.profiles import Limit, Profile, format_rate_limit_message
from bulkops.protos import vector_service_pb2 as pb
from bulkops.testing import FakeClock

PACED = AdaptiveTuning(burst_seconds=0.0, cooldown=0.0, regrow_seconds=1000.0)


class Delete:
    """What a delete carried, whichever transport sent it."""

    def __init__(self, namespace: str, ids: list[str]) -> None:
        self.namespace = namespace
        self.ids = ids


# A server stand-in: given the delete, answer None (OK) or a 429 with this message and Retry-After.
Server = Callable[[Delete], "tuple[str, float] | None"]


def double(transport: str, server: Server) -> MockTransport | MockGrpcTransport:
    if transport == "rest":

        def http(request: SentRequest) -> HttpResponse:
            doc = orjson.loads(request.body or b"{}")
            refused = server(Delete(doc["namespace"], doc.get("ids", [])))
            if refused is None:
                return HttpResponse(200, {}, b"{}")
            body = orjson.dumps({"code": 8, "message": refused[0], "details": []})
            return HttpResponse(429, {"retry-after": f"{refused[1]:g}"}, body)

        return MockTransport(http)

    def rpc(sent: SentRpc) -> GrpcReply:
        message = pb.DeleteRequest.FromString(sent.request)
        refused = server(Delete(message.namespace, list(message.ids)))
        if refused is None:
            return GrpcReply("OK")
        return GrpcReply(
            "RESOURCE_EXHAUSTED", message=refused[0], trailers={"retry-after": f"{refused[1]:g}"}
        )

    return MockGrpcTransport(rpc)


def make(clock: FakeClock, transport: MockTransport | MockGrpcTransport, *limits: Limit) -> Client:
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


@pytest.mark.parametrize("transport", ["rest", "grpc"])
async def test_deletes_go_out_at_the_namespace_rate_weighted_by_records(transport: str) -> None:
    clock = FakeClock()
    times: list[tuple[float, int]] = []

    def server(delete: Delete) -> None:
        times.append((clock.now(), len(delete.ids)))

    limits = (Limit("delete", "namespace", "requests", 10), Limit("delete", "namespace", "records", 1000))
    async with make(clock, double(transport, server), *limits) as client:
        index = client.index_at("http://idx.test")
        assert index.transport == transport

        def delete(count: int) -> object:
            return lambda: index.delete_ids([f"id{i}" for i in range(count)], namespace="ns")

        await run_concurrently(clock, delete(500), delete(500), delete(1), delete(1))
    # records: 500 drains in 0.5 s; requests: 10/s. The 1-ID deletes wait for the records bucket.
    assert times == [(0.0, 500), (pytest.approx(0.5), 500), (pytest.approx(1.0), 1), (pytest.approx(1.1), 1)]


@pytest.mark.parametrize("transport", ["rest", "grpc"])
async def test_a_429_naming_the_namespace_halves_its_pace_and_the_retry_waits_retry_after(
    transport: str,
) -> None:
    clock = FakeClock()
    sent: list[tuple[float, str]] = []
    message = format_rate_limit_message(Limit("delete", "namespace", "requests", 4), "a")
    refusals = iter([(message, 1.0)])

    def server(delete: Delete) -> tuple[str, float] | None:
        sent.append((clock.now(), delete.namespace))
        return next(refusals, None) if delete.namespace == "a" else None

    async with make(clock, double(transport, server), Limit("delete", "namespace", "requests", 4)) as client:
        index = client.index_at("http://idx.test")

        def delete(namespace: str) -> object:
            return lambda: index.delete_ids(["x"], namespace=namespace)

        await run_concurrently(clock, delete("a"), delete("a"), delete("b"), delete("b"))
        rates = client.stats.rates
        rate_limited = client.stats.rate_limited
    a_times = [t for t, ns in sent if ns == "a"]
    b_times = [t for t, ns in sent if ns == "b"]
    assert b_times == [0.0, pytest.approx(0.25)]  # b untouched: 4/s
    # a: the first try at 0 is answered 429 at once (Retry-After 1 s, rate 4 -> 2/s) before the second
    # request books, so the hold puts that one at 1.0; the retry, back after its 1 s wait, books the
    # next slot at the new 2/s pace: 1.5.
    assert a_times == [0.0, pytest.approx(1.0), pytest.approx(1.5)]
    assert 2.0 < rates["delete/namespace:a/requests"] < 2.01  # halved, plus a sliver regrown since
    assert rates["delete/namespace:b/requests"] == 4.0
    assert rate_limited == {"delete": 1}


async def test_handler_exceptions_become_retries() -> None:
    from bulkops.errors import TransportError

    clock = FakeClock()
    answers = iter([TransportError("reset"), HttpResponse(200, {}, b"{}")])
    transport = MockTransport(lambda _: next(answers))
    async with make(clock, transport) as client:
        index = client.index_at("http://idx.test")
        await run_concurrently(clock, lambda: index.delete_all(namespace="ns"))
    assert len(transport.sent) == 2
    assert transport.closed
