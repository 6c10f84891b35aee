"""Replays of the seed docs' curl examples at X-Pinecone-API-Version 2025-04 (plain HTTP):
documented status codes, field names and messages."""

from __future__ import annotations

import aiohttp

from bulkops.server import LocalServer
from tests.server.conftest import V2504, V2510, call

INDEX_FIELDS = {
    "name",
    "vector_type",
    "metric",
    "dimension",
    "status",
    "host",
    "spec",
    "deletion_protection",
    "tags",
}
BACKUP_FIELDS = {
    "backup_id", "source_index_id", "source_index_name", "tags", "name", "description", "status",
    "cloud", "region", "dimension", "record_count", "namespace_count", "size_bytes", "created_at",
}  # fmt: skip
PROTECTED = "Deletion protection is enabled for this index. Disable deletion protection before retrying."
SERVERLESS = {"serverless": {"cloud": "aws", "region": "us-east-1"}}


async def test_manage_serverless_indexes_examples(server: LocalServer, http: aiohttp.ClientSession) -> None:
    url = server.url
    status, body = await call(
        http,
        "POST",
        f"{url}/indexes",
        json={
            "name": "docs-example",
            "dimension": 1536,
            "metric": "cosine",
            "spec": SERVERLESS,
            "deletion_protection": "enabled",
        },
    )
    assert status == 201
    assert set(body) == INDEX_FIELDS
    assert body["spec"] == SERVERLESS
    assert body["status"] == {"ready": True, "state": "Ready"}
    assert (body["dimension"], body["deletion_protection"], body["vector_type"]) == (1536, "enabled", "dense")
    status, body = await call(
        http,
        "POST",
        f"{url}/indexes",
        json={
            "name": "docs-example-sparse",
            "vector_type": "sparse",
            "metric": "dotproduct",
            "spec": SERVERLESS,
            "tags": {"environment": "development"},
        },
    )
    assert status == 201
    assert body["dimension"] is None
    status, body = await call(http, "GET", f"{url}/indexes")
    assert status == 200
    assert [i["name"] for i in body["indexes"]] == ["docs-example", "docs-example-sparse"]
    assert all(set(i) == INDEX_FIELDS for i in body["indexes"])
    status, body = await call(http, "GET", f"{url}/indexes/docs-example")
    assert (status, body["name"]) == (200, "docs-example")
    status, body = await call(http, "DELETE", f"{url}/indexes/docs-example")
    assert status == 403
    assert body == {
        "error": {
            "code": "FORBIDDEN",
            "message": PROTECTED,
        },
        "status": 403,
    }
    status, body = await call(
        http, "PATCH", f"{url}/indexes/docs-example", json={"deletion_protection": "disabled"}
    )
    assert (status, body["deletion_protection"]) == (202, "disabled")
    status, body = await call(
        http,
        "PATCH",
        f"{url}/indexes/docs-example",
        json={"tags": {"example": "tag", "environment": "development"}},
    )
    assert (status, body["tags"]) == (202, {"example": "tag", "environment": "development"})
    status, body = await call(http, "PATCH", f"{url}/indexes/docs-example", json={"tags": {"example": ""}})
    assert (status, body["tags"]) == (202, {"environment": "development"})
    status, body = await call(
        http,
        "PATCH",
        f"{url}/indexes/docs-example",
        json={"embed": {"model": "llama-text-embed-v2", "field_map": {"text": "chunk_text"}}},
    )
    assert status == 202
    assert body["embed"]["model"] == "llama-text-embed-v2"
    assert body["embed"]["field_map"] == {"text": "chunk_text"}
    status, body = await call(http, "DELETE", f"{url}/indexes/docs-example")
    assert (status, body) == (202, None)
    status, body = await call(http, "GET", f"{url}/indexes/docs-example")
    assert (status, body) == (
        404,
        {"error": {"code": "NOT_FOUND", "message": "Index docs-example not found."}, "status": 404},
    )


async def test_backup_examples(server: LocalServer, http: aiohttp.ClientSession) -> None:
    url = server.url
    await call(
        http,
        "POST",
        f"{url}/indexes",
        json={"name": "docs-example", "dimension": 2, "metric": "cosine", "spec": SERVERLESS},
    )
    host = server.index_host("docs-example")
    for ns in ("a", "b", "c"):
        await call(
            http,
            "POST",
            f"{host}/vectors/upsert",
            json={"vectors": [{"id": f"{ns}{i}", "values": [1.0, 2.0]} for i in range(32)], "namespace": ns},
        )
    status, body = await call(
        http,
        "POST",
        f"{url}/indexes/docs-example/backups",
        json={"name": "example-backup", "description": "Monthly backup of production index"},
    )
    assert status == 201
    assert set(body) >= BACKUP_FIELDS
    assert (body["status"], body["record_count"], body["namespace_count"]) == ("Initializing", 96, 3)
    assert (body["name"], body["description"], body["source_index_name"]) == (
        "example-backup",
        "Monthly backup of production index",
        "docs-example",
    )
    backup_id = body["backup_id"]
    status, body = await call(http, "GET", f"{url}/backups/{backup_id}")
    assert (status, body["backup_id"]) == (200, backup_id)
    status, body = await call(http, "GET", f"{url}/indexes/docs-example/backups")
    assert status == 200
    assert set(body) == {"data", "pagination"}
    assert [b["backup_id"] for b in body["data"]] == [backup_id]
    assert body["pagination"] is None
    status, body = await call(http, "GET", f"{url}/backups")
    assert (status, len(body["data"])) == (200, 1)
    status, body = await call(http, "DELETE", f"{url}/backups/{backup_id}")
    assert (status, body) == (202, None)
    status, body = await call(http, "GET", f"{url}/backups/{backup_id}")
    assert status == 404
    assert body["error"] == {"code": "NOT_FOUND", "message": f"Backup {backup_id} not found."}


async def test_backup_lists_paginate_sorted_newest_first(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    await server.create_index_direct("docs-example", 2)
    ids = []
    for i in range(5):
        _, body = await call(
            http, "POST", f"{server.url}/indexes/docs-example/backups", json={"name": f"b{i}"}
        )
        ids.append(body["backup_id"])
    seen: list[str] = []
    params = {"limit": "2"}
    while True:
        status, body = await call(http, "GET", f"{server.url}/backups", params=params)
        assert status == 200
        seen += [b["backup_id"] for b in body["data"]]
        if body["pagination"] is None:
            break
        params = {"limit": "2", "paginationToken": body["pagination"]["next"]}
    assert seen == list(reversed(ids))
    status, body = await call(http, "GET", f"{server.url}/backups", params={"limit": "0"})
    assert (status, body["error"]["code"]) == (400, "INVALID_ARGUMENT")


async def test_delete_fetch_list_examples(server: LocalServer, http: aiohttp.ClientSession) -> None:
    host = await server.create_index_direct("docs-example", 3)
    vectors = [
        {"id": "id-1", "values": [0.1, 0.2, 0.3], "metadata": {"genre": "documentary", "rating": 4}},
        {"id": "id-2", "values": [0.4, 0.5, 0.6], "metadata": {"genre": "drama", "rating": 1}},
    ]
    vectors += [
        {"id": f"doc{d}#chunk{c}", "values": [0.1, 0.1, 0.1]} for d in range(1, 4) for c in range(1, 4)
    ]
    status, body = await call(
        http, "POST", f"{host}/vectors/upsert", json={"vectors": vectors, "namespace": "example-namespace"}
    )
    assert (status, body) == (200, {"upsertedCount": 11})
    status, body = await call(
        http, "GET", f"{host}/vectors/fetch?ids=id-1&ids=id-2&namespace=example-namespace"
    )
    assert status == 200
    assert set(body) == {"vectors", "namespace", "usage"}
    assert set(body["vectors"]) == {"id-1", "id-2"}
    assert set(body["vectors"]["id-1"]) == {"id", "values", "metadata"}
    assert body["namespace"] == "example-namespace"
    assert body["usage"] == {"readUnits": 1}
    status, body = await call(
        http,
        "POST",
        f"{host}/vectors/fetch_by_metadata",
        json={"namespace": "example-namespace", "filter": {"rating": {"$lt": 5}}, "limit": 2},
        headers=V2510,
    )
    assert status == 200
    assert set(body["vectors"]) == {"id-1", "id-2"}
    status, body = await call(
        http, "GET", f"{host}/vectors/list?namespace=example-namespace&prefix=doc1%23&limit=2"
    )
    assert status == 200
    assert set(body) == {"vectors", "pagination", "namespace", "usage"}
    assert body["vectors"] == [{"id": "doc1#chunk1"}, {"id": "doc1#chunk2"}]
    token = body["pagination"]["next"]
    status, body = await call(
        http,
        "GET",
        f"{host}/vectors/list",
        params={"namespace": "example-namespace", "prefix": "doc1#", "limit": "2", "paginationToken": token},
    )
    assert body == {
        "vectors": [{"id": "doc1#chunk3"}],
        "namespace": "example-namespace",
        "usage": {"readUnits": 1},
    }
    status, body = await call(
        http,
        "POST",
        f"{host}/vectors/delete",
        json={"ids": ["id-1", "id-2"], "namespace": "example-namespace"},
    )
    assert (status, body) == (200, {})
    status, body = await call(
        http,
        "POST",
        f"{host}/vectors/delete",
        json={"filter": {"genre": {"$eq": "documentary"}}, "namespace": "example-namespace"},
    )
    assert (status, body) == (200, {})
    status, body = await call(
        http, "POST", f"{host}/vectors/delete", json={"deleteAll": True, "namespace": "example-namespace"}
    )
    assert (status, body) == (200, {})
    assert server.ids("docs-example", "example-namespace") == []
    status, body = await call(
        http,
        "POST",
        f"{host}/vectors/delete",
        json={"deleteAll": True, "namespace": "example-namespace"},
        headers=V2504,
    )
    assert (status, body) == (404, {"code": 5, "message": "Namespace not found", "details": []})
