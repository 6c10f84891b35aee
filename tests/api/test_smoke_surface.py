from __future__ import annotations

import re

import pytest
from aioresponses import aioresponses

from bulkops.api import Client, split_fetch_batches
from bulkops.errors import NotFoundError, UsageError

HOST = "http://idx.local:1"


async def test_delete_fetch_list_roundtrip() -> None:
    async with Client(api_key="k", controller_host="http://ctl.local:1", limits="none") as client:
        index = client.index_at(HOST)
        with aioresponses() as mock:
            mock.post(f"{HOST}/vectors/delete", payload={})
            mock.get(
                re.compile(r".*/vectors/fetch\?.*"), payload={"vectors": {"a": {"id": "a", "values": [1.0]}}}
            )
            mock.get(
                re.compile(r".*/vectors/list\?.*"),
                payload={"vectors": [{"id": "a"}], "pagination": {"next": "t"}},
            )
            await index.delete_ids(["a"], namespace="ns")
            found = await index.fetch(["a", "b"], namespace="ns")
            page = await index.list_page(namespace="ns", prefix="a")
        assert list(found) == ["a"]
        assert page.ids == ("a",)
        assert page.next_token == "t"
        assert client.stats.total_requests == 3


async def test_missing_key_is_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINECONE_API_KEY", raising=False)
    with pytest.raises(UsageError, match="PINECONE_API_KEY"):
        Client()


async def test_404_maps_to_not_found() -> None:
    async with Client(api_key="k", controller_host="http://ctl.local:1") as client:
        with aioresponses() as mock:
            mock.get(
                "http://ctl.local:1/indexes/nope",
                status=404,
                payload={"error": {"code": "NOT_FOUND", "message": "Index nope not found."}, "status": 404},
            )
            with pytest.raises(NotFoundError):
                await client.control.describe_index("nope")


def test_split_fetch_batches_by_count() -> None:
    ids = [str(i) for i in range(2500)]
    assert [len(b) for b in split_fetch_batches(ids, "", 10**9)] == [1000, 1000, 500]
