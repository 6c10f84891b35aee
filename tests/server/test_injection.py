"""Rate limits, faults, latency, consistency lag, API key and page cap — driven by a fake clock
where time matters, so nothing here waits on the real clock. Tests taking ``plane_for`` run over
REST and over gRPC: the admission gate is the same code for both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import aiohttp
import pytest

from bulkops.clock import FakeClock
from bulkops.limits.profiles import PROFILES, parse_rate_limit_message
from bulkops.models import Record
from bulkops.server import LocalServer, ServerConfig, parse_faults, serve_local
from tests.server.conftest import PlaneFor, call
from tests.server.planes import GrpcPlane, Plane, PlaneError

Start = Callable[..., AbstractAsyncContextManager[LocalServer]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def start(clock: FakeClock) -> Start:
    def _start(**kw: object) -> AbstractAsyncContextManager[LocalServer]:
        return serve_local(replace(ServerConfig(), **kw), clock=clock)  # type: ignore[arg-type]

    return _start


async def _seeded(server: LocalServer, n: int = 5) -> str:
    host = await server.create_index_direct("idx", 2)
    await server.seed("idx", "ns", [Record(f"r{i}", (1.0, float(i))) for i in range(n)])
    return host


async def _outcome(request: Awaitable[object]) -> int:
    """0 for an answer, else the refusal's gRPC status code."""
    try:
        await request
    except PlaneError as refused:
        return refused.code
    return 0


async def _list_at_rate(plane: Plane, clock: FakeClock, rate: float, seconds: float) -> list[object]:
    answers: list[object] = []
    for _ in range(int(rate * seconds)):
        try:
            answers.append(await plane.list("ns"))
        except PlaneError as refused:
            answers.append(refused)
        await clock.advance(1 / rate)
    return answers


async def test_list_at_the_default_rate_is_never_refused(
    start: Start, clock: FakeClock, plane_for: PlaneFor
) -> None:
    async with start(limits=PROFILES["default"]) as server:
        answers = await _list_at_rate(plane_for(await _seeded(server)), clock, rate=200, seconds=2)
    assert not [a for a in answers if isinstance(a, PlaneError)]


async def test_list_at_twice_the_default_rate_gets_pinecone_shaped_429s(
    start: Start, clock: FakeClock, plane_for: PlaneFor
) -> None:
    async with start(limits=PROFILES["default"]) as server:
        answers = await _list_at_rate(plane_for(await _seeded(server)), clock, rate=400, seconds=2)
    refused = [a for a in answers if isinstance(a, PlaneError)]
    # 1 s of burst (200) + 2 s of refill (400) admitted out of 800; the rest refused.
    assert 150 <= len(refused) <= 250
    assert {r.code for r in refused} == {8}  # RESOURCE_EXHAUSTED, REST's body code for a 429
    assert "max list requests per second for index idx (200)" in refused[0].message
    named = parse_rate_limit_message(refused[0].message)
    assert named is not None
    assert (named.operation, named.scope_kind, named.scope_name, named.unit) == (
        "list",
        "index",
        "idx",
        "requests",
    )


async def test_rest_429_body_is_pinecones_rpc_status(
    start: Start, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    async with start(limits=PROFILES["default"]) as server:
        host = await _seeded(server)
        answers = [
            await call(http, "GET", f"{host}/vectors/list", params={"namespace": "ns"}) for _ in range(201)
        ]
    status, body = answers[-1]
    assert status == 429
    assert set(body) == {"code", "message", "details"}
    assert (body["code"], body["details"]) == (8, [])


async def test_delete_records_limit_is_per_namespace_in_strict_profile(
    start: Start, clock: FakeClock, plane_for: PlaneFor
) -> None:
    async with start(limits=PROFILES["strict"]) as server:
        plane = plane_for(await _seeded(server))
        await server.seed("idx", "other", [Record("x", (1.0, 0.0))])
        ids = [f"id{i}" for i in range(1000)]
        outcomes = [await _outcome(plane.delete("ns", ids=ids)) for _ in range(6)]
        assert outcomes == [0] * 5 + [8]
        with pytest.raises(PlaneError, match="delete records per second"):
            await plane.delete("ns", ids=ids)
        await clock.advance(0.2)
        assert await _outcome(plane.delete("ns", ids=ids)) == 0


async def test_scripted_faults_5xx_and_spurious_429(start: Start, plane_for: PlaneFor) -> None:
    async with start(faults=parse_faults("503@list#2,429@list#3,500@fetch#1")) as server:
        plane = plane_for(await _seeded(server))
        outcomes = []
        for _ in range(4):
            try:
                await plane.list("ns")
                outcomes.append((0, ""))
            except PlaneError as refused:
                outcomes.append((refused.code, refused.message))
        assert [code for code, _ in outcomes] == [0, 14, 8, 0]  # UNAVAILABLE, RESOURCE_EXHAUSTED
        assert outcomes[1][1] == "Service unavailable (injected fault)"
        assert parse_rate_limit_message(outcomes[2][1]) is not None
        with pytest.raises(PlaneError) as refused:
            await plane.fetch(["r1"], "ns")
        assert (refused.value.code, refused.value.message) == (13, "Internal server error (injected fault)")
        assert list((await plane.fetch(["r1"], "ns"))["vectors"]) == ["r1"]


async def test_rest_reset_fault_drops_the_connection(start: Start, http: aiohttp.ClientSession) -> None:
    async with start(faults=parse_faults("reset@fetch#1")) as server:
        host = await _seeded(server)
        # Raw socket: aiohttp's client silently retries an idempotent request once on a dropped connection.
        port = int(host.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /vectors/fetch?ids=r1&namespace=ns HTTP/1.1\r\nHost: local\r\n\r\n")
        await writer.drain()
        with pytest.raises(ConnectionResetError):
            await reader.read(1000)
        writer.close()
        status, body = await call(
            http, "GET", f"{host}/vectors/fetch", params={"ids": "r1", "namespace": "ns"}
        )
        assert status == 200
        assert list(body["vectors"]) == ["r1"]


async def _after_reconnect(plane: GrpcPlane) -> dict[str, object]:
    """The next fetch, on a new connection: on a loaded machine one more call can still go out on the
    dropped one before grpc notices (UNAVAILABLE, "Stream removed"); a working reconnect answers within
    a second. Any other refusal fails the test."""
    for _ in range(20):
        try:
            return await plane.fetch(["r1"], "ns")
        except PlaneError as exc:
            if exc.code != 14:
                raise
            await asyncio.sleep(0.05)
    raise AssertionError("the client never reconnected")


async def test_grpc_reset_fault_drops_the_http2_connection(start: Start) -> None:
    async with start(faults=parse_faults("reset@fetch#1")) as server:
        plane = GrpcPlane(await _seeded(server))
        try:
            with pytest.raises(PlaneError) as refused:
                await plane.fetch(["r1"], "ns")
            assert refused.value.code == 14  # the client sees its connection gone: UNAVAILABLE
            assert list((await _after_reconnect(plane))["vectors"]) == ["r1"]
        finally:
            await plane.close()


async def test_after_faults_do_the_work_then_lose_or_replace_the_answer(
    start: Start, plane_for: PlaneFor
) -> None:
    async with start(faults=parse_faults("after-500@delete#1,after-reset@upsert#1")) as server:
        plane = plane_for(await _seeded(server))
        with pytest.raises(PlaneError) as refused:
            await plane.delete("ns", ids=["r1"])
        assert refused.value.code == 13
        assert server.ids("idx", "ns") == ["r0", "r2", "r3", "r4"]  # deleted all the same
        with pytest.raises((PlaneError, aiohttp.ClientError)):
            await plane.upsert([{"id": "new", "values": [1.0, 2.0]}], "ns")
        assert "new" in server.ids("idx", "ns")  # written, though the answer was lost


async def test_probabilistic_faults_repeat_with_the_same_seed(
    start: Start, http: aiohttp.ClientSession
) -> None:
    runs = []
    for _ in range(2):
        async with start(faults=parse_faults("500:0.3"), seed=7) as server:
            host = await _seeded(server)
            runs.append(
                [
                    (await call(http, "GET", f"{host}/vectors/list", params={"namespace": "ns"}))[0]
                    for _ in range(40)
                ]
            )
    assert runs[0] == runs[1]
    assert 3 <= runs[0].count(500) <= 25


async def test_stall_and_latency_hold_the_answer_until_time_passes(
    start: Start, clock: FakeClock, plane_for: PlaneFor
) -> None:
    async with start(faults=parse_faults("stall=5@list#1"), latency_ms=100.0) as server:
        plane = plane_for(await _seeded(server))
        task = asyncio.create_task(plane.list("ns"))
        await asyncio.sleep(0.1)
        await clock.advance(0.05)
        assert not task.done()
        await clock.advance(0.06)  # latency served; now stalled for 5 s
        await asyncio.sleep(0.1)
        assert not task.done()
        await clock.advance(5.0)
        body = await asyncio.wait_for(task, 5)
        assert len(body["vectors"]) == 5


async def test_consistency_lag_keeps_deleted_records_visible_then_drops_them(
    start: Start, clock: FakeClock, plane_for: PlaneFor
) -> None:
    async with start(consistency_lag_ms=1000.0) as server:
        plane = plane_for(await _seeded(server, 3))
        await plane.delete("ns", ids=["r1"])
        assert [v["id"] for v in (await plane.list("ns"))["vectors"]] == ["r0", "r1", "r2"]
        assert list((await plane.fetch(["r1"], "ns"))["vectors"]) == ["r1"]
        assert server.count("idx", "ns") == 2
        await clock.advance(1.01)
        assert [v["id"] for v in (await plane.list("ns"))["vectors"]] == ["r0", "r2"]
        assert (await plane.fetch(["r1"], "ns"))["vectors"] == {}


async def test_api_key_is_required_on_both_planes(
    start: Start, http: aiohttp.ClientSession, plane_for: PlaneFor
) -> None:
    async with start(api_key="s3cret") as server:
        host = await _seeded(server)
        status, body = await call(http, "GET", f"{server.url}/indexes")
        assert (status, body) == (
            401,
            {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API key."}, "status": 401},
        )
        with pytest.raises(PlaneError) as refused:
            await plane_for(host, api_key="wrong").list("ns")
        assert (refused.value.code, refused.value.message) == (16, "Invalid API key.")
        with pytest.raises(PlaneError):
            await plane_for(host).list("ns")
        assert len((await plane_for(host, api_key="s3cret").list("ns"))["vectors"]) == 5
        assert "s3cret" not in repr(server.config)


@pytest.mark.parametrize("key", ["é".encode(), b"\xff\xfe"])
async def test_a_non_ascii_or_undecodable_api_key_header_is_a_401(start: Start, key: bytes) -> None:
    async with start(api_key="s3cret") as server:
        host = await _seeded(server)
        reader, writer = await asyncio.open_connection("127.0.0.1", int(host.rsplit(":", 1)[1]))
        writer.write(
            b"GET /vectors/list HTTP/1.1\r\nHost: x\r\nApi-Key: " + key + b"\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.1 401")


async def test_list_limit_is_capped_by_list_page_max(start: Start, plane_for: PlaneFor) -> None:
    async with start(list_page_max=3) as server:
        body = await plane_for(await _seeded(server, 5)).list("ns", limit=5000)
        assert [v["id"] for v in body["vectors"]] == ["r0", "r1", "r2"]
        assert "pagination" in body


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
