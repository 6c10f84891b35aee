"""Index ports survive a restart on the same data dir; --index-port-base gives fixed ports; a kept
port that is taken stops the server with an error naming the index and the port."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bulkops.server import ServerConfig, serve_local
from bulkops.server.ports import PortInUseError
from tests.helpers.ports import quiet_port_base


def _port(host: str) -> int:
    return int(host.rsplit(":", 1)[1])


async def test_index_keeps_its_port_across_restarts_on_the_same_data_dir(tmp_path: Path) -> None:
    async with serve_local(ServerConfig(data_dir=tmp_path, index_port_base=quiet_port_base())) as server:
        first = await server.create_index_direct("kept", 2)
        await server.create_index_direct("other", 2)
        second = server.index_host("other")
    async with serve_local(ServerConfig(data_dir=tmp_path)) as server:  # no base now: kept ports
        assert server.index_host("kept") == first
        assert server.index_host("other") == second


async def test_index_port_base_gives_fixed_ports_in_creation_order(tmp_path: Path) -> None:
    base = quiet_port_base()
    async with serve_local(ServerConfig(data_dir=tmp_path, index_port_base=base)) as server:
        assert _port(await server.create_index_direct("a", 2)) == base
        assert _port(await server.create_index_direct("b", 2)) == base + 1
    async with serve_local(ServerConfig(data_dir=tmp_path, index_port_base=base + 1000)) as server:
        # kept ports win over a new base: the indexes are where clients last saw them
        assert (_port(server.index_host("a")), _port(server.index_host("b"))) == (base, base + 1)


async def test_in_memory_indexes_take_any_free_port() -> None:
    async with serve_local(ServerConfig()) as server:
        hosts = {await server.create_index_direct(name, 2) for name in ("a", "b")}
    assert len(hosts) == 2


async def test_a_kept_port_in_use_is_an_error_naming_the_index_and_port(tmp_path: Path) -> None:
    async with serve_local(ServerConfig(data_dir=tmp_path, index_port_base=quiet_port_base())) as server:
        port = _port(await server.create_index_direct("docs", 2))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(PortInUseError, match=rf"index 'docs' keeps port {port} across restarts"):
            async with serve_local(ServerConfig(data_dir=tmp_path)):
                pass
    async with serve_local(ServerConfig(data_dir=tmp_path)) as server:  # free again: back where it was
        assert _port(server.index_host("docs")) == port


async def test_with_a_fixed_control_port_indexes_take_the_ports_after_it(tmp_path: Path) -> None:
    """Pinecone Local's layout (5080, then 5081, ...), and out of the ephemeral range for restarts."""
    control = quiet_port_base(count=3)
    config = ServerConfig(port=control, data_dir=tmp_path)
    async with serve_local(config) as server:
        assert server.url.endswith(f":{control}")
        assert _port(await server.create_index_direct("a", 2)) == control + 1
        assert _port(await server.create_index_direct("b", 2)) == control + 2
    async with serve_local(config) as server:
        assert (_port(server.index_host("a")), _port(server.index_host("b"))) == (control + 1, control + 2)


def test_where_new_indexes_look_for_a_port() -> None:
    assert ServerConfig(port=5080).new_index_ports_from == 5081
    assert ServerConfig(port=5080, index_port_base=7000).new_index_ports_from == 7000
    assert ServerConfig(port=0).new_index_ports_from is None  # any free port
    assert ServerConfig(port=65_535).new_index_ports_from is None
