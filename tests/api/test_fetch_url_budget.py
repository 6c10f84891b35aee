"""Fetch request sizing: 1000 ordinary IDs go in one GET; a host with a short URL limit teaches the client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bulkops.api import Client, HttpResponse, MockTransport, SentRequest
from bulkops.api.config import DEFAULT_MAX_FETCH_URL_BYTES
from bulkops.api.rest.data_plane import DataPlaneClient

from .doubles import json_response, text_response


class _UrlLimitedHost:
    """Answers fetches like a server, with 414 for a request target longer than ``limit`` bytes."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.sent: list[int] = []  # IDs per fetch that reached the server
        self.rejected = 0

    def __call__(self, request: SentRequest) -> HttpResponse:
        target = request.url.split("://", 1)[-1].split("/", 1)[-1]
        if self.limit is not None and len(target) + 1 > self.limit:
            self.rejected += 1
            return text_response(414, b"URI Too Long")
        ids = parse_qs(urlsplit(request.url).query)["ids"]
        self.sent.append(len(ids))
        return json_response({"vectors": {i: {"id": i, "values": [1.0]} for i in ids}, "namespace": "ns"})


def _client(host: _UrlLimitedHost) -> Client:
    return Client("k", "http://ctl.test", limits="none", transport=MockTransport(host))


async def test_a_thousand_uuid_ids_take_one_fetch_with_the_default_budget() -> None:
    host = _UrlLimitedHost()
    ids = [f"{i:08d}-aaaa-bbbb-cccc-dddddddddddd" for i in range(1000)]  # 36-character UUID shape
    async with _client(host) as client:
        found = await client.index_at("http://h").fetch(ids, namespace="tenant-namespace")
    assert len(found) == 1000
    assert host.sent == [1000]
    assert DEFAULT_MAX_FETCH_URL_BYTES >= 40_000


async def test_a_host_with_short_urls_gets_split_batches_and_lowers_the_budget() -> None:
    host = _UrlLimitedHost(limit=8190)
    ids = [f"{i:08d}-aaaa-bbbb-cccc-dddddddddddd" for i in range(3000)]
    async with _client(host) as client:
        index = client.index_at("http://h")
        assert isinstance(index, DataPlaneClient)
        found = await index.fetch(ids, namespace="ns")
        assert sorted(found) == sorted(ids)
        assert sum(host.sent) == 3000
        assert index.max_fetch_url_bytes < DEFAULT_MAX_FETCH_URL_BYTES
        rejected_first_batch = host.rejected
        again = await index.fetch(ids, namespace="ns")
    assert len(again) == 3000
    assert host.rejected == rejected_first_batch  # the lowered budget fits: no more 414s
