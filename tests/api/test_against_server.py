"""The client against the local server (in-process, port 0): every plane, then injected faults.

Data-plane tests run over both transports (the server answers REST and gRPC on each index port).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from bulkops.api import Client, RequestEvent, split_fetch_batches
from bulkops.errors import (
    AuthenticationError,
    BadRequestError,
    DeletionProtectedError,
    NotFoundError,
    RetryExhaustedError,
)
from bulkops.limits.profiles import PROFILES, Limit
from bulkops.limits.retry import RetryPolicy
from bulkops.models import Record
from bulkops.server import ServerConfig, parse_faults, serve_local

from .conftest import API_KEY

FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.01)


@pytest.fixture(params=["rest", "grpc"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def records(count: int, prefix: str = "doc-") -> list[Record]:
    return [Record(f"{prefix}{i:04d}", [float(i), 1.0, 0.5, 0.25]) for i in range(count)]


@pytest.fixture
async def server() -> AsyncIterator[Any]:
    async with serve_local(ServerConfig(api_key=API_KEY, backup_ready_ms=20, restore_ms=20)) as running:
        yield running


async def test_data_plane_round_trip(server: Any, transport: str) -> None:
    async with Client(API_KEY, server.url, retry=FAST_RETRY, transport=transport) as client:
        created = await client.control.create_index("docs", dimension=4, metric="cosine", tags={"team": "a"})
        assert created["name"] == "docs"
        ready = await client.control.wait_until_index_ready("docs", timeout=10, poll_interval=0.01)
        assert ready["status"]["ready"] is True
        index = await client.index(name="docs")
        assert index is await client.index(name="docs")  # resolved once, cached
        assert index.transport == transport
        assert client.stats.transports == {index.host: transport}
        assert client.stats.requests["describe_index"] == 2  # the wait's describe + one resolution

        assert await index.upsert(records(250), namespace="ns") == 250
        page = await index.list_page(namespace="ns", prefix="doc-00", limit=50)
        assert page.ids == tuple(f"doc-{i:04d}" for i in range(50))
        assert page.next_token is not None
        chain = [p async for p in index.list_ids(namespace="ns", prefix="doc-01")]
        assert sum(len(p.ids) for p in chain) == 100

        found = await index.fetch(["doc-0001", "doc-0002", "missing"], namespace="ns")
        assert sorted(found) == ["doc-0001", "doc-0002"]
        assert list(found["doc-0002"].values) == [2.0, 1.0, 0.5, 0.25]

        await index.delete_ids([f"doc-{i:04d}" for i in range(100)], namespace="ns")
        assert server.count("docs", "ns") == 150

        stats = await index.describe_index_stats()
        assert stats["namespaces"]["ns"]["vectorCount"] == 150
        assert [n["name"] for n in await index.list_namespaces()] == ["ns"]
        assert int((await index.describe_namespace("ns"))["record_count"]) == 150
        await index.delete_all(namespace="ns")
        assert server.count("docs", "ns") == 0


async def test_fetch_of_1000_long_ids_is_cut_by_the_url_budget(server: Any) -> None:
    await server.create_index_direct("long", dimension=4)
    ids = [f"tenant-{i:05d}#chunk-{'x' * 40}" for i in range(1000)]
    await server.seed("long", "ns", [Record(i, [1.0, 0.0, 0.0, 0.0]) for i in ids])
    options: dict[str, Any] = {"max_fetch_url_bytes": 8000, "transport": "rest"}  # a small URL budget
    async with Client(API_KEY, server.url, **options) as client:
        index = await client.index(name="long")
        found = await index.fetch(ids, namespace="ns")
        assert len(found) == 1000
        assert client.stats.requests["fetch"] == len(split_fetch_batches(ids, "ns", 8000))
        assert client.stats.requests["fetch"] > 1


async def test_control_plane_round_trip(server: Any) -> None:
    async with Client(API_KEY, server.url) as client:
        control = client.control
        await control.create_index(
            "src", dimension=4, deletion_protection="enabled", tags={"a": "1", "b": "2"}
        )
        await control.wait_until_index_ready("src", timeout=10, poll_interval=0.01)
        configured = await control.configure_index("src", tags={"a": "", "c": "3"})
        assert configured["tags"] == {"b": "2", "c": "3"}
        with pytest.raises(DeletionProtectedError):
            await control.delete_index("src")
        assert "src" in [i["name"] for i in await control.list_indexes()]

        first = await control.create_backup("src", name="one")
        await control.create_backup("src", name="two")
        ready = await control.wait_until_backup_ready(first["backup_id"], timeout=10, poll_interval=0.01)
        assert ready["status"] == "Ready"
        page = await control.list_backups_page(index_name="src", limit=1)
        assert len(page["data"]) == 1
        assert page.get("pagination", {}).get("next")
        assert len(await control.list_backups(index_name="src", limit=1)) == 2  # follows pagination
        assert len([b async for b in control.iter_backups(limit=1)]) == 2

        restore = await control.create_index_from_backup(first["backup_id"], name="copy")
        done = await control.wait_until_restore_done(
            restore["restore_job_id"], timeout=10, poll_interval=0.01
        )
        assert done["target_index_name"] == "copy"
        assert [j["restore_job_id"] for j in await control.list_restore_jobs()] == [restore["restore_job_id"]]

        await control.configure_index("src", deletion_protection="disabled")
        await control.delete_index("src")
        await control.delete_backup(first["backup_id"])
        with pytest.raises(NotFoundError):
            await control.describe_backup(first["backup_id"])
        assert await control.has_index("src") is False


async def test_wrong_key_is_an_authentication_error_not_retried(server: Any) -> None:
    async with Client("not-the-key", server.url) as client:
        with pytest.raises(AuthenticationError):
            await client.control.list_indexes()
        assert client.stats.requests["list_indexes"] == 1


async def test_bad_request_is_sent_once(server: Any, transport: str) -> None:
    await server.create_index_direct("dim4", dimension=4)
    async with Client(API_KEY, server.url, transport=transport) as client:
        index = await client.index(name="dim4")
        with pytest.raises(BadRequestError, match="dimension"):
            await index.upsert([Record("a", [1.0, 2.0])], namespace="ns")
        assert client.stats.requests["upsert"] == 1


async def test_every_request_succeeds_through_random_faults(transport: str) -> None:
    faults = parse_faults("500:0.03,503:0.03,reset:0.03,429:0.1")
    config = ServerConfig(api_key=API_KEY, faults=faults, seed=7)
    events: list[RequestEvent] = []
    async with serve_local(config) as server:
        await server.create_index_direct("faulty", dimension=4)
        await server.seed("faulty", "ns", records(400))
        options: dict[str, Any] = {"retry": FAST_RETRY, "retry_budget_tokens": 1000, "transport": transport}
        async with Client(API_KEY, server.url, **options) as client:
            client.subscribe(events.append)
            index = await client.index(name="faulty")
            for start in range(0, 400, 20):
                batch = [f"doc-{i:04d}" for i in range(start, start + 20)]
                assert len(await index.fetch(batch, namespace="ns")) == 20
                await index.delete_ids(batch[:10], namespace="ns")
                page = await index.list_page(namespace="ns", prefix="doc-", limit=5)
                assert len(page.ids) == 5
            assert server.count("faulty", "ns") == 200
            stats = client.stats
    assert stats.total_retries > 0
    assert stats.total_rate_limited > 0
    assert stats.transport_errors > 0
    assert sum(stats.failed.values()) == 0
    retried_statuses = {e.status for e in events if e.kind == "retry"}
    assert retried_statuses <= {None, 429, 500, 503}


async def test_stall_times_out_and_is_retried(transport: str) -> None:
    config = ServerConfig(api_key=API_KEY, faults=parse_faults("stall=0.8@fetch#1"))
    async with serve_local(config) as server:
        await server.create_index_direct("slow", dimension=4)
        await server.seed("slow", "ns", records(3))
        async with Client(API_KEY, server.url, timeout=0.3, retry=FAST_RETRY, transport=transport) as client:
            index = await client.index(name="slow")
            found = await index.fetch(["doc-0000"], namespace="ns")
            assert list(found) == ["doc-0000"]
            assert client.stats.transport_errors == 1
            assert client.stats.requests["fetch"] == 2


async def test_resets_are_retried_and_a_dead_index_fails_fast(transport: str) -> None:
    config = ServerConfig(api_key=API_KEY, faults=parse_faults("reset@delete#1#2,503@list:1.0"))
    async with serve_local(config) as server:
        await server.create_index_direct("flaky", dimension=4)
        await server.seed("flaky", "ns", records(3))
        options: dict[str, Any] = {"retry": FAST_RETRY, "retry_budget_tokens": 10, "transport": transport}
        async with Client(API_KEY, server.url, **options) as client:
            index = await client.index(name="flaky")
            await index.delete_ids(["doc-0000"], namespace="ns")
            assert client.stats.requests["delete"] == 3
            assert server.count("flaky", "ns") == 2
            for _ in range(5):
                with pytest.raises(RetryExhaustedError):
                    await index.list_page(namespace="ns")
            # 10 tokens - 2 resets + 0.1 for the delete = 8.1; four list failures bring it to 4.1 (<= half),
            # then every further call gets a single attempt
            assert client.stats.requests["list"] == 4 + 4


async def test_server_limits_and_client_limits_agree(transport: str) -> None:
    """With the same profile on both sides, the client paces itself and the server never says 429."""
    async with serve_local(ServerConfig(api_key=API_KEY, limits=PROFILES["default"])) as server:
        await server.create_index_direct("paced", dimension=4)
        await server.seed("paced", "ns", records(50))
        async with Client(API_KEY, server.url, limits="default", transport=transport) as client:
            index = await client.index(name="paced")
            for _ in range(30):
                await index.describe_index_stats()
            assert client.stats.total_rate_limited == 0
            assert client.stats.wait_seconds > 0.1  # 30 at 100/s after a burst of 10


async def test_concurrent_workers_share_one_pace_and_get_no_429(transport: str) -> None:
    async with serve_local(ServerConfig(api_key=API_KEY, limits=PROFILES["default"])) as server:
        await server.create_index_direct("shared", dimension=4)
        await server.seed("shared", "ns", records(20))
        async with Client(API_KEY, server.url, limits="default", transport=transport) as client:
            index = await client.index(name="shared")

            async def worker() -> None:
                for _ in range(6):
                    await index.fetch(["doc-0001"], namespace="ns")

            async with anyio.create_task_group() as tg:
                for _ in range(10):
                    tg.start_soon(worker)
            stats = client.stats
    assert stats.succeeded["fetch"] == 60
    assert stats.total_rate_limited == 0


async def test_a_server_stricter_than_the_profile_is_learned_from_its_429s(transport: str) -> None:
    strict_fetch = PROFILES["default"].with_overrides([Limit("fetch", "index", "requests", 40)])
    async with serve_local(ServerConfig(api_key=API_KEY, limits=strict_fetch)) as server:
        await server.create_index_direct("tight", dimension=4)
        await server.seed("tight", "ns", records(20))
        retry = RetryPolicy(max_attempts=10, base_delay=0.02, max_delay=0.2)
        options: dict[str, Any] = {"limits": "default", "retry": retry, "transport": transport}
        async with Client(API_KEY, server.url, **options) as client:
            index = await client.index(name="tight")

            async def worker() -> None:
                for _ in range(8):
                    await index.fetch(["doc-0001"], namespace="ns")

            async with anyio.create_task_group() as tg:
                for _ in range(10):
                    tg.start_soon(worker)
            stats = client.stats
    assert stats.succeeded["fetch"] == 80
    assert sum(stats.failed.values()) == 0
    assert stats.rate_limited["fetch"] > 0
    assert stats.rates["fetch/index:tight/requests"] < 100  # cut from the profile's 100/s


async def test_metadata_operations_and_namespace_deletion(server: Any, transport: str) -> None:
    await server.create_index_direct("meta", dimension=4)
    tagged = [
        Record(f"m{i}", [1.0, 0.0, 0.0, 0.0], metadata={"genre": "a" if i % 2 else "b"}) for i in range(10)
    ]
    await server.seed("meta", "ns", tagged)
    async with Client(API_KEY, server.url, transport=transport) as client:
        index = await client.index(name="meta")
        first = await index.fetch_by_metadata({"genre": {"$eq": "a"}}, namespace="ns", limit=3)
        assert len(first.records) == 3
        assert all(r.metadata == {"genre": "a"} for r in first.records)
        assert first.next_token is not None
        rest = await index.fetch_by_metadata(
            {"genre": {"$eq": "a"}}, namespace="ns", limit=10, token=first.next_token
        )
        assert {r.id for r in first.records} | {r.id for r in rest.records} == {
            f"m{i}" for i in range(1, 10, 2)
        }
        await index.delete_by_filter({"genre": {"$eq": "a"}}, namespace="ns")
        assert server.count("meta", "ns") == 5
        await index.delete_namespace("ns")
        with pytest.raises(NotFoundError):
            await index.describe_namespace("ns")
        assert client.stats.requests["delete_by_metadata"] == 1


async def test_sparse_index_defaults_to_dotproduct(server: Any) -> None:
    async with Client(API_KEY, server.url) as client:
        created = await client.control.create_index("sparse", vector_type="sparse")
        assert created["metric"] == "dotproduct"
        assert created["vector_type"] == "sparse"
