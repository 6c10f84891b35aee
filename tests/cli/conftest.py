"""CLI tests run the real ``bulkops`` executable in a subprocess against one local server per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.cli import API_KEY, Cli


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One local server per test module (a subprocess: ``bulkops serve``), with an API key required."""
    from bulkops.server.process import ServerProcess

    data_dir = tmp_path_factory.mktemp("server")
    with ServerProcess(["--data-dir", str(data_dir), "--api-key", API_KEY, "--limits", "none"]) as server:
        yield server.url


@pytest.fixture(scope="module")
def cli(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(controller=server_url, home=tmp_path_factory.mktemp("home"))


@pytest.fixture(params=["grpc", "rest"])
def transport(request: pytest.FixtureRequest) -> str:
    """The crash and exactly-once tests run once per data-plane wire (``--transport``)."""
    wire: str = request.param
    return wire
