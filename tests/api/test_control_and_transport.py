"""Control-plane bodies and waits (scripted routes, instant clock), and what goes over a real socket."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web

from bulkops.api import Client, MockTransport, ResourceFailedError, WaitTimeoutError
from bulkops.errors import UsageError
from bulkops.testing import FakeClock

from .conftest import API_KEY, CONTROLLER
from .doubles import Routes, http1_host, json_response, text_response

MakeClient = Callable[..., Client]


def _sent_json(client: Client, method: str, url: str) -> Any:
    transport = client._http
    assert isinstance(transport, MockTransport)
    bodies = [r.body for r in transport.sent if (r.method, r.url) == (method, url)]
    return orjson.loads(bodies[-1] or b"null")


async def test_create_index_sends_the_2025_10_serverless_body(make_client: MakeClient) -> None:
    routes = Routes().add("POST", f"{CONTROLLER}/indexes", json_response({"name": "docs"}, 201))
    async with make_client(routes) as client:
        await client.control.create_index(
            "docs", dimension=8, metric="dotproduct", cloud="gcp", region="us-central1", tags={"t": "1"}
        )
        body = _sent_json(client, "POST", f"{CONTROLLER}/indexes")
    assert body == {
        "name": "docs",
        "metric": "dotproduct",
        "spec": {"serverless": {"cloud": "gcp", "region": "us-central1"}},
        "deletion_protection": "disabled",
        "vector_type": "dense",
        "dimension": 8,
        "tags": {"t": "1"},
    }


async def test_create_index_checks_dimension_before_sending(make_client: MakeClient) -> None:
    async with make_client() as client:  # no routes: any request would fail the test
        with pytest.raises(UsageError, match="dimension"):
            await client.control.create_index("docs")
        with pytest.raises(UsageError, match="sparse"):
            await client.control.create_index("docs", dimension=3, vector_type="sparse")
    assert client.stats.total_requests == 0


async def test_configure_index_sends_only_what_changes(make_client: MakeClient) -> None:
    routes = Routes().add("PATCH", f"{CONTROLLER}/indexes/docs", json_response({"name": "docs"}, 202))
    async with make_client(routes) as client:
        await client.control.configure_index("docs", tags={"old": ""}, embed={"model": "m"})
        body = _sent_json(client, "PATCH", f"{CONTROLLER}/indexes/docs")
        assert body == {"tags": {"old": ""}, "embed": {"model": "m"}}
        with pytest.raises(UsageError, match="at least one"):
            await client.control.configure_index("docs")


async def test_list_backups_follows_pagination(make_client: MakeClient) -> None:
    first = {"data": [{"backup_id": "b1"}, {"backup_id": "b2"}], "pagination": {"next": "p2"}}
    routes = (
        Routes()
        .add("GET", f"{CONTROLLER}/indexes/docs/backups?limit=2", json_response(first))
        .add(
            "GET",
            f"{CONTROLLER}/indexes/docs/backups?limit=2&paginationToken=p2",
            json_response({"data": [{"backup_id": "b3"}]}),
        )
    )
    async with make_client(routes) as client:
        backups = await client.control.list_backups(index_name="docs", limit=2)
    assert [b["backup_id"] for b in backups] == ["b1", "b2", "b3"]


async def test_project_backups_and_restore_jobs_use_their_paths(make_client: MakeClient) -> None:
    routes = (
        Routes()
        .add("GET", f"{CONTROLLER}/backups?limit=10", json_response({"data": []}))
        .add("GET", f"{CONTROLLER}/restore-jobs?limit=3", json_response({"data": [{"restore_job_id": "r"}]}))
    )
    async with make_client(routes) as client:
        assert (await client.control.list_backups_page())["data"] == []
        jobs = await client.control.list_restore_jobs_page(limit=3)
        assert jobs["data"][0]["restore_job_id"] == "r"
        with pytest.raises(UsageError, match="between 1 and 100"):
            await client.control.list_backups_page(limit=500)


async def test_wait_until_index_ready_polls_on_the_clock(make_client: MakeClient, clock: FakeClock) -> None:
    initializing = json_response({"status": {"ready": False, "state": "Initializing"}})
    ready_answer = json_response({"host": "h", "status": {"ready": True}})
    routes = Routes().add("GET", f"{CONTROLLER}/indexes/docs", initializing, initializing, ready_answer)
    async with make_client(routes) as client:
        ready = await client.control.wait_until_index_ready("docs", timeout=60, poll_interval=5)
    assert ready["host"] == "h"
    assert clock.sleeps == [5, 5]


async def test_waits_time_out_with_a_clear_error(make_client: MakeClient, clock: FakeClock) -> None:
    pending = json_response({"status": "Pending"})
    routes = Routes().add("GET", f"{CONTROLLER}/backups/b1", pending, repeat=True)
    async with make_client(routes) as client:
        with pytest.raises(WaitTimeoutError, match=r"backup 'b1'.*Pending.*10 s"):
            await client.control.wait_until_backup_ready("b1", timeout=10, poll_interval=3)
    assert clock.sleeps == [3, 3, 3, 1]


async def test_waits_stop_on_a_failed_state(make_client: MakeClient) -> None:
    failed_index = json_response({"status": {"ready": False, "state": "InitializationFailed"}})
    routes = (
        Routes()
        .add("GET", f"{CONTROLLER}/restore-jobs/r1", json_response({"status": "Failed"}))
        .add("GET", f"{CONTROLLER}/indexes/x", failed_index)
    )
    async with make_client(routes) as client:
        with pytest.raises(ResourceFailedError, match="Failed"):
            await client.control.wait_until_restore_done("r1")
        with pytest.raises(ResourceFailedError, match="InitializationFailed"):
            await client.control.wait_until_index_ready("x")


async def test_index_by_name_resolves_once_and_normalizes_the_host(make_client: MakeClient) -> None:
    described = json_response({"name": "docs", "host": "docs-abc.svc.pinecone.io"})
    async with make_client(Routes().add("GET", f"{CONTROLLER}/indexes/docs", described)) as client:
        first = await client.index(name="docs")
        second = await client.index(name="docs")
        assert first is second
        assert first.host == "https://docs-abc.svc.pinecone.io"
        assert client.stats.requests["describe_index"] == 1


async def test_client_must_be_entered_before_use(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(UsageError, match="async with"):
        client.control  # noqa: B018
    with pytest.raises(UsageError, match="async with"):
        client.index_at("http://x.test")


async def test_stats_subscribers_can_unsubscribe_and_cannot_break_requests(make_client: MakeClient) -> None:
    seen: list[str] = []

    def broken(_: Any) -> None:
        raise RuntimeError("progress bar bug")

    routes = Routes().add("GET", re.compile(r".*/indexes$"), json_response({"indexes": []}), repeat=True)
    async with make_client(routes) as client:
        unsubscribe = client.subscribe(lambda event: seen.append(event.kind))
        client.subscribe(broken)
        await client.control.list_indexes()
        unsubscribe()
        await client.control.list_indexes()
    assert seen == ["completed"]


# --- a real socket ----------------------------------------------------------------------------------


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[str, list[web.Request], list[bytes]]]:
    seen: list[web.Request] = []
    bodies: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request)
        bodies.append(await request.read())
        if request.path == "/vectors/fetch":
            return web.json_response({"vectors": {}, "namespace": "ns"})
        return web.json_response({"upsertedCount": 1} if request.path == "/vectors/upsert" else {})

    async with http1_host(handler) as url:
        yield url, seen, bodies


async def test_headers_urls_and_bodies_on_the_wire(
    echo_server: tuple[str, list[web.Request], list[bytes]],
) -> None:
    from bulkops.models import Record

    url, seen, bodies = echo_server
    async with Client(API_KEY, url, limits="none") as client:
        index = client.index_at(url)
        await index.fetch(["doc#1", "a b"], namespace="ns")
        await index.delete_ids(["x"], namespace="")
        await index.upsert([Record("r", [1.0])], namespace="")
    fetch, delete, upsert = seen
    assert fetch.headers["Api-Key"] == API_KEY
    assert fetch.headers["X-Pinecone-Api-Version"] == "2025-10"
    assert fetch.headers["User-Agent"].startswith("bulkops/")
    assert fetch.raw_path == "/vectors/fetch?ids=doc%231&ids=a%20b&namespace=ns"
    assert fetch.query.getall("ids") == ["doc#1", "a b"]
    assert delete.headers["Content-Type"] == "application/json"
    assert orjson.loads(bodies[1]) == {"namespace": "", "ids": ["x"]}
    assert orjson.loads(bodies[2]) == {"vectors": [{"id": "r", "values": [1.0]}]}
    assert upsert.method == "POST"


async def test_a_non_json_success_body_is_a_clear_api_error(make_client: MakeClient) -> None:
    from bulkops.errors import ApiError

    routes = (
        Routes()
        .add("GET", f"{CONTROLLER}/indexes", text_response(200, b"<html>captive portal</html>"))
        .add("DELETE", f"{CONTROLLER}/indexes/docs", text_response(202, b"Accepted"))
    )
    async with make_client(routes) as client:
        with pytest.raises(ApiError, match=r"list_indexes is not a JSON object.*captive portal"):
            await client.control.list_indexes()
        await client.control.delete_index("docs")  # a 202's body is never read


async def test_creates_are_retried_after_429_but_never_after_a_5xx(make_client: MakeClient) -> None:
    from bulkops.errors import ServerError

    url = f"{CONTROLLER}/indexes/docs/backups"
    routes = Routes().add(
        "POST",
        url,
        text_response(429, b"Too Many Requests"),
        json_response({"backup_id": "b1"}, 201),
        text_response(500, b"oops"),
        repeat=True,
    )
    async with make_client(routes) as client:
        assert (await client.control.create_backup("docs"))["backup_id"] == "b1"
        with pytest.raises(ServerError):
            await client.control.create_backup("docs")
        assert client.stats.requests["create_backup"] == 3


async def test_a_data_plane_client_used_after_close_says_so(
    echo_server: tuple[str, list[web.Request], list[bytes]],
) -> None:
    url, _, _ = echo_server
    async with Client(API_KEY, url, limits="none") as client:
        index = client.index_at(url)
        await index.delete_all(namespace="ns")
    with pytest.raises(UsageError, match="closed"):
        await index.delete_all(namespace="ns")
