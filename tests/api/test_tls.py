"""TLS to an https index host over both transports: a CA file the caller gives is trusted by REST and
gRPC alike; without it, a self-signed server is refused (never silently trusted)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bulkops.api import Client
from bulkops.errors import RetryExhaustedError, TransportError
from bulkops.models import Record
from bulkops.server import ServerConfig, serve_local

from .conftest import API_KEY


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def tls_server(certificate: tuple[Path, Path]) -> AsyncIterator[Any]:
    cert, key = certificate
    async with serve_local(ServerConfig(api_key=API_KEY, tls_cert=cert, tls_key=key)) as running:
        await running.create_index_direct("secure", dimension=3)
        yield running


@pytest.mark.parametrize("transport", ["grpc", "rest", "auto"])
async def test_a_given_ca_file_is_trusted_by_both_transports(
    tls_server: Any, certificate: tuple[Path, Path], transport: str
) -> None:
    assert tls_server.url.startswith("https://")
    async with Client(API_KEY, tls_server.url, transport=transport, ssl_ca_certs=certificate[0]) as client:
        index = await client.index("secure")
        assert index.host.startswith("https://")
        assert index.transport == ("grpc" if transport == "auto" else transport)
        assert await index.upsert([Record("a", [1.0, 2.0, 3.0])], namespace="ns") == 1
        found = await index.fetch(["a"], namespace="ns")
    assert [float(v) for v in found["a"].values] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("transport", ["grpc", "rest"])
async def test_an_untrusted_certificate_is_refused(tls_server: Any, transport: str) -> None:
    host = tls_server.index_host("secure")
    async with Client(API_KEY, "http://ctl.test", transport=transport, max_attempts=2) as client:
        with pytest.raises(RetryExhaustedError) as caught:
            await client.index_at(host).fetch(["a"], namespace="ns")
    assert isinstance(caught.value.last_error, TransportError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value).upper()
