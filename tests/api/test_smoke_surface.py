"""The client's surface in one breath: a data-plane round trip, the missing key, a 404, batching."""

from __future__ import annotations

import re

import pytest

from bulkops.api import Client, MockTransport, split_fetch_batches
from bulkops.errors import NotFoundError, UsageError

from .doubles import Routes, json_response

HOST = "http://idx.local:1"


async def test_delete_fetch_list_roundtrip() -> None:
    routes = (
        Routes()
        .add("POST", f"{HOST}/vectors/delete", json_response({}))
        .add(
            "GET",
            re.compile(r".*/vectors/fetch\?.*"),
            json_response({"vectors": {"a": {"id": "a", "values": [1.0]}}}),
        )
        .add(
            "GET",
            re.compile(r".*/vectors/list\?.*"),
            json_response({"vectors": [{"id": "a"}], "pagination": {"next": "t"}}),
        )
    )
    transport = MockTransport(routes)
    async with Client(
        api_key="k", controller_host="http://ctl.local:1", limits="none", transport=transport
    ) as client:
        index = client.index_at(HOST)
        await index.delete_ids(["a"], namespace="ns")
        found = await index.fetch(["a", "b"], namespace="ns")
        page = await index.list_page(namespace="ns", prefix="a")
    assert list(found) == ["a"]
    assert page.ids == ("a",)
    assert page.next_token == "t"
    assert client.stats.total_requests == 3
    assert index.transport == "rest"


async def test_missing_key_is_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINECONE_API_KEY", raising=False)
    with pytest.raises(UsageError, match="PINECONE_API_KEY"):
        Client()


async def test_404_maps_to_not_found() -> None:
    missing = {"error": {"code": "NOT_FOUND", "message": "Index nope not found."}, "status": 404}
    routes = Routes().add("GET", "http://ctl.local:1/indexes/nope", json_response(missing, 404))
    async with Client(
        api_key="k", controller_host="http://ctl.local:1", transport=MockTransport(routes)
    ) as client:
        with pytest.raises(NotFoundError):
            await client.control.describe_index("nope")


def test_split_fetch_batches_by_count() -> None:
    ids = [str(i) for i in range(2500)]
    assert [len(b) for b in split_fetch_batches(ids, "", 10**9)] == [1000, 1000, 500]
