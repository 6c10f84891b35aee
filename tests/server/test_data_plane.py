"""Data-plane semantics, each test run over REST and over gRPC (``plane_for``): upsert, fetch, list
paging, delete modes, stats, update, query, fetch_by_metadata, namespaces, the answer caches."""

from __future__ import annotations

import pytest

from bulkops.models import Record
from bulkops.server import LocalServer
from tests.server.conftest import PlaneFor
from tests.server.planes import PlaneError


async def _index(server: LocalServer, dimension: int = 4) -> str:
    return await server.create_index_direct("idx", dimension)


def _vec(i: int, **meta: object) -> dict[str, object]:
    return {"id": f"id-{i:03d}", "values": [float(i), 1.0, 0.0, 0.5], "metadata": meta or {"n": i}}


async def test_upsert_then_fetch_round_trips_values_and_metadata(
    server: LocalServer, plane_for: PlaneFor
) -> None:
    plane = plane_for(await _index(server))
    assert await plane.upsert([_vec(1, g="x", tags=["a", "b"], year=2019, r=0.5)], "ns") == {
        "upsertedCount": 1
    }
    body = await plane.fetch(["id-001", "missing"], "ns")
    assert body["namespace"] == "ns"
    assert body["usage"] == {"readUnits": 1}
    assert body["vectors"] == {
        "id-001": {
            "id": "id-001",
            "values": [1.0, 1.0, 0.0, 0.5],
            "metadata": {"g": "x", "tags": ["a", "b"], "year": 2019, "r": 0.5},
        }
    }
    stored = server.get_records("idx", "ns", ["id-001"])[0]
    assert stored.metadata == {"g": "x", "tags": ["a", "b"], "year": 2019, "r": 0.5}


async def test_list_pages_in_bitwise_order_and_last_page_has_no_pagination(
    server: LocalServer, plane_for: PlaneFor
) -> None:
    await _index(server)
    ids = ["a", "B", "a#1", "a-2", "a~", "b", "ab", "A"]
    await server.seed("idx", "", [Record(i, (0.0, 0.0, 0.0, 1.0)) for i in ids])
    plane = plane_for(server.index_host("idx"))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        body = await plane.list("", limit=3, token=token)
        pages += 1
        seen += [v["id"] for v in body["vectors"]]
        if "pagination" not in body:
            break
        token = body["pagination"]["next"]
        assert token
    assert seen == sorted(ids, key=lambda s: s.encode())
    assert pages == 3
    body = await plane.list(prefix="a", limit=100)
    assert [v["id"] for v in body["vectors"]] == ["a", "a#1", "a-2", "ab", "a~"]
    assert "pagination" not in body


async def test_list_resumes_after_cursor_even_when_listed_ids_were_deleted(
    server: LocalServer, plane_for: PlaneFor
) -> None:
    await _index(server)
    await server.seed("idx", "ns", [Record(f"p{i:02d}", (1.0, 0, 0, 0)) for i in range(10)])
    plane = plane_for(server.index_host("idx"))
    first = await plane.list("ns", limit=4)
    await plane.delete("ns", ids=[v["id"] for v in first["vectors"]])
    second = await plane.list("ns", limit=4, token=first["pagination"]["next"])
    assert [v["id"] for v in second["vectors"]] == ["p04", "p05", "p06", "p07"]


async def test_delete_modes_and_namespace_not_found(server: LocalServer, plane_for: PlaneFor) -> None:
    plane = plane_for(await _index(server))
    await plane.upsert([_vec(i, g="a" if i % 2 else "b", n=i) for i in range(10)], "ns")
    assert await plane.delete("ns", ids=["id-000", "nope"]) == {}
    await plane.delete("ns", filter={"$and": [{"g": "a"}, {"n": {"$gte": 5}}]})
    assert server.ids("idx", "ns") == ["id-001", "id-002", "id-003", "id-004", "id-006", "id-008"]
    with pytest.raises(PlaneError) as refused:
        await plane.delete("never", ids=["x"])
    assert (refused.value.code, refused.value.message) == (5, "Namespace not found")
    await plane.delete("ns", delete_all=True)
    assert server.ids("idx", "ns") == []


async def test_default_namespace_alias_and_stats_keys(server: LocalServer, plane_for: PlaneFor) -> None:
    host = await _index(server)
    plane = plane_for(host)
    await plane.upsert([_vec(1)], "__default__")
    assert server.ids("idx", "") == ["id-001"]
    body = await plane.fetch(["id-001"], "__default__")
    assert body["namespace"] == "__default__"
    assert "id-001" in body["vectors"]
    stats = await plane_for(host, version="2025-04").stats()
    assert stats["namespaces"] == {"": {"vectorCount": 1}}
    assert (stats["totalVectorCount"], stats["dimension"]) == (1, 4)
    assert (stats["metric"], stats["vectorType"]) == ("cosine", "dense")
    assert (await plane.stats())["namespaces"] == {"__default__": {"vectorCount": 1}}
    with pytest.raises(PlaneError, match="prior to 2025-04") as refused:
        await plane_for(host, version="2025-01").list("__default__")
    assert refused.value.code == 3


async def test_stats_with_a_filter_is_refused_as_on_serverless(
    server: LocalServer, plane_for: PlaneFor
) -> None:
    plane = plane_for(await _index(server))
    await plane.upsert([_vec(1, g="x")])
    with pytest.raises(PlaneError) as refused:
        await plane.stats(filter={"g": {"$eq": "x"}})
    assert refused.value.code == 3
    assert refused.value.message == (
        "Serverless and Starter indexes do not support describing index stats with metadata filtering."
    )
    assert (await plane.stats(filter={}))["totalVectorCount"] == 1  # an empty filter is no filter


async def test_update_merges_metadata_and_update_by_filter(server: LocalServer, plane_for: PlaneFor) -> None:
    host = await _index(server)
    plane = plane_for(host)
    await plane.upsert([_vec(1, a=1, b="x"), _vec(2, a=2)])
    assert await plane.update(id="id-001", set_metadata={"b": "y", "c": True}) == {"matchedRecords": 1}
    assert await plane_for(host, version="2025-04").update(id="id-002", values=[2, 2, 2, 2]) == {}
    assert server.get_records("idx", "", ["id-001"])[0].metadata == {"a": 1, "b": "y", "c": True}
    assert server.get_records("idx", "", ["id-002"])[0].values == (2.0, 2.0, 2.0, 2.0)
    body = await plane.update(filter={"a": {"$in": [1, 2]}}, set_metadata={"z": "q"}, dry_run=True)
    assert body == {"matchedRecords": 2}
    assert "z" not in (server.get_records("idx", "", ["id-002"])[0].metadata or {})
    await plane.update(filter={"a": 2}, set_metadata={"z": "q"})
    assert server.get_records("idx", "", ["id-002"])[0].metadata == {"a": 2, "z": "q"}


async def test_query_ranks_by_cosine_and_filters(server: LocalServer, plane_for: PlaneFor) -> None:
    plane = plane_for(await _index(server, 2))
    await plane.upsert(
        [
            {"id": "east", "values": [1.0, 0.0], "metadata": {"k": "x"}},
            {"id": "north", "values": [0.0, 1.0], "metadata": {"k": "y"}},
            {"id": "ne", "values": [1.0, 1.0], "metadata": {"k": "x"}},
        ]
    )
    body = await plane.query(top_k=2, vector=[1.0, 0.1], include_values=False, include_metadata=False)
    assert [m["id"] for m in body["matches"]] == ["east", "ne"]
    assert "metadata" not in body["matches"][0]
    body = await plane.query(top_k=5, vector=[0.0, 1.0], filter={"k": {"$ne": "y"}}, include_metadata=True)
    assert [m["id"] for m in body["matches"]] == ["ne", "east"]
    assert body["matches"][0]["metadata"] == {"k": "x"}
    assert body["matches"][0]["score"] == pytest.approx(2**-0.5)
    body = await plane.query(top_k=1, id="north", include_values=True)
    assert body["matches"] == [{"id": "north", "values": [0.0, 1.0], "score": pytest.approx(1.0)}]


async def test_fetch_by_metadata_pages_do_not_overlap(server: LocalServer, plane_for: PlaneFor) -> None:
    plane = plane_for(await _index(server))
    await plane.upsert([_vec(i, r=i % 3) for i in range(12)], "ns")
    got: list[str] = []
    token = None
    while True:
        body = await plane.fetch_by_metadata("ns", filter={"r": {"$lt": 2}}, limit=3, token=token)
        got += sorted(body["vectors"])
        token = body.get("pagination", {}).get("next")
        if not token:
            break
    assert got == [f"id-{i:03d}" for i in range(12) if i % 3 < 2]


async def test_fetch_by_metadata_takes_limits_up_to_10000_and_caps_answers_at_4_mb(
    server: LocalServer, plane_for: PlaneFor
) -> None:
    await server.create_index_direct("big", 1000)
    payload = "m" * 20_000  # ~24 KB per record over either transport: 4 MB hold about 170
    await server.seed(
        "big", "ns", [Record(f"r{i:04d}", (0.5,) * 1000, metadata={"p": payload}) for i in range(400)]
    )
    plane = plane_for(server.index_host("big"))
    with pytest.raises(PlaneError, match="at most 10000") as refused:
        await plane.fetch_by_metadata("ns", filter={"p": {"$exists": True}}, limit=10_001)
    assert refused.value.code == 3
    got: list[str] = []
    sizes: list[int] = []
    token = None
    while True:
        body = await plane.fetch_by_metadata("ns", filter={"p": {"$exists": True}}, limit=10_000, token=token)
        sizes.append(len(body["vectors"]))
        got += sorted(body["vectors"])
        token = body.get("pagination", {}).get("next")
        if not token:
            break
    assert got == [f"r{i:04d}" for i in range(400)]  # nothing lost or repeated across capped pages
    assert len(sizes) == 3
    assert 100 < sizes[0] < 200


async def test_namespaces_api(server: LocalServer, plane_for: PlaneFor) -> None:
    host = await _index(server)
    plane = plane_for(host)
    made = await plane.create_namespace("made")
    assert (made["name"], made["record_count"]) == ("made", 0)
    with pytest.raises(PlaneError) as refused:
        await plane.create_namespace("made")
    assert refused.value.code == 6
    await server.seed("idx", "other", [Record("a", (1.0, 0, 0, 0))])
    body = await plane.list_namespaces(limit=1)
    assert [n["name"] for n in body["namespaces"]] == ["made"]
    assert body["total_count"] == 2
    body = await plane.list_namespaces(limit=1, token=body["pagination"]["next"])
    assert body["namespaces"] == [{"name": "other", "record_count": 1, "indexed_fields": {"fields": []}}]
    assert "pagination" not in body
    assert await plane_for(host, version="2025-04").describe_namespace("other") == {
        "name": "other",
        "record_count": 1,
    }
    await plane.delete_namespace("other")
    with pytest.raises(PlaneError) as refused:
        await plane.describe_namespace("other")
    assert refused.value.code == 5


async def test_fetch_never_serves_stale_values_after_update_or_overwrite(
    server: LocalServer, plane_for: PlaneFor
) -> None:
    plane = plane_for(await _index(server))

    async def values() -> list[float]:
        return list((await plane.fetch(["id-001"]))["vectors"]["id-001"]["values"])

    await plane.upsert([_vec(1)])
    assert await values() == [1.0, 1.0, 0.0, 0.5]
    await plane.update(id="id-001", values=[9, 9, 9, 9])
    assert await values() == [9.0, 9.0, 9.0, 9.0]
    await plane.upsert([{"id": "id-001", "values": [2, 2, 2, 2]}])
    assert await values() == [2.0, 2.0, 2.0, 2.0]
    await plane.delete(delete_all=True)
    await server.seed("idx", "", [Record("id-001", (3.0, 3.0, 3.0, 3.0))])
    assert await values() == [3.0, 3.0, 3.0, 3.0]


async def test_filter_scans_span_many_pages(server: LocalServer, plane_for: PlaneFor) -> None:
    plane = plane_for(await _index(server))
    await server.seed(
        "idx",
        "big",
        [Record(f"r{i:05d}", (1.0, 0, 0, 0), metadata={"odd": i % 2 == 1}) for i in range(12_001)],
    )
    body = await plane.fetch_by_metadata("big", filter={"odd": True}, limit=3)
    assert sorted(body["vectors"]) == ["r00001", "r00003", "r00005"]
    await plane.delete("big", filter={"odd": {"$eq": True}})
    assert server.ids("idx", "big") == [f"r{i:05d}" for i in range(0, 12_001, 2)]


async def test_fetch_never_serves_stale_metadata(server: LocalServer, plane_for: PlaneFor) -> None:
    plane = plane_for(await _index(server))

    async def metadata() -> object:
        return (await plane.fetch(["id-001"]))["vectors"]["id-001"].get("metadata")

    await plane.upsert([_vec(1, a=1)])
    assert await metadata() == {"a": 1}
    await plane.update(id="id-001", set_metadata={"b": 2})
    assert await metadata() == {"a": 1, "b": 2}
    await plane.update(filter={"a": 1}, set_metadata={"c": "x"})
    assert await metadata() == {"a": 1, "b": 2, "c": "x"}


async def test_fetch_works_past_the_answer_cache_budget(
    server: LocalServer, plane_for: PlaneFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bulkops.server.storage.ANSWER_CACHE_BYTES", 200)
    plane = plane_for(await _index(server))
    await plane.upsert([_vec(i) for i in range(10)])
    body = await plane.fetch([f"id-{i:03d}" for i in range(10)])
    assert sorted(body["vectors"]) == [f"id-{i:03d}" for i in range(10)]
    assert body["vectors"]["id-009"]["values"] == [9.0, 1.0, 0.0, 0.5]
