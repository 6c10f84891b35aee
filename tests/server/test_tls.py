"""With --tls-cert/--tls-key every port speaks TLS: REST over https and gRPC over TLS on each index's
one port, and describe_index hands out https hosts. Certificates are made here with openssl."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import aiohttp
import pytest

from bulkops.server import ServerConfig, serve_local
from tests.server.certificates import HAVE_OPENSSL, ServerCertificates, make_certificates
from tests.server.planes import GrpcPlane, RestPlane

pytestmark = pytest.mark.skipif(not HAVE_OPENSSL, reason="needs the openssl binary")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> ServerCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


async def test_rest_and_grpc_over_tls_on_one_port(certificates: ServerCertificates) -> None:
    ca, cert, key = certificates
    trust = ssl.create_default_context(cafile=str(ca))
    async with (
        serve_local(ServerConfig(tls_cert=cert, tls_key=key, api_key="k")) as server,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as http,
    ):
        assert server.url.startswith("https://127.0.0.1:")
        async with http.post(
            f"{server.url}/indexes",
            headers={"Api-Key": "k", "X-Pinecone-Api-Version": "2025-10"},
            json={"name": "secure", "dimension": 2, "spec": {"serverless": {"cloud": "aws", "region": "r"}}},
        ) as created:
            assert created.status == 201
            host = (await created.json())["host"]
        assert host == server.index_host("secure")
        assert host.startswith("https://127.0.0.1:")
        grpc_plane = GrpcPlane(host, api_key="k", root_certificates=ca.read_bytes())
        try:
            assert await grpc_plane.upsert([{"id": "a", "values": [1.0, 2.0]}], "ns") == {"upsertedCount": 1}
            fetched = await RestPlane(http, host, api_key="k").fetch(["a"], "ns")
            assert fetched["vectors"]["a"]["values"] == [1.0, 2.0]
            assert (await grpc_plane.list("ns"))["vectors"] == [{"id": "a"}]
        finally:
            await grpc_plane.close()
        # Plain HTTP on a TLS port gets no answer (the handshake fails), and the port keeps serving.
        reader, writer = await asyncio.open_connection("127.0.0.1", int(host.rsplit(":", 1)[1]))
        writer.write(b"GET /vectors/list HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        assert not (await asyncio.wait_for(reader.read(100), 10)).startswith(b"HTTP/1.1 200")
        writer.close()
        assert (await RestPlane(http, host, api_key="k").list("ns"))["vectors"] == [{"id": "a"}]


async def test_a_client_offering_both_protocols_gets_http1(certificates: ServerCertificates) -> None:
    """curl and browsers offer h2 and http/1.1: the server picks http/1.1, which serves REST here."""
    ca, cert, key = certificates
    trust = ssl.create_default_context(cafile=str(ca))
    trust.set_alpn_protocols(["h2", "http/1.1"])
    async with serve_local(ServerConfig(tls_cert=cert, tls_key=key)) as server:
        host = await server.create_index_direct("alpn", 2)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", int(host.rsplit(":", 1)[1]), ssl=trust, server_hostname="localhost"
        )
        assert writer.get_extra_info("ssl_object").selected_alpn_protocol() == "http/1.1"
        writer.write(b"GET /vectors/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await writer.drain()
        assert (await reader.read()).startswith(b"HTTP/1.1 200")
        writer.close()


def test_tls_files_that_are_not_a_key_pair_are_refused_before_anything_starts(
    certificates: ServerCertificates, tmp_path: Path
) -> None:
    cert = certificates.cert
    from bulkops.errors import UsageError
    from bulkops.server import LocalServer

    with pytest.raises(UsageError, match="both must be PEM files of one key pair"):
        LocalServer(ServerConfig(tls_cert=cert, tls_key=cert, data_dir=tmp_path / "data"))
    assert not (tmp_path / "data").exists()
