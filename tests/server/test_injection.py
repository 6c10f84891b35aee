"""Rate limits, faults, latency, consistency lag, API key and page cap — driven by a fake clock
where time matters, so nothing here waits on the real clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import aiohttp
import pytest

from bulkops.clock import FakeClock
from bulkops.limits.profiles import PROFILES, parse_rate_limit_message
from bulkops.models import Record
from bulkops.server import LocalServer, ServerConfig, parse_faults, serve_local
from tests.server.conftest import call

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


async def _list_at_rate(
    http: aiohttp.ClientSession, host: str, clock: FakeClock, rate: float, seconds: float
) -> list[tuple[int, object]]:
    answers = []
    for _ in range(int(rate * seconds)):
        answers.append(await call(http, "GET", f"{host}/vectors/list", params={"namespace": "ns"}))
        await clock.advance(1 / rate)
    return answers


async def test_list_at_the_default_rate_is_never_refused(
    start: Start, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    async with start(limits=PROFILES["default"]) as server:
        host = await _seeded(server)
        answers = await _list_at_rate(http, host, clock, rate=200, seconds=2)
    assert {status for status, _ in answers} == {200}


async def test_list_at_twice_the_default_rate_gets_pinecone_shaped_429s(
    start: Start, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    async with start(limits=PROFILES["default"]) as server:
        host = await _seeded(server)
        answers = await _list_at_rate(http, host, clock, rate=400, seconds=2)
    refused = [body for status, body in answers if status == 429]
    # 1 s of burst (200) + 2 s of refill (400) admitted out of 800; the rest refused.
    assert 150 <= len(refused) <= 250
    body = refused[0]
    assert isinstance(body, dict)
    assert body["code"] == 8
    assert body["details"] == []
    assert "max list requests per second for index idx (200)" in body["message"]
    named = parse_rate_limit_message(body["message"])
    assert named is not None
    assert (named.operation, named.scope_kind, named.scope_name, named.unit) == (
        "list",
        "index",
        "idx",
        "requests",
    )


async def test_delete_records_limit_is_per_namespace_in_strict_profile(
    start: Start, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    async with start(limits=PROFILES["strict"]) as server:
        host = await _seeded(server)
        await server.seed("idx", "other", [Record("x", (1.0, 0.0))])
        ids = [f"id{i}" for i in range(1000)]
        statuses = [
            (await call(http, "POST", f"{host}/vectors/delete", json={"ids": ids, "namespace": "ns"}))[0]
            for _ in range(6)
        ]
        assert statuses == [200] * 5 + [429]
        status, body = await call(
            http, "POST", f"{host}/vectors/delete", json={"ids": ids, "namespace": "ns"}
        )
        assert status == 429
        assert "delete records per second" in body["message"]
        await clock.advance(0.2)
        status, _ = await call(http, "POST", f"{host}/vectors/delete", json={"ids": ids, "namespace": "ns"})
        assert status == 200


async def test_scripted_faults_5xx_spurious_429_and_reset(start: Start, http: aiohttp.ClientSession) -> None:
    async with start(faults=parse_faults("503@list#2,429@list#3,500@fetch#1,reset@fetch#2")) as server:
        host = await _seeded(server)
        statuses = [
            (await call(http, "GET", f"{host}/vectors/list", params={"namespace": "ns"})) for _ in range(4)
        ]
        assert [s for s, _ in statuses] == [200, 503, 429, 200]
        assert statuses[1][1] == {
            "code": 14,
            "message": "Service unavailable (injected fault)",
            "details": [],
        }
        assert parse_rate_limit_message(statuses[2][1]["message"]) is not None
        status, body = await call(
            http, "GET", f"{host}/vectors/fetch", params={"ids": "r1", "namespace": "ns"}
        )
        assert (status, body["code"]) == (500, 13)
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


async def test_after_faults_do_the_work_then_lose_or_replace_the_answer(
    start: Start, http: aiohttp.ClientSession
) -> None:
    async with start(faults=parse_faults("after-500@delete#1,after-reset@upsert#1")) as server:
        host = await _seeded(server)
        status, body = await call(
            http, "POST", f"{host}/vectors/delete", json={"ids": ["r1"], "namespace": "ns"}
        )
        assert (status, body["code"]) == (500, 13)
        assert server.ids("idx", "ns") == ["r0", "r2", "r3", "r4"]  # deleted all the same
        port = int(host.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        payload = b'{"vectors":[{"id":"new","values":[1.0,2.0]}],"namespace":"ns"}'
        head = (
            "POST /vectors/upsert HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        writer.write(head.encode() + payload)
        await writer.drain()
        with pytest.raises(ConnectionResetError):
            await reader.read(1000)
        writer.close()
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
    start: Start, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    async with start(faults=parse_faults("stall=5@list#1"), latency_ms=100.0) as server:
        host = await _seeded(server)
        task = asyncio.create_task(call(http, "GET", f"{host}/vectors/list", params={"namespace": "ns"}))
        await clock.advance(0.05)
        assert not task.done()
        await clock.advance(0.06)  # latency served; now stalled for 5 s
        await asyncio.sleep(0.05)
        assert not task.done()
        await clock.advance(5.0)
        status, _ = await asyncio.wait_for(task, 5)
        assert status == 200


async def test_consistency_lag_keeps_deleted_records_visible_then_drops_them(
    start: Start, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    async with start(consistency_lag_ms=1000.0) as server:
        host = await _seeded(server, 3)
        await call(http, "POST", f"{host}/vectors/delete", json={"ids": ["r1"], "namespace": "ns"})
        _, body = await call(http, "GET", f"{host}/vectors/list", params={"namespace": "ns"})
        assert [v["id"] for v in body["vectors"]] == ["r0", "r1", "r2"]
        _, body = await call(http, "GET", f"{host}/vectors/fetch", params={"ids": "r1", "namespace": "ns"})
        assert list(body["vectors"]) == ["r1"]
        assert server.count("idx", "ns") == 2
        await clock.advance(1.01)
        _, body = await call(http, "GET", f"{host}/vectors/list", params={"namespace": "ns"})
        assert [v["id"] for v in body["vectors"]] == ["r0", "r2"]
        _, body = await call(http, "GET", f"{host}/vectors/fetch", params={"ids": "r1", "namespace": "ns"})
        assert body["vectors"] == {}


async def test_api_key_is_required_on_both_planes(start: Start, http: aiohttp.ClientSession) -> None:
    async with start(api_key="s3cret") as server:
        host = await _seeded(server)
        status, body = await call(http, "GET", f"{server.url}/indexes")
        assert (status, body) == (
            401,
            {"error": {"code": "UNAUTHENTICATED", "message": "Invalid API key."}, "status": 401},
        )
        status, body = await call(http, "GET", f"{host}/vectors/list", headers={"Api-Key": "wrong"})
        assert (status, body["code"]) == (401, 16)
        status, _ = await call(
            http, "GET", f"{host}/vectors/list", params={"namespace": "ns"}, headers={"Api-Key": "s3cret"}
        )
        assert status == 200
        assert "s3cret" not in repr(server.config)


async def test_list_limit_is_capped_by_list_page_max(start: Start, http: aiohttp.ClientSession) -> None:
    async with start(list_page_max=3) as server:
        host = await _seeded(server, 5)
        _, body = await call(http, "GET", f"{host}/vectors/list", params={"namespace": "ns", "limit": "5000"})
        assert [v["id"] for v in body["vectors"]] == ["r0", "r1", "r2"]
        assert "pagination" in body


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
