"""Records whose values are float32 arrays: what the gRPC fetch returns, what both upserts encode from
(one copy per vector over gRPC, shortest-form floats over REST), bit for bit, and how Records compare."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bulkops.api import (
    Client,
    GrpcReply,
    HttpResponse,
    MockGrpcTransport,
    MockTransport,
    SentRequest,
    SentRpc,
)
from bulkops.api.grpc.messages import record_from_vector, upsert_request
from bulkops.api.rest.wire import upsert_body
from bulkops.models import Record, SparseValues, float32_values, same_values, shortest_floats
from bulkops.protos import vector_service_pb2 as pb
from bulkops.server import ServerConfig, serve_local

from .conftest import API_KEY

FLOAT32S = arrays(
    np.float32, st.integers(1, 24), elements=st.floats(width=32, allow_nan=False, allow_infinity=False)
)


@pytest.fixture
async def server() -> AsyncIterator[Any]:
    async with serve_local(ServerConfig(api_key=API_KEY)) as running:
        await running.create_index_direct("vecs", dimension=6)
        yield running


TRICKY = np.array([0.1, -0.0, 1e-45, 3.4028235e38, -1.1754944e-38, 1 / 3], dtype=np.float32)


@pytest.mark.parametrize("upsert_over", ["rest", "grpc"])
async def test_values_survive_upsert_and_fetch_bit_for_bit_over_both_transports(
    server: Any, upsert_over: str
) -> None:
    metadata = {"year": 2019, "score": 0.5, "tags": ["a", "b"], "ok": True}
    async with Client(API_KEY, server.url, transport=upsert_over) as writer:
        await (await writer.index("vecs")).upsert([Record("a", TRICKY, metadata=metadata)], namespace="ns")
    async with Client(API_KEY, server.url, transport="grpc") as grpc_client:
        over_grpc = (await (await grpc_client.index("vecs")).fetch(["a"], namespace="ns"))["a"]
    async with Client(API_KEY, server.url, transport="rest") as rest_client:
        over_rest = (await (await rest_client.index("vecs")).fetch(["a"], namespace="ns"))["a"]
    assert isinstance(over_grpc.values, np.ndarray)
    assert over_grpc.values.dtype == np.float32
    assert not over_grpc.values.flags.writeable  # a view of the answer's bytes, not a copy
    assert over_grpc.values.tobytes() == TRICKY.tobytes()
    assert np.asarray(over_rest.values, dtype=np.float32).tobytes() == TRICKY.tobytes()
    assert over_grpc.metadata == over_rest.metadata == metadata
    assert isinstance(over_grpc.metadata["year"], int)  # integral numbers stay integers, as over REST
    assert over_grpc == over_rest  # array against list: compared as the float32 vectors stored
    assert over_grpc.to_wire() == over_rest.to_wire()  # the same export line whichever transport fetched


async def test_the_grpc_upsert_carries_each_array_as_its_own_bytes() -> None:
    sent: list[pb.UpsertRequest] = []

    def answer(rpc: SentRpc) -> GrpcReply:
        sent.append(pb.UpsertRequest.FromString(rpc.request))
        return GrpcReply("OK", pb.UpsertResponse(upserted_count=2).SerializeToString())

    values = np.arange(8, dtype=np.float32) / 7
    records = [
        Record("a", values, metadata={"n": 1}),
        Record("b", [0.25, 0.5], SparseValues([3, 9], [0.5, 0.125])),  # a plain list still works
    ]
    async with Client("k", "http://ctl.test", transport=MockGrpcTransport(answer)) as client:
        assert await client.index_at("http://idx.test").upsert(records, namespace="ns") == 2
    (request,) = sent
    assert request.namespace == "ns"
    assert request.vectors[0].values == values.tobytes()
    assert request.vectors[1].values == np.array([0.25, 0.5], dtype=np.float32).tobytes()
    assert list(request.vectors[1].sparse_values.indices) == [3, 9]
    assert dict(request.vectors[0].metadata) == {"n": 1.0}


async def test_the_rest_upsert_writes_arrays_in_shortest_form() -> None:
    bodies: list[bytes] = []

    def answer(request: SentRequest) -> HttpResponse:
        bodies.append(request.body or b"")
        return HttpResponse(200, {}, b'{"upsertedCount": 2}')

    records = [Record("a", np.array([0.1, 0.2, 1 / 3], dtype=np.float32)), Record("b", [0.1, 0.2])]
    async with Client("k", "http://ctl.test", transport=MockTransport(answer)) as client:
        await client.index_at("http://idx.test").upsert(records, namespace="")
    assert bodies == [b'{"vectors":[{"id":"a","values":[0.1,0.2,0.33333334]},{"id":"b","values":[0.1,0.2]}]}']


@settings(max_examples=200, deadline=None)
@given(FLOAT32S)
def test_every_float32_round_trips_through_both_encodings(values: np.ndarray) -> None:
    record = Record("r", values)
    rest = orjson.loads(upsert_body([record], "ns"))["vectors"][0]["values"]
    assert np.array_equal(np.asarray(rest, dtype=np.float32).view(np.uint32), values.view(np.uint32))
    assert np.asarray(record.to_wire()["values"], dtype=np.float32).tobytes() == values.tobytes()
    message = upsert_request([record], "ns").vectors[0]
    back = record_from_vector("r", pb.Vector.FromString(message.SerializeToString()))
    assert isinstance(back.values, np.ndarray)
    assert back.values.tobytes() == values.tobytes()


def test_record_equality_with_arrays() -> None:
    values = np.array([1.0, 2.5], dtype=np.float32)
    assert Record("a", values) == Record("a", values.copy())
    assert Record("a", values) == Record("a", [1.0, 2.5])
    assert Record("a", values) != Record("a", [1.0, 2.0])
    assert Record("a", values) != Record("a", [1.0, 2.5, 0.0])
    assert Record("a", values) != Record("b", values)
    assert Record("a", values, metadata={"x": 1}) != Record("a", values)
    assert Record("a", [0.1]) == Record("a", [0.1])  # plain sequences compare as before
    assert Record("a", [1.0]) != Record("a", (1.0,))
    assert hash(Record("a", values)) == hash(Record("a", [1.0, 2.5]))
    assert same_values(np.array([0.1], dtype=np.float32), [0.1])  # the float32 of 0.1 is stored
    assert not same_values(np.array([0.1], dtype=np.float64), [0.2])


def test_to_wire_gives_lists_unless_asked_to_keep_arrays() -> None:
    values = np.array([0.1, 0.5], dtype=np.float32)
    assert Record("a", values).to_wire() == {"id": "a", "values": [0.1, 0.5]}
    kept = Record("a", values).to_wire(keep_arrays=True)["values"]
    assert isinstance(kept, np.ndarray)
    assert kept is values  # already float32 and contiguous: no copy
    assert Record("a", np.empty(0, dtype=np.float32)).to_wire() == {"id": "a"}
    assert shortest_floats(values) == [0.1, 0.5]
    strided = np.arange(6, dtype=np.float64)[::2]
    assert float32_values(strided).tobytes() == np.array([0, 2, 4], dtype=np.float32).tobytes()
