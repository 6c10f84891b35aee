"""What reaches the network is what the environment says (proxies, for both transports, by one rule), and
what cannot reach it is refused up front with the fix: a key that cannot travel in a header, an https://
URL (or a bare host) for a server that answers plain HTTP (issue 12)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from bulkops.api import Client, ClientConfig
from bulkops.api.config import check_api_key, proxy_for
from bulkops.errors import UsageError
from bulkops.server import ServerConfig, serve_local

from .conftest import API_KEY

_PROXY_NAMES = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*_PROXY_NAMES, "grpc_proxy", "no_grpc_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("key", "what", "position"),
    [("lökäl-key", "non-ASCII", 2), ("key\nwith-newline", "control character", 4), ("\tkey", "control", 1)],
)
def test_a_key_that_cannot_travel_in_a_header_is_refused_without_being_shown(
    key: str, what: str, position: int
) -> None:
    with pytest.raises(UsageError, match=what) as refused:
        ClientConfig.resolve(key, "http://127.0.0.1:1")
    assert f"position {position} of {len(key)}" in str(refused.value)
    assert key not in str(refused.value)
    assert refused.value.param == "api_key"
    check_api_key("pcsk_abc-DEF_123 with a space")  # printable ASCII passes


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("https://a.example", {"HTTPS_PROXY": "http://p:1"}, "http://p:1"),
        ("https://a.example", {"HTTPS_PROXY": "http://p:1", "https_proxy": "http://q:2"}, "http://q:2"),
        ("http://a.example", {"HTTPS_PROXY": "http://p:1"}, None),  # by the URL's scheme
        ("http://a.example", {"HTTP_PROXY": "http://p:1"}, "http://p:1"),
        ("https://x.svc.pinecone.io", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".pinecone.io"}, None),
        ("https://x.svc.pinecone.io", {"HTTPS_PROXY": "http://p:1", "no_proxy": "pinecone.io"}, None),
        ("http://127.0.0.1:5080", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1"}, None),
        ("http://127.0.0.1:5080", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
        ("https://a.example", {}, None),
    ],
)
def test_proxy_rule(url: str, env: dict[str, str], expected: str | None) -> None:
    assert proxy_for(url, env) == expected


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1: CONNECT tunnels (gRPC, https) and absolute-form requests (plain
    HTTP) are piped to their target; ``seen`` keeps every request line it was sent."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.url = ""

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        line = head.split(b"\r\n", 1)[0].decode()
        self.seen.append(line)
        method, target, _ = line.split(" ")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            parts = urlsplit(target)
            up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port)
            up_writer.write(head)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RecordingProxy]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with server:
            yield self


@pytest.fixture
async def local() -> AsyncIterator[Any]:
    async with serve_local(ServerConfig(api_key=API_KEY)) as running:
        await running.create_index_direct("idx", dimension=2)
        yield running


@pytest.mark.parametrize("transport", ["rest", "grpc"])
@pytest.mark.parametrize("case", ["HTTP_PROXY", "http_proxy", "NO_PROXY"])
async def test_both_transports_go_through_the_proxy_the_environment_names(
    local: Any, monkeypatch: pytest.MonkeyPatch, transport: str, case: str
) -> None:
    async with RecordingProxy().running() as proxy:
        monkeypatch.setenv("HTTP_PROXY" if case == "NO_PROXY" else case, proxy.url)
        if case == "NO_PROXY":
            monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        async with Client(API_KEY, local.url, transport=transport, limits=None) as client:
            index = await client.index("idx")
            assert (await index.describe_index_stats())["dimension"] == 2
    port = local.index_host("idx").rsplit(":", 1)[1]
    if case == "NO_PROXY":
        assert proxy.seen == []
        return
    assert any("/indexes/idx" in line for line in proxy.seen), proxy.seen  # the control plane (REST)
    if transport == "grpc":
        assert f"CONNECT 127.0.0.1:{port} HTTP/1.1" in proxy.seen  # grpc tunnels through it
    else:
        assert any(f"127.0.0.1:{port}/describe_index_stats" in line for line in proxy.seen), proxy.seen


@pytest.mark.parametrize("transport", ["rest", "grpc"])
async def test_a_bare_host_that_answers_plain_http_gets_the_http_url_at_once(
    local: Any, transport: str
) -> None:
    bare_controller = local.url.removeprefix("http://")
    async with Client(API_KEY, bare_controller, limits=None) as client:
        with pytest.raises(UsageError, match="does not speak TLS") as refused:
            await client.control.list_indexes()
    assert f"use {local.url}" in str(refused.value)
    assert client.stats.total_retries == 0  # not a transient failure: no retry

    host = local.index_host("idx")
    async with Client(API_KEY, local.url, transport=transport, limits=None) as client:
        index = client.index_at("https://" + host.removeprefix("http://"))
        with pytest.raises(UsageError, match=f"use {host}"):
            await index.describe_index_stats()
