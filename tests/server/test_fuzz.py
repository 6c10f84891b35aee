"""Random JSON at every endpoint (and random messages at every gRPC method): the answer is never a
5xx / INTERNAL, always Pinecone-shaped, and a refused request never changes data."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import grpc
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkops.models import Record
from bulkops.protos.methods import METHODS
from bulkops.server import ServerConfig, ServerThread

pytestmark = pytest.mark.timeout(120)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2000), st.floats(allow_nan=False), st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "vectors",
        "ids",
        "namespace",
        "filter",
        "deleteAll",
        "id",
        "values",
        "setMetadata",
        "topK",
        "vector",
        "limit",
        "paginationToken",
        "name",
        "dimension",
        "metric",
        "spec",
        "tags",
        "deletion_protection",
        "sparseValues",
        "$eq",
    ]
)
bodies = st.one_of(json_values, st.dictionaries(keys, json_values, max_size=5))
DATA_POSTS = [
    "/vectors/upsert",
    "/vectors/delete",
    "/vectors/update",
    "/vectors/fetch_by_metadata",
    "/query",
    "/describe_index_stats",
    "/namespaces",
]
CONTROL = [
    ("POST", "/indexes"),
    ("PATCH", "/indexes/idx"),
    ("POST", "/indexes/idx/backups"),
    ("POST", "/backups/x/create-index"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig()) as srv:
        srv.create_index_direct("idx", 2)
        srv.seed(
            "idx", "ns", [Record(f"r{i}", (1.0, float(i)), metadata={"g": "a", "n": i}) for i in range(20)]
        )
        yield srv


def _request(base: str, method: str, path: str, body: bytes) -> tuple[int, Any]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(
            method,
            path,
            body=body,
            headers={"Content-Type": "application/json", "X-Pinecone-Api-Version": "2025-10"},
        )
        response = conn.getresponse()
        return response.status, orjson.loads(response.read() or b"null")
    finally:
        conn.close()


def _state(server: ServerThread) -> Any:
    return [
        (r.id, tuple(r.values), r.metadata) for r in server.get_records("idx", "ns", server.ids("idx", "ns"))
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(DATA_POSTS), body=bodies)
def test_random_data_plane_bodies_never_5xx(server: ServerThread, path: str, body: Any) -> None:
    before = _state(server)
    status, answer = _request(server.index_host("idx"), "POST", path, orjson.dumps(body))
    assert status < 500, answer
    if status >= 400:
        assert set(answer) == {"code", "message", "details"}
        assert _state(server) == before
    else:  # a random body that happens to be a valid write: put the fixture back for the next example
        server.run(_reset(server))


async def _reset(server: ServerThread) -> None:
    store = server.server.indexes["idx"].context.store
    for ns in list(store.namespace_counts()):
        store.delete_namespace(ns)
    await server.server.seed(
        "idx", "ns", [Record(f"r{i}", (1.0, float(i)), metadata={"g": "a", "n": i}) for i in range(20)]
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(CONTROL), body=bodies)
def test_random_control_plane_bodies_never_5xx(
    server: ServerThread, route: tuple[str, str], body: Any
) -> None:
    method, path = route
    status, answer = _request(server.url, method, path, orjson.dumps(body))
    assert status < 500, answer
    if status >= 400:
        assert answer["status"] == status
        assert set(answer["error"]) >= {"code", "message"}


texts = st.text(max_size=8)
filters = st.dictionaries(st.text(max_size=6), json_values, max_size=4)
floats_bytes = st.binary(max_size=24)  # packed float32 values of any length, NaN and inf included


def _struct_into(target: Any, doc: dict[str, Any] | None) -> None:
    if doc is not None:
        target.update(doc)


@st.composite
def grpc_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    """(method, request bytes): a random message of that method, or random bytes."""
    method = draw(st.sampled_from(sorted(METHODS)))
    if draw(st.integers(0, 4)) == 0:
        return method, draw(st.binary(max_size=64))
    message = METHODS[method].request()
    if method == "Upsert":
        for _ in range(draw(st.integers(0, 3))):
            vector = message.vectors.add(id=draw(texts), values=draw(floats_bytes))
            _struct_into(vector.metadata, draw(st.none() | filters))
    elif method in ("Fetch", "Delete"):
        message.ids.extend(draw(st.lists(texts, max_size=3)))
    if method == "Delete":
        message.delete_all = draw(st.booleans())
    if method in ("Delete", "FetchByMetadata", "Query", "Update", "DescribeIndexStats"):
        _struct_into(message.filter, draw(st.none() | filters))
    if method in ("List", "FetchByMetadata", "ListNamespaces") and draw(st.booleans()):
        message.limit = draw(st.integers(0, 20_000))
    if method in ("List", "FetchByMetadata", "ListNamespaces") and draw(st.booleans()):
        message.pagination_token = draw(texts)
    if method == "Query":
        message.top_k = draw(st.integers(0, 20))
        message.vector = draw(floats_bytes)
        message.id = draw(texts)
    if method == "Update":
        message.id = draw(texts)
        message.values = draw(floats_bytes)
        _struct_into(message.set_metadata, draw(st.none() | filters))
    if method in ("Upsert", "Fetch", "Delete", "List", "Query", "Update", "FetchByMetadata"):
        message.namespace = draw(st.sampled_from(["", "ns", "__default__"]) | texts)
    if method in ("DescribeNamespace", "DeleteNamespace"):
        message.namespace = draw(texts)
    if method == "CreateNamespace":
        message.name = draw(texts)
    return method, message.SerializeToString()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=grpc_requests())
def test_random_grpc_messages_never_fail_as_internal(
    server: ServerThread, request: tuple[str, bytes]
) -> None:
    method, payload = request
    before = _state(server)
    target = server.index_host("idx").removeprefix("http://")
    code, details = grpc.StatusCode.OK, ""
    with grpc.insecure_channel(target) as channel:
        try:
            channel.unary_unary(f"/VectorService/{method}")(payload, timeout=10)
        except grpc.RpcError as refused:
            code, details = refused.code(), refused.details()  # type: ignore[attr-defined]
    assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), details
    if code == grpc.StatusCode.OK:
        server.run(_reset(server))  # a random message that happened to be a valid write
    else:
        assert _state(server) == before
