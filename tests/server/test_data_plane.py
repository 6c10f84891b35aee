"""Data plane over plain HTTP: upsert, fetch, list paging, delete modes, stats, update, query."""

from __future__ import annotations

import aiohttp
import pytest

from bulkops.models import Record
from bulkops.server import LocalServer
from tests.server.conftest import V2510, call


async def _index(server: LocalServer, dimension: int = 4) -> str:
    return await server.create_index_direct("idx", dimension)


def _vec(i: int, **meta: object) -> dict[str, object]:
    return {"id": f"id-{i:03d}", "values": [float(i), 1.0, 0.0, 0.5], "metadata": meta or {"n": i}}


async def test_upsert_then_fetch_round_trips_values_and_metadata(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    host = await _index(server)
    status, body = await call(
        http,
        "POST",
        f"{host}/vectors/upsert",
        json={"vectors": [_vec(1, g="x", tags=["a", "b"])], "namespace": "ns"},
    )
    assert (status, body) == (200, {"upsertedCount": 1})
    status, body = await call(
        http,
        "GET",
        f"{host}/vectors/fetch",
        params=[("ids", "id-001"), ("ids", "missing"), ("namespace", "ns")],
    )
    assert status == 200
    assert body["namespace"] == "ns"
    assert body["vectors"] == {
        "id-001": {"id": "id-001", "values": [1.0, 1.0, 0.0, 0.5], "metadata": {"g": "x", "tags": ["a", "b"]}}
    }
    assert server.get_records("idx", "ns", ["id-001"])[0].metadata == {"g": "x", "tags": ["a", "b"]}


async def test_list_pages_in_bitwise_order_and_last_page_has_no_pagination(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    await _index(server)
    ids = ["a", "B", "a#1", "a-2", "a~", "b", "ab", "A"]
    await server.seed("idx", "", [Record(i, (0.0, 0.0, 0.0, 1.0)) for i in ids])
    host = server.index_host("idx")
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"namespace": "", "limit": "3"} | ({"paginationToken": token} if token else {})
        status, body = await call(http, "GET", f"{host}/vectors/list", params=params)
        assert status == 200
        pages += 1
        seen += [v["id"] for v in body["vectors"]]
        if "pagination" not in body:
            break
        token = body["pagination"]["next"]
        assert token
    assert seen == sorted(ids, key=lambda s: s.encode())
    assert pages == 3
    status, body = await call(http, "GET", f"{host}/vectors/list", params={"prefix": "a", "limit": "100"})
    assert [v["id"] for v in body["vectors"]] == ["a", "a#1", "a-2", "ab", "a~"]
    assert "pagination" not in body


async def test_list_resumes_after_cursor_even_when_listed_ids_were_deleted(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    await _index(server)
    await server.seed("idx", "ns", [Record(f"p{i:02d}", (1.0, 0, 0, 0)) for i in range(10)])
    host = server.index_host("idx")
    _, first = await call(http, "GET", f"{host}/vectors/list", params={"namespace": "ns", "limit": "4"})
    ids = [v["id"] for v in first["vectors"]]
    await call(http, "POST", f"{host}/vectors/delete", json={"ids": ids, "namespace": "ns"})
    _, second = await call(
        http,
        "GET",
        f"{host}/vectors/list",
        params={"namespace": "ns", "limit": "4", "paginationToken": first["pagination"]["next"]},
    )
    assert [v["id"] for v in second["vectors"]] == ["p04", "p05", "p06", "p07"]


async def test_delete_modes_and_namespace_not_found(server: LocalServer, http: aiohttp.ClientSession) -> None:
    host = await _index(server)
    await call(
        http,
        "POST",
        f"{host}/vectors/upsert",
        json={"vectors": [_vec(i, g="a" if i % 2 else "b", n=i) for i in range(10)], "namespace": "ns"},
    )
    status, body = await call(
        http, "POST", f"{host}/vectors/delete", json={"ids": ["id-000", "nope"], "namespace": "ns"}
    )
    assert (status, body) == (200, {})
    status, _ = await call(
        http,
        "POST",
        f"{host}/vectors/delete",
        json={"filter": {"$and": [{"g": "a"}, {"n": {"$gte": 5}}]}, "namespace": "ns"},
    )
    assert status == 200
    assert server.ids("idx", "ns") == ["id-001", "id-002", "id-003", "id-004", "id-006", "id-008"]
    status, body = await call(
        http, "POST", f"{host}/vectors/delete", json={"ids": ["x"], "namespace": "never"}
    )
    assert (status, body) == (404, {"code": 5, "message": "Namespace not found", "details": []})
    status, _ = await call(
        http, "POST", f"{host}/vectors/delete", json={"deleteAll": True, "namespace": "ns"}
    )
    assert status == 200
    assert server.ids("idx", "ns") == []


async def test_default_namespace_alias_and_stats_keys(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    host = await _index(server)
    await call(
        http, "POST", f"{host}/vectors/upsert", json={"vectors": [_vec(1)], "namespace": "__default__"}
    )
    assert server.ids("idx", "") == ["id-001"]
    _, body = await call(
        http, "GET", f"{host}/vectors/fetch", params={"ids": "id-001", "namespace": "__default__"}
    )
    assert body["namespace"] == "__default__"
    assert "id-001" in body["vectors"]
    _, stats = await call(http, "POST", f"{host}/describe_index_stats", json={})
    assert stats["namespaces"] == {"": {"vectorCount": 1}}
    assert stats["totalVectorCount"] == 1
    assert stats["dimension"] == 4
    _, stats = await call(http, "POST", f"{host}/describe_index_stats", json={}, headers=V2510)
    assert stats["namespaces"] == {"__default__": {"vectorCount": 1}}
    status, body = await call(
        http,
        "GET",
        f"{host}/vectors/list",
        params={"namespace": "__default__"},
        headers={"X-Pinecone-Api-Version": "2025-01"},
    )
    assert status == 400
    assert "prior to 2025-04" in body["message"]


async def test_update_merges_metadata_and_update_by_filter(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    host = await _index(server)
    await call(http, "POST", f"{host}/vectors/upsert", json={"vectors": [_vec(1, a=1, b="x"), _vec(2, a=2)]})
    status, _ = await call(
        http, "POST", f"{host}/vectors/update", json={"id": "id-001", "setMetadata": {"b": "y", "c": True}}
    )
    assert status == 200
    assert server.get_records("idx", "", ["id-001"])[0].metadata == {"a": 1, "b": "y", "c": True}
    status, body = await call(
        http,
        "POST",
        f"{host}/vectors/update",
        json={"filter": {"a": {"$in": [1, 2]}}, "setMetadata": {"z": "q"}, "dryRun": True},
        headers=V2510,
    )
    assert (status, body) == (200, {"matchedRecords": 2})
    assert "z" not in (server.get_records("idx", "", ["id-002"])[0].metadata or {})
    await call(
        http,
        "POST",
        f"{host}/vectors/update",
        json={"filter": {"a": 2}, "setMetadata": {"z": "q"}},
        headers=V2510,
    )
    assert server.get_records("idx", "", ["id-002"])[0].metadata == {"a": 2, "z": "q"}


async def test_query_ranks_by_cosine_and_filters(server: LocalServer, http: aiohttp.ClientSession) -> None:
    host = await _index(server, 2)
    vectors = [
        {"id": "east", "values": [1.0, 0.0], "metadata": {"k": "x"}},
        {"id": "north", "values": [0.0, 1.0], "metadata": {"k": "y"}},
        {"id": "ne", "values": [1.0, 1.0], "metadata": {"k": "x"}},
    ]
    await call(http, "POST", f"{host}/vectors/upsert", json={"vectors": vectors})
    _, body = await call(
        http,
        "POST",
        f"{host}/query",
        json={"topK": 2, "vector": [1.0, 0.1], "includeValues": False, "includeMetadata": False},
    )
    assert [m["id"] for m in body["matches"]] == ["east", "ne"]
    _, body = await call(
        http,
        "POST",
        f"{host}/query",
        json={"topK": 5, "vector": [0.0, 1.0], "filter": {"k": {"$ne": "y"}}, "includeMetadata": True},
    )
    assert [m["id"] for m in body["matches"]] == ["ne", "east"]
    assert body["matches"][0]["metadata"] == {"k": "x"}


async def test_fetch_by_metadata_pages_do_not_overlap(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    host = await _index(server)
    await call(
        http,
        "POST",
        f"{host}/vectors/upsert",
        json={"vectors": [_vec(i, r=i % 3) for i in range(12)], "namespace": "ns"},
    )
    got: list[str] = []
    token = None
    while True:
        doc = {"namespace": "ns", "filter": {"r": {"$lt": 2}}, "limit": 3} | (
            {"paginationToken": token} if token else {}
        )
        status, body = await call(http, "POST", f"{host}/vectors/fetch_by_metadata", json=doc, headers=V2510)
        assert status == 200
        got += list(body["vectors"])
        token = body.get("pagination", {}).get("next")
        if not token:
            break
    assert got == [f"id-{i:03d}" for i in range(12) if i % 3 < 2]


async def test_namespaces_api(server: LocalServer, http: aiohttp.ClientSession) -> None:
    host = await _index(server)
    status, body = await call(http, "POST", f"{host}/namespaces", json={"name": "made"}, headers=V2510)
    assert (status, body["name"], body["record_count"]) == (200, "made", 0)
    status, _ = await call(http, "POST", f"{host}/namespaces", json={"name": "made"}, headers=V2510)
    assert status == 409
    await server.seed("idx", "other", [Record("a", (1.0, 0, 0, 0))])
    _, body = await call(http, "GET", f"{host}/namespaces", params={"limit": "1"}, headers=V2510)
    assert [n["name"] for n in body["namespaces"]] == ["made"]
    assert body["total_count"] == 2
    _, body = await call(
        http,
        "GET",
        f"{host}/namespaces",
        params={"limit": "1", "paginationToken": body["pagination"]["next"]},
        headers=V2510,
    )
    assert body["namespaces"] == [{"name": "other", "record_count": 1, "indexed_fields": {"fields": []}}]
    assert "pagination" not in body
    status, body = await call(http, "GET", f"{host}/namespaces/other")
    assert (status, body) == (200, {"name": "other", "record_count": 1})
    status, _ = await call(http, "DELETE", f"{host}/namespaces/other")
    assert status == 200
    status, body = await call(http, "GET", f"{host}/namespaces/other")
    assert (status, body["code"]) == (404, 5)


async def test_fetch_never_serves_stale_values_after_update_or_overwrite(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    host = await _index(server)

    async def values() -> list[float]:
        _, body = await call(http, "GET", f"{host}/vectors/fetch", params={"ids": "id-001"})
        return list(body["vectors"]["id-001"]["values"])

    await call(http, "POST", f"{host}/vectors/upsert", json={"vectors": [_vec(1)]})
    assert await values() == [1.0, 1.0, 0.0, 0.5]
    await call(http, "POST", f"{host}/vectors/update", json={"id": "id-001", "values": [9, 9, 9, 9]})
    assert await values() == [9.0, 9.0, 9.0, 9.0]
    await call(
        http, "POST", f"{host}/vectors/upsert", json={"vectors": [{"id": "id-001", "values": [2, 2, 2, 2]}]}
    )
    assert await values() == [2.0, 2.0, 2.0, 2.0]
    await call(http, "POST", f"{host}/vectors/delete", json={"deleteAll": True})
    await server.seed("idx", "", [Record("id-001", (3.0, 3.0, 3.0, 3.0))])
    assert await values() == [3.0, 3.0, 3.0, 3.0]


async def test_filter_scans_span_many_pages(server: LocalServer, http: aiohttp.ClientSession) -> None:
    host = await _index(server)
    await server.seed(
        "idx",
        "big",
        [Record(f"r{i:05d}", (1.0, 0, 0, 0), metadata={"odd": i % 2 == 1}) for i in range(12_001)],
    )
    status, body = await call(
        http,
        "POST",
        f"{host}/vectors/fetch_by_metadata",
        json={"namespace": "big", "filter": {"odd": True}, "limit": 3, "paginationToken": None},
        headers=V2510,
    )
    assert list(body["vectors"]) == ["r00001", "r00003", "r00005"]
    status, _ = await call(
        http, "POST", f"{host}/vectors/delete", json={"namespace": "big", "filter": {"odd": {"$eq": True}}}
    )
    assert status == 200
    remaining = server.ids("idx", "big")
    assert remaining == [f"r{i:05d}" for i in range(0, 12_001, 2)]


async def test_fetch_never_serves_stale_metadata(server: LocalServer, http: aiohttp.ClientSession) -> None:
    host = await _index(server)

    async def metadata() -> object:
        _, body = await call(http, "GET", f"{host}/vectors/fetch", params={"ids": "id-001"})
        return body["vectors"]["id-001"].get("metadata")

    await call(http, "POST", f"{host}/vectors/upsert", json={"vectors": [_vec(1, a=1)]})
    assert await metadata() == {"a": 1}
    await call(http, "POST", f"{host}/vectors/update", json={"id": "id-001", "setMetadata": {"b": 2}})
    assert await metadata() == {"a": 1, "b": 2}
    await call(
        http,
        "POST",
        f"{host}/vectors/update",
        json={"filter": {"a": 1}, "setMetadata": {"c": "x"}},
        headers=V2510,
    )
    assert await metadata() == {"a": 1, "b": 2, "c": "x"}


async def test_fetch_works_past_the_answer_cache_budget(
    server: LocalServer, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bulkops.server.storage.ANSWER_CACHE_BYTES", 200)
    host = await _index(server)
    await call(http, "POST", f"{host}/vectors/upsert", json={"vectors": [_vec(i) for i in range(10)]})
    _, body = await call(
        http, "GET", f"{host}/vectors/fetch", params=[("ids", f"id-{i:03d}") for i in range(10)]
    )
    assert sorted(body["vectors"]) == [f"id-{i:03d}" for i in range(10)]
    assert body["vectors"]["id-009"]["values"] == [9.0, 1.0, 0.0, 0.5]
