"""bulkops.testing: the doubles behave like what they stand in for, and are the ones the library names."""

from __future__ import annotations

import anyio
import orjson
import pytest

import bulkops
import bulkops.api.rest.transport
import bulkops.clock
from bulkops.api.protocols import DataPlane
from bulkops.errors import ServerError
from bulkops.models import Record
from bulkops.server import LocalServer, ServerConfig
from bulkops.testing import (
    FakeClock,
    FakeDataPlane,
    HttpResponse,
    MockTransport,
    SeedIndex,
    SentRequest,
    local_server,
    local_server_thread,
)


def test_one_class_each_and_not_on_the_top_level_package() -> None:
    assert FakeClock is bulkops.clock.FakeClock
    assert MockTransport is bulkops.api.rest.transport.MockTransport
    assert "testing" not in bulkops.__all__
    assert not any(hasattr(bulkops, name) for name in ("FakeClock", "FakeDataPlane", "local_server"))


async def test_fake_data_plane_is_a_data_plane_that_pages_by_keyset() -> None:
    dp: DataPlane = FakeDataPlane({"ns": ["b", "a", "c", "ab"]}, page_cap=2)
    first = await dp.list_page(namespace="ns", prefix="a", limit=100)
    assert first.ids == ("a", "ab")
    assert first.next_token is None  # nothing else under "a"
    page = await dp.list_page(namespace="ns", limit=100)
    assert page.ids == ("a", "ab")
    rest = await dp.list_page(namespace="ns", token=page.next_token)
    assert (rest.ids, rest.next_token) == (("b", "c"), None)
    assert sorted(await dp.fetch(["a", "zz"], namespace="ns")) == ["a"]


async def test_fake_data_plane_calls_take_their_latency_on_its_clock() -> None:
    clock = FakeClock(autojump=True)
    dp = FakeDataPlane({"ns": [f"i{n}" for n in range(10)]}, latency=0.25, clock=clock)

    async def delete(record_id: str) -> None:
        await dp.delete_ids([record_id], namespace="ns")

    async with anyio.create_task_group() as tg:
        for n in range(4):
            tg.start_soon(delete, f"i{n}")
    assert clock.now() == 0.25  # four calls overlapped
    assert dp.max_in_flight == 4
    await dp.upsert([Record("z", (0.0,))], namespace="ns")
    assert clock.now() == 0.5
    assert dp.calls == {"delete": 4, "upsert": 1}
    assert dp.namespaces["ns"] == [f"i{n}" for n in range(4, 10)] + ["z"]


async def test_fake_data_plane_fails_every_nth_delete_before_deleting() -> None:
    dp = FakeDataPlane({"ns": ["a", "b", "c"]}, fail_every=2)
    await dp.delete_ids(["a"], namespace="ns")
    with pytest.raises(ServerError):
        await dp.delete_ids(["b"], namespace="ns")
    assert dp.namespaces["ns"] == ["b", "c"]
    await dp.delete_ids(["b"], namespace="ns")
    assert dp.deleted_batches == [("a",), ("b",)]


async def test_mock_transport_answers_and_records() -> None:
    def handler(request: SentRequest) -> HttpResponse:
        return HttpResponse(200, {}, orjson.dumps({"echo": request.url}))

    transport = MockTransport(handler)
    answer = await transport.send("GET", "http://x/y", timeout=1.0)
    assert orjson.loads(answer.body) == {"echo": "http://x/y"}
    assert transport.sent == [SentRequest("GET", "http://x/y", None, 1.0)]


async def test_local_server_creates_and_seeds_indexes_before_handing_it_out() -> None:
    records = [Record(f"r{n}", (float(n), 0.0)) for n in range(5)]
    seed = SeedIndex("src", dimension=2, metric="euclidean", records={"ns": records})
    async with local_server(seed, "plain", config=ServerConfig(api_key="k")) as server:
        assert isinstance(server, LocalServer)
        assert server.config.api_key == "k"
        assert server.count("src", "ns") == 5
        assert server.indexes["src"].context.meta.metric == "euclidean"
        assert server.indexes["plain"].context.meta.dimension == 8
        assert server.url.startswith("http://127.0.0.1:")
        assert server.port != 0


def test_local_server_thread_serves_sync_callers() -> None:
    with local_server_thread(SeedIndex("src", records={"": [Record("a", (0.0,) * 8)]})) as thread:
        assert thread.ids("src") == ["a"]
        assert thread.index_host("src").startswith("http://127.0.0.1:")
