"""Which transport an index host gets: ``auto`` probes once per host (gRPC where the host speaks it, REST
elsewhere), ``grpc`` on a host without gRPC is a clear error, ``rest`` never probes; the probe's reading
of grpc's answers; settings checked before anything is sent."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from aiohttp import web

import bulkops.api.client as client_module
import bulkops.api.grpc.data_plane as grpc_data_plane
from bulkops.api import Client, DataPlaneClient, GrpcDataPlane, GrpcReply, MockGrpcTransport
from bulkops.api.selection import ProbeResult, probe_grpc
from bulkops.errors import UsageError
from bulkops.models import Record
from bulkops.server import ServerConfig, serve_local

from .conftest import API_KEY
from .doubles import http1_host


@pytest.fixture
async def local() -> AsyncIterator[Any]:
    """The local server: REST and gRPC on each index port."""
    async with serve_local(ServerConfig(api_key=API_KEY)) as running:
        await running.create_index_direct("idx", dimension=2)
        yield running


@pytest.fixture
async def rest_only() -> AsyncIterator[tuple[str, list[str]]]:
    """An HTTP/1.1-only index host (aiohttp), recording the paths it served."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"namespaces": {}, "totalVectorCount": 0, "dimension": 2})

    async with http1_host(handler) as url:
        yield url, seen


async def test_auto_uses_grpc_where_the_host_speaks_it(local: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bulkops.api")
    async with Client(API_KEY, local.url) as client:
        index = await client.index("idx")
        assert isinstance(index, GrpcDataPlane)
        assert index.transport == "grpc"
        assert (await index.describe_index_stats())["dimension"] == 2  # the probe's answer, see below
        assert client.stats.transports == {index.host: "grpc"}
        assert client.stats.requests == {"describe_index": 1}  # the probe is not a request
    picks = [r.getMessage() for r in caplog.records if "using" in r.getMessage()]
    assert picks == [
        f"index host {index.host}: using GRPC (transport=auto; probe: DescribeIndexStats answered over gRPC)"
    ]


async def test_the_probe_answers_the_first_stats_call_only_while_fresh_and_unwritten(
    local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Client(API_KEY, local.url) as client:
        index = await client.index("idx")
        first = await index.describe_index_stats()
        assert client.stats.requests == {"describe_index": 1}
        assert first == await index.describe_index_stats()  # asked again: a request this time
        assert client.stats.requests == {"describe_index": 1, "describe_index_stats": 1}

    async with Client(API_KEY, local.url) as client:  # a write since the probe: asked for real
        index = await client.index("idx")
        await index.upsert([Record("a", [1.0, 2.0])], namespace="ns")
        stats = await index.describe_index_stats()
        assert stats["namespaces"]["ns"]["vectorCount"] == 1
        assert client.stats.requests["describe_index_stats"] == 1

    monkeypatch.setattr(grpc_data_plane, "PROBE_STATS_SECONDS", -1.0)  # the probe's answer already stale
    async with Client(API_KEY, local.url) as client:
        index = await client.index("idx")
        assert (await index.describe_index_stats())["namespaces"]["ns"]["vectorCount"] == 1
        assert client.stats.requests["describe_index_stats"] == 1


async def test_auto_falls_back_to_rest_on_a_host_without_grpc(
    rest_only: tuple[str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bulkops.api")
    url, seen = rest_only
    async with Client(API_KEY, "http://ctl.test", limits="none") as client:
        index = await client.index(host=url)
        assert isinstance(index, DataPlaneClient)
        assert index.transport == "rest"
        stats = await index.describe_index_stats()
    assert stats["dimension"] == 2
    assert seen == ["/describe_index_stats"]  # the probe never reached it as a request: one REST call
    assert client.stats.transports == {url: "rest"}
    assert any("using REST" in r.getMessage() and "http1.x" in r.getMessage() for r in caplog.records)


async def test_explicit_grpc_on_a_host_without_grpc_is_a_clear_error(
    rest_only: tuple[str, list[str]],
) -> None:
    url, seen = rest_only
    async with Client(API_KEY, "http://ctl.test", transport="grpc") as client:
        with pytest.raises(UsageError) as caught:
            await client.index(host=url)
        deferred = client.index_at(url)
        with pytest.raises(UsageError):
            await deferred.delete_ids(["a"], namespace="ns")
    message = str(caught.value)
    assert "does not speak gRPC" in message
    assert "transport='rest'" in message
    assert seen == []  # nothing fell back to REST silently
    assert client.stats.total_requests == 0


async def test_explicit_rest_never_probes(local: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_probe(*_: Any, **__: Any) -> ProbeResult:
        raise AssertionError("transport='rest' must not probe")

    monkeypatch.setattr(client_module, "probe_grpc", no_probe)
    async with Client(API_KEY, local.url, transport="rest") as client:
        index = await client.index("idx")
        assert isinstance(index, DataPlaneClient)
        assert client.index_at(index.host) is index


async def test_index_at_picks_at_the_first_request_and_probes_each_host_once(
    local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    probes: list[str] = []

    async def counting(transport: Any, host: str, *, timeout: float) -> ProbeResult:
        probes.append(host)
        return await probe_grpc(transport, host, timeout=timeout)

    monkeypatch.setattr(client_module, "probe_grpc", counting)
    host = local.index_host("idx")
    async with Client(API_KEY, local.url) as client:
        index = client.index_at(host)
        assert index.transport == "auto"  # not picked yet: nothing was sent
        assert client.index_at(host) is index
        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(lambda i=i: index.fetch([f"id{i}"], namespace="ns"))
        assert index.transport == "grpc"
        assert isinstance(client.index_at(host), GrpcDataPlane)  # from now on the picked client itself
        assert await client.index(host=host) is client.index_at(host)
    assert probes == [host]


async def test_auto_on_an_unreachable_host_uses_rest_and_its_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bulkops.api")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Client(API_KEY, "http://ctl.test", max_attempts=1) as client:
        index = await client.index(host=f"http://127.0.0.1:{port}")
        assert index.transport == "rest"
    assert any("Connection refused" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("reply", "speaks"),
    [
        (GrpcReply("OK"), True),
        (GrpcReply("UNAUTHENTICATED", message="Invalid API key."), True),
        (
            GrpcReply("RESOURCE_EXHAUSTED", message="You've reached the max describe index stats requests"),
            True,
        ),
        (GrpcReply("NOT_FOUND", message="Index idx not found."), True),
        (GrpcReply("UNIMPLEMENTED", message="Method not found!"), False),
        (
            GrpcReply("UNAVAILABLE", message="failed to connect ... (Trying to connect an http1.x server)"),
            False,
        ),
        (GrpcReply("UNIMPLEMENTED", message="Received http2 header with status: 404"), False),
        (GrpcReply("UNAVAILABLE", message="Tls handshake failed: SSL routines:WRONG_VERSION_NUMBER"), False),
        (GrpcReply("UNAVAILABLE", message="failed to connect to all addresses: Connection refused"), None),
        (GrpcReply("UNAVAILABLE", message="upstream connect error"), None),
        (GrpcReply("DEADLINE_EXCEEDED", message="Deadline Exceeded"), None),
    ],
)
async def test_what_the_probe_reads_from_an_answer(reply: GrpcReply, speaks: bool | None) -> None:
    transport = MockGrpcTransport(lambda _: reply)
    result = await probe_grpc(transport, "https://idx.test", timeout=1.0)
    assert result.speaks_grpc is speaks
    assert transport.sent[0].path == "/VectorService/DescribeIndexStats"
    assert transport.sent[0].timeout == 1.0


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"transport": "http2"}, "transport must be auto, grpc or rest"),
        ({"ssl_ca_certs": "/nonexistent/ca.pem"}, "is not a file"),
    ],
)
def test_bad_transport_settings_are_usage_errors(options: dict[str, Any], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        Client(API_KEY, "http://ctl.test", **options)
