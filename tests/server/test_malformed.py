"""Bad input never crashes the server and never changes data: each malformed request gets the
right 4xx (REST) or status code (gRPC) with a precise message, and the stored state is identical
before and after."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import orjson
import pytest
from yarl import URL

from bulkops.models import Record
from bulkops.protos import vector_service_pb2 as pb
from bulkops.protos.codec import floats_to_bytes
from bulkops.server import LocalServer, ServerConfig, serve_local
from tests.server.conftest import V2504
from tests.server.planes import GrpcPlane, PlaneError

IDS_1001 = [f"id{i}" for i in range(1001)]
BIG_META = {"blob": "x" * 3000}


def _token(doc: dict[str, Any]) -> str:
    return base64.b64encode(orjson.dumps(doc)).decode()


FORGED = _token({"skip_past": 5})  # a well-formed token whose value has the wrong type


def _vectors(n: int, dim: int = 4, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"n{i}", "values": [0.5] * dim, **extra} for i in range(n)]


# (plane, method, path, body (dict/list -> JSON, bytes -> raw), query, headers, status, message fragment)
CASES: list[tuple[str, str, str, Any, Any, dict[str, str] | None, int, str]] = [
    ("data", "POST", "/vectors/upsert", b"{not json", None, None, 400, "Failed to deserialize"),
    ("data", "POST", "/vectors/upsert", [1, 2], None, None, 400, "must be an object"),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": "x"},
        None,
        None,
        400,
        "vectors must be a non-empty array",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": [{"id": "a", "values": ["x", "y", "z", "w"]}]},
        None,
        None,
        400,
        "array of numbers",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": [{"id": "a", "values": [1, 2, 3]}]},
        None,
        None,
        400,
        "Vector dimension 3 does not match the dimension of the index 4",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": [{"id": 5, "values": [1, 2, 3, 4]}]},
        None,
        None,
        400,
        "id must be a string",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": [{"id": "x" * 513, "values": [1, 2, 3, 4]}]},
        None,
        None,
        400,
        "at most 512",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": [{"id": "é", "values": [1, 2, 3, 4]}]},
        None,
        None,
        400,
        "non-ASCII",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": [{"id": "a", "values": [1, 2, 3, 4], "metadata": {"o": {"n": 1}}}]},
        None,
        None,
        400,
        "unsupported value",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": _vectors(1001)},
        None,
        None,
        400,
        "exceeds the maximum of 1000",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": _vectors(999, metadata=BIG_META)},
        None,
        None,
        400,
        "Request size 3MB exceeds the maximum supported size of 2MB",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": [*_vectors(1), {"id": "bad", "values": [1]}]},
        None,
        None,
        400,
        "dimension 1",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": _vectors(1), "namespace": "a/b"},
        None,
        None,
        400,
        "must not contain '/'",
    ),
    (
        "data",
        "POST",
        "/vectors/upsert",
        {"vectors": _vectors(1), "namespace": 7},
        None,
        None,
        400,
        "namespace must be a string",
    ),
    ("data", "GET", "/vectors/fetch", None, [("ids", i) for i in IDS_1001], None, 400, "maximum is 1000"),
    ("data", "GET", "/vectors/fetch", None, {"namespace": "ns"}, None, 400, "ids must be given"),
    (
        "data",
        "GET",
        "/vectors/list",
        None,
        {"namespace": "ns", "limit": "abc"},
        None,
        400,
        "limit must be a positive integer",
    ),
    (
        "data",
        "GET",
        "/vectors/list",
        None,
        {"namespace": "ns", "limit": "0"},
        None,
        400,
        "limit must be a positive integer",
    ),
    (
        "data",
        "GET",
        "/vectors/list",
        None,
        {"namespace": "ns", "paginationToken": "garbage!"},
        None,
        400,
        "paginationToken",
    ),
    ("data", "GET", "/vectors/list", None, {"namespace": "../x"}, None, 400, "must not contain"),
    (
        "data",
        "POST",
        "/vectors/delete",
        {"ids": IDS_1001, "namespace": "ns"},
        None,
        None,
        400,
        "maximum is 1000",
    ),
    (
        "data",
        "POST",
        "/vectors/delete",
        {"ids": "a", "namespace": "ns"},
        None,
        None,
        400,
        "ids must be a non-empty array",
    ),
    (
        "data",
        "POST",
        "/vectors/delete",
        {"ids": ["a"], "deleteAll": True, "namespace": "ns"},
        None,
        None,
        400,
        "Exactly one of",
    ),
    ("data", "POST", "/vectors/delete", {"namespace": "ns"}, None, None, 400, "Exactly one of"),
    (
        "data",
        "POST",
        "/vectors/delete",
        {"filter": {"g": {"$regex": "x"}}, "namespace": "ns"},
        None,
        None,
        400,
        "unknown operator '$regex'",
    ),
    (
        "data",
        "POST",
        "/vectors/delete",
        {"filter": {"$not": {"g": 1}}, "namespace": "ns"},
        None,
        None,
        400,
        "unknown top-level operator",
    ),
    (
        "data",
        "POST",
        "/vectors/delete",
        {"filter": {"n": {"$gt": "5"}}, "namespace": "ns"},
        None,
        None,
        400,
        "needs a number",
    ),
    (
        "data",
        "POST",
        "/vectors/delete",
        {"filter": {}, "namespace": "ns"},
        None,
        None,
        400,
        "non-empty JSON object",
    ),
    (
        "data",
        "POST",
        "/vectors/delete",
        {"deleteAll": "yes", "namespace": "ns"},
        None,
        None,
        400,
        "deleteAll must be true or false",
    ),
    ("data", "POST", "/query", {"topK": 0, "vector": [1, 2, 3, 4]}, None, None, 400, "topK"),
    (
        "data",
        "POST",
        "/query",
        {"topK": 1, "vector": [1, 2]},
        None,
        None,
        400,
        "does not match the dimension",
    ),
    ("data", "POST", "/vectors/update", {"id": "r1", "values": [1]}, None, None, 400, "dimension"),
    ("data", "GET", "/namespaces/%2E%2E", None, None, None, 400, "must not contain"),
    ("data", "GET", "/no/such/path", None, None, None, 404, "Not found"),
    ("data", "DELETE", "/vectors/upsert", None, None, None, 405, "not allowed"),
    ("data", "GET", "/vectors/list", None, None, {"X-Pinecone-Api-Version": "latest"}, 400, "YYYY-MM"),
    ("control", "GET", "/indexes/nope", None, None, None, 404, "Index nope not found."),
    ("control", "POST", "/indexes/nope/backups", {}, None, None, 404, "Index nope not found."),
    ("control", "GET", "/backups/nope", None, None, None, 404, "Backup nope not found."),
    ("control", "POST", "/indexes", b"{", None, None, 422, "Failed to deserialize"),
    (
        "control",
        "POST",
        "/indexes",
        {"name": "x", "spec": {"serverless": {"cloud": "aws", "region": "us-east-1"}}},
        None,
        None,
        422,
        "missing field `dimension`",
    ),
    (
        "control",
        "POST",
        "/indexes",
        {"name": "Bad_Name", "dimension": 4, "spec": {"serverless": {"cloud": "aws", "region": "r"}}},
        None,
        None,
        400,
        "Invalid index name",
    ),
    (
        "control",
        "POST",
        "/indexes",
        {
            "name": "idx",
            "dimension": 4,
            "metric": "cosine",
            "spec": {"serverless": {"cloud": "aws", "region": "r"}},
        },
        None,
        None,
        409,
        "Resource already exists.",
    ),
    (
        "control",
        "POST",
        "/indexes",
        {"name": "y", "dimension": 0, "spec": {"serverless": {"cloud": "aws", "region": "r"}}},
        None,
        None,
        400,
        "dimension must be",
    ),
    (
        "control",
        "PATCH",
        "/indexes/idx",
        {"deletion_protection": "maybe"},
        None,
        None,
        400,
        "deletion_protection",
    ),
    ("control", "PATCH", "/indexes/idx", {"tags": {"bad key!": "v"}}, None, None, 400, "Invalid tag key"),
    ("control", "GET", "/backups", None, {"limit": "101"}, None, 400, "from 1 to 100"),
    # Issue 12: a token that decodes but holds the wrong type was a 500 on the namespaces list.
    *(
        (plane, method, path, body, query, None, 400, "paginationToken")
        for plane, method, path, body, query in (
            ("data", "GET", "/namespaces", None, {"paginationToken": FORGED}),
            ("data", "GET", "/namespaces", None, {"paginationToken": "garbage!"}),
            ("data", "GET", "/vectors/list", None, {"namespace": "ns", "paginationToken": FORGED}),
            (
                "data",
                "POST",
                "/vectors/fetch_by_metadata",
                {"namespace": "ns", "filter": {"g": "a"}, "paginationToken": FORGED},
                None,
            ),
            ("data", "GET", "/bulk/imports", None, {"paginationToken": _token({"skip_past": "x"})}),
            ("data", "GET", "/bulk/imports", None, {"paginationToken": _token({"skip_past": True})}),
            ("control", "GET", "/backups", None, {"paginationToken": FORGED}),
            ("control", "GET", "/backups", None, {"paginationToken": _token({"offset": -1})}),
            ("control", "GET", "/backups", None, {"paginationToken": "%%%"}),
        )
    ),
]


async def _seeded_index(server: LocalServer) -> str:
    """Index ``idx`` (dimension 4) with records r0..r4 in namespace ``ns``; returns its host."""
    host = await server.create_index_direct("idx", 4)
    await server.seed(
        "idx",
        "ns",
        [Record(f"r{i}", (1.0, 0.0, 0.0, float(i)), metadata={"g": "a", "n": i}) for i in range(5)],
    )
    return host


def _state(server: LocalServer) -> tuple[Any, ...]:
    names = sorted(server.indexes)
    meta = [
        (n, server.indexes[n].context.meta.deletion_protection, dict(server.indexes[n].context.meta.tags))
        for n in names
    ]
    records = [
        (r.id, tuple(r.values), r.metadata) for r in server.get_records("idx", "ns", server.ids("idx", "ns"))
    ]
    return (meta, records, sorted(server.catalog.backups))


@pytest.mark.parametrize(
    ("plane", "method", "path", "body", "query", "headers", "status", "fragment"),
    CASES,
    ids=[f"{c[1]} {c[2]} {c[6]} {c[7][:30]}" for c in CASES],
)
async def test_malformed_request_gets_4xx_and_changes_nothing(
    server: LocalServer,
    http: aiohttp.ClientSession,
    plane: str,
    method: str,
    path: str,
    body: Any,
    query: Any,
    headers: dict[str, str] | None,
    status: int,
    fragment: str,
) -> None:
    host = await _seeded_index(server)
    before = _state(server)
    base = host if plane == "data" else server.url
    kwargs: dict[str, Any] = {"params": query, "headers": headers or V2504}
    if isinstance(body, bytes):
        kwargs["data"] = body
        kwargs["headers"] = {**kwargs["headers"], "Content-Type": "application/json"}
    elif body is not None:
        kwargs["json"] = body
    async with http.request(method, URL(base + path, encoded=True), **kwargs) as response:
        got = await response.json(content_type=None)
        assert response.status == status, got
    if plane == "data":
        assert set(got) == {"code", "message", "details"}
        message = got["message"]
    else:
        assert got["status"] == status
        message = got["error"]["message"]
    assert fragment in message
    assert _state(server) == before
    async with http.get(f"{host}/vectors/list", params={"namespace": "ns"}, headers=V2504) as response:
        assert response.status == 200  # still serving


def _upsert(*vectors: pb.Vector, namespace: str = "ns") -> pb.UpsertRequest:
    return pb.UpsertRequest(vectors=list(vectors), namespace=namespace)


def _vector(record_id: str = "new", values: bytes = floats_to_bytes([0.5] * 4), **meta: Any) -> pb.Vector:
    vector = pb.Vector(id=record_id, values=values)
    if meta:
        vector.metadata.update(meta)
    return vector


def _filtered(message: Any, doc: dict[str, Any]) -> Any:
    message.filter.update(doc)
    return message


KEY = "grpc-test-key"
# (method, request message or raw bytes, api key sent, gRPC status code, message fragment)
GRPC_CASES: list[tuple[str, Any, str | None, int, str]] = [
    ("Upsert", b"\xff\xff\xff\xff", KEY, 3, "not a valid UpsertRequest"),
    ("Fetch", b"\x0a\x02\xff\xfe", KEY, 3, "not a valid FetchRequest"),  # an ID that is not UTF-8
    ("Upsert", _upsert(*(_vector(f"n{i}") for i in range(1001))), KEY, 3, "exceeds the maximum of 1000"),
    (
        "Upsert",
        _upsert(*(_vector(f"n{i}", blob="x" * 3000) for i in range(999))),
        KEY,
        3,
        "Request size 3MB exceeds the maximum supported size of 2MB",
    ),
    ("Upsert", b"\0" * (65 * 1024 * 1024), KEY, 8, "larger than max"),  # over the 64 MB message cap
    ("Upsert", _upsert(_vector(values=floats_to_bytes([1, 2, 3]))), KEY, 3, "does not match the dimension"),
    ("Upsert", _upsert(_vector(values=b"\0" * 7)), KEY, 3, "divisible by 4"),
    ("Upsert", _upsert(_vector(values=floats_to_bytes([1, float("nan"), 0, 0]))), KEY, 3, "NaN"),
    ("Upsert", _upsert(_vector(values=b"")), KEY, 3, "has no values"),
    ("Upsert", _upsert(_vector("x" * 513)), KEY, 3, "at most 512"),
    ("Upsert", _upsert(_vector(o={"n": 1})), KEY, 3, "unsupported value"),
    ("Upsert", _upsert(_vector(x=float("inf"))), KEY, 3, "numbers must be finite"),  # no JSON for inf
    ("Upsert", _upsert(_vector(), namespace="a/b"), KEY, 3, "must not contain '/'"),
    ("Fetch", pb.FetchRequest(ids=IDS_1001, namespace="ns"), KEY, 3, "maximum is 1000"),
    ("Fetch", pb.FetchRequest(namespace="ns"), KEY, 3, "ids must be given"),
    ("Delete", pb.DeleteRequest(ids=IDS_1001, namespace="ns"), KEY, 3, "maximum is 1000"),
    ("Delete", pb.DeleteRequest(ids=["r1"], namespace="nowhere"), KEY, 5, "Namespace not found"),
    ("Delete", pb.DeleteRequest(ids=["r1"], delete_all=True, namespace="ns"), KEY, 3, "Exactly one of"),
    ("Delete", _filtered(pb.DeleteRequest(namespace="ns"), {"g": {"$regex": "x"}}), KEY, 3, "'$regex'"),
    ("List", pb.ListRequest(namespace="ns", pagination_token="garbage!"), KEY, 3, "paginationToken"),
    (
        "List",
        pb.ListRequest(namespace="ns", pagination_token="eyJza2lwX3Bhc3QiOjV9"),
        KEY,
        3,
        "paginationToken",
    ),
    ("List", pb.ListRequest(namespace="ns", limit=0), KEY, 3, "limit must be a positive integer"),
    ("ListNamespaces", pb.ListNamespacesRequest(pagination_token=FORGED), KEY, 3, "paginationToken"),
    ("ListNamespaces", pb.ListNamespacesRequest(pagination_token="garbage!"), KEY, 3, "paginationToken"),
    (
        "FetchByMetadata",
        _filtered(pb.FetchByMetadataRequest(namespace="ns", pagination_token=FORGED), {"g": "a"}),
        KEY,
        3,
        "paginationToken",
    ),
    ("List", pb.ListRequest(namespace="ns"), "wrong", 16, "Invalid API key."),
    ("List", pb.ListRequest(namespace="ns"), None, 16, "Invalid API key."),
    ("Query", pb.QueryRequest(namespace="ns", top_k=0, vector=floats_to_bytes([1, 0, 0, 0])), KEY, 3, "topK"),
    (
        "Query",
        pb.QueryRequest(namespace="ns", top_k=1, vector=floats_to_bytes([1])),
        KEY,
        3,
        "does not match",
    ),
    ("Query", pb.QueryRequest(namespace="ns", top_k=1, queries=[pb.QueryVector()]), KEY, 3, "deprecated"),
    (
        "Update",
        _filtered(pb.UpdateRequest(id="r1", namespace="ns"), {"g": "a"}),
        KEY,
        3,
        "Exactly one of id or filter",
    ),
    ("Update", pb.UpdateRequest(id="r1", namespace="ns", values=floats_to_bytes([1])), KEY, 3, "dimension"),
    ("DescribeIndexStats", _filtered(pb.DescribeIndexStatsRequest(), {"g": "a"}), KEY, 3, "Serverless"),
    (
        "FetchByMetadata",
        _filtered(pb.FetchByMetadataRequest(namespace="ns", limit=10_001), {"g": "a"}),
        KEY,
        3,
        "at most 10000",
    ),
    ("FetchByMetadata", pb.FetchByMetadataRequest(namespace="ns"), KEY, 3, "non-empty JSON object"),
    ("DescribeNamespace", pb.DescribeNamespaceRequest(namespace="../x"), KEY, 3, "must not contain"),
    ("DeleteNamespace", pb.DeleteNamespaceRequest(namespace="nowhere"), KEY, 5, "Namespace not found"),
    ("CreateNamespace", pb.CreateNamespaceRequest(name="ns"), KEY, 6, "already exists"),
    ("NoSuchMethod", b"", KEY, 12, ""),
]


@pytest.mark.parametrize(
    ("method", "request_", "api_key", "code", "fragment"),
    GRPC_CASES,
    ids=[f"{c[0]} {c[3]} {c[4][:30]}" for c in GRPC_CASES],
)
async def test_malformed_grpc_call_gets_its_status_code_and_changes_nothing(
    method: str, request_: Any, api_key: str | None, code: int, fragment: str
) -> None:
    async with serve_local(ServerConfig(api_key=KEY)) as server:
        host = await _seeded_index(server)
        before = _state(server)
        plane = GrpcPlane(host, api_key=api_key)
        good = GrpcPlane(host, api_key=KEY)
        try:
            payload = request_ if isinstance(request_, bytes) else request_.SerializeToString()
            with pytest.raises(PlaneError) as refused:
                await plane.raw(method, payload)
            assert refused.value.code == code, refused.value
            assert fragment in refused.value.message
            assert _state(server) == before
            listed = await good.list("ns")  # still serving, on a new call
            assert [v["id"] for v in listed["vectors"]] == [f"r{i}" for i in range(5)]
        finally:
            await plane.close()
            await good.close()
