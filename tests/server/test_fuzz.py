"""Random JSON at every endpoint: the answer is never a 5xx, always JSON, and data never changes."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkops.models import Record
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
