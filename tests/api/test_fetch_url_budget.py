"""Fetch request sizing: 1000 ordinary IDs go in one GET; a host with a short URL limit teaches the client."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from bulkops.api.config import DEFAULT_MAX_FETCH_URL_BYTES
from bulkops.api.executor import Call
from bulkops.api.rest.data_plane import DataPlaneClient
from bulkops.api.rest.transport import HttpResponse
from bulkops.clock import SYSTEM_CLOCK
from bulkops.errors import error_from_response
from bulkops.limits.profiles import PROFILES
from bulkops.limits.scoped import ScopedLimiter


class _UrlLimitedHost:
    """Answers fetches like a server, with 414 for a URL longer than ``limit`` bytes."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.sent: list[int] = []  # IDs per fetch that reached the server
        self.rejected = 0

    async def run(self, call: Call) -> HttpResponse:
        target = call.url.split("://", 1)[-1].split("/", 1)[-1]
        if self.limit is not None and len(target) + 1 > self.limit:
            self.rejected += 1
            raise error_from_response(414, b"URI Too Long")
        ids = parse_qs(urlsplit(call.url).query)["ids"]
        self.sent.append(len(ids))
        vectors = {i: {"id": i, "values": [1.0]} for i in ids}
        return HttpResponse(200, {}, orjson.dumps({"vectors": vectors, "namespace": "ns"}))


def _client(host: _UrlLimitedHost, **kwargs: Any) -> DataPlaneClient:
    limiter = ScopedLimiter(PROFILES["none"], index_name="i", clock=SYSTEM_CLOCK)
    return DataPlaneClient("http://h", executor=host, limiter=limiter, **kwargs)  # type: ignore[arg-type]


async def test_a_thousand_uuid_ids_take_one_fetch_with_the_default_budget() -> None:
    host = _UrlLimitedHost()
    ids = [f"{i:08d}-aaaa-bbbb-cccc-dddddddddddd" for i in range(1000)]  # 36-character UUID shape
    found = await _client(host).fetch(ids, namespace="tenant-namespace")
    assert len(found) == 1000
    assert host.sent == [1000]
    assert DEFAULT_MAX_FETCH_URL_BYTES >= 40_000


async def test_a_host_with_short_urls_gets_split_batches_and_lowers_the_budget() -> None:
    host = _UrlLimitedHost(limit=8190)
    client = _client(host)
    ids = [f"{i:08d}-aaaa-bbbb-cccc-dddddddddddd" for i in range(3000)]
    found = await client.fetch(ids, namespace="ns")
    assert sorted(found) == sorted(ids)
    assert sum(host.sent) == 3000
    assert client.max_fetch_url_bytes < DEFAULT_MAX_FETCH_URL_BYTES
    rejected_first_batch = host.rejected
    again = await client.fetch(ids, namespace="ns")
    assert len(again) == 3000
    assert host.rejected == rejected_first_batch  # the lowered budget fits: no more 414s
