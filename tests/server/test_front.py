"""Each index port answers REST and gRPC: the front sniffs the first bytes, hands HTTP/1.1 to aiohttp
and pipes HTTP/2 to the gRPC server. One storage behind both transports, bit for bit."""

from __future__ import annotations

import asyncio

import aiohttp
import grpc
import numpy as np
import pytest

from bulkops.models import Record
from bulkops.protos import vector_service_pb2 as pb
from bulkops.server import LocalServer
from tests.server.planes import GrpcPlane, PlaneError, RestPlane


@pytest.mark.parametrize("writer", ["rest", "grpc"])
async def test_one_storage_two_transports_bit_identical(
    server: LocalServer, http: aiohttp.ClientSession, writer: str
) -> None:
    host = await server.create_index_direct("idx", 1536)
    values = np.random.default_rng(7).standard_normal((40, 1536)).astype("<f4")
    metadata = [{"i": i, "x": 0.1 * i, "s": "ünï €", "tags": ["a", "b"], "ok": i % 2 == 0} for i in range(40)]
    vectors = [{"id": f"v{i}", "values": values[i].tolist(), "metadata": metadata[i]} for i in range(40)]
    rest, grpc_plane = RestPlane(http, host), GrpcPlane(host)
    try:
        write, read = (rest, grpc_plane) if writer == "rest" else (grpc_plane, rest)
        await write.upsert(vectors, "ns")
        body = await read.fetch([f"v{i}" for i in range(40)], "ns")
    finally:
        await grpc_plane.close()
    for i in range(40):
        got = body["vectors"][f"v{i}"]
        assert np.asarray(got["values"], dtype="<f4").tobytes() == values[i].tobytes()
        assert got["metadata"] == metadata[i]
        stored = server.get_records("idx", "ns", [f"v{i}"])[0]
        assert np.asarray(stored.values, dtype="<f4").tobytes() == values[i].tobytes()


async def test_a_13_mb_fetch_answer_goes_through_the_pipe(server: LocalServer) -> None:
    await server.create_index_direct("wide", 3072)
    rows = np.random.default_rng(3).standard_normal((1000, 3072)).astype("<f4")
    await server.seed("wide", "", [Record(f"r{i:04d}", tuple(rows[i].tolist())) for i in range(1000)])
    plane = GrpcPlane(server.index_host("wide"))
    try:
        answer = await plane.rpc("Fetch", pb.FetchRequest(ids=[f"r{i:04d}" for i in range(1000)]))
    finally:
        await plane.close()
    assert answer.ByteSize() > 12_000_000
    assert len(answer.vectors) == 1000
    assert all(answer.vectors[f"r{i:04d}"].values == rows[i].tobytes() for i in range(1000))


async def test_http1_requests_starting_like_the_http2_preface_go_to_rest(server: LocalServer) -> None:
    host = await server.create_index_direct("idx", 2)
    port = int(host.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b'{"vectors":[{"id":"a","values":[1,2]}]}'
    request = (
        b"POST /vectors/upsert HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    for i in range(len(request)):  # "P" is also the preface's first byte: the front must wait and see
        writer.write(request[i : i + 1])
        await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    writer.close()
    assert head.startswith(b"HTTP/1.1 200")
    assert server.ids("idx") == ["a"]


async def test_rest_and_grpc_share_one_port_and_keep_serving_side_by_side(
    server: LocalServer, http: aiohttp.ClientSession
) -> None:
    host = await server.create_index_direct("idx", 2)
    await server.seed("idx", "ns", [Record(f"r{i:03d}", (1.0, float(i))) for i in range(300)])
    rest, grpc_plane = RestPlane(http, host), GrpcPlane(host)
    try:
        answers = await asyncio.gather(
            *(rest.fetch([f"r{i:03d}"], "ns") for i in range(0, 300, 3)),
            *(grpc_plane.fetch([f"r{i:03d}"], "ns") for i in range(1, 300, 3)),
            *(grpc_plane.list("ns", prefix=f"r{i:02d}") for i in range(30)),
        )
    finally:
        await grpc_plane.close()
    assert [list(a["vectors"]) for a in answers[:200]] == [
        [f"r{i:03d}"] for i in (*range(0, 300, 3), *range(1, 300, 3))
    ]
    assert sum(len(a["vectors"]) for a in answers[200:]) == 300


async def test_the_internal_grpc_port_refuses_direct_calls(server: LocalServer) -> None:
    plane = GrpcPlane(f"http://127.0.0.1:{server.grpc.port}")
    try:
        with pytest.raises(PlaneError) as refused:
            await plane.list()
    finally:
        await plane.close()
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert "describe_index" in refused.value.message


async def test_a_deleted_index_drops_its_grpc_connections(server: LocalServer) -> None:
    host = await server.create_index_direct("gone", 2)
    plane = GrpcPlane(host)
    try:
        await plane.list()
        await server.drop_index("gone")
        with pytest.raises(PlaneError) as refused:
            await plane.list()
    finally:
        await plane.close()
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE.value[0]
