"""``--transport`` (and ``BULKOPS_TRANSPORT``) end to end: the wire the CLI says it used is the one the
server saw. The server runs in this process (a thread) with its index front counting connections per
protocol: HTTP/1.1 (REST) and HTTP/2 (gRPC) on the index's port."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from bulkops.server.config import ServerConfig
from bulkops.server.front import IndexFront
from bulkops.server.thread import ServerThread
from tests.helpers.cli import API_KEY, Cli
from tests.helpers.records import make_records

pytestmark = pytest.mark.integration  # runs the bulkops executable in subprocesses

N = 300


@pytest.fixture(scope="module")
def seen() -> Iterator[Counter[str]]:
    """Connections the index fronts handed to REST (``http``) and to gRPC (``grpc``)."""
    counts: Counter[str] = Counter()
    to_http, to_grpc = IndexFront.to_http, IndexFront.to_grpc

    def http(self: IndexFront, *args: Any) -> None:
        counts["http"] += 1
        to_http(self, *args)

    def grpc(self: IndexFront, *args: Any) -> None:
        counts["grpc"] += 1
        to_grpc(self, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(IndexFront, "to_http", http)
        patch.setattr(IndexFront, "to_grpc", grpc)
        yield counts


@pytest.fixture(scope="module")
def cli(seen: Counter[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    with ServerThread(ServerConfig(api_key=API_KEY)) as server:
        server.create_index_direct("wire", dimension=8)
        server.seed("wire", "ns", make_records(N, seed=3))
        yield Cli(controller=server.url, home=tmp_path_factory.mktemp("home"))


def _export(cli: Cli, seen: Counter[str], out: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    seen.clear()
    result = cli.run("--json", *args, "export", "--index", "wire", "-n", "ns", "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout)


@pytest.mark.parametrize("wire", ["rest", "grpc"])
def test_a_forced_transport_is_the_only_one_the_server_sees(
    cli: Cli, seen: Counter[str], tmp_path: Path, wire: str
) -> None:
    report = _export(cli, seen, tmp_path / "out.jsonl", "--transport", wire)
    assert report["exported"] == N
    assert report["transport"] == wire
    assert report["transport_requested"] == wire
    other = "grpc" if wire == "rest" else "http"
    assert seen[other] == 0, dict(seen)  # not even a probe
    assert seen["http" if wire == "rest" else "grpc"] > 0
    human = cli.ok("--transport", wire, "status", str(tmp_path / "out.jsonl.checkpoint"), "--json")
    assert orjson.loads(human.stdout)["spec"]["target"]["transport"] == wire


def test_the_environment_variable_and_auto(cli: Cli, seen: Counter[str], tmp_path: Path) -> None:
    report = _export(cli, seen, tmp_path / "env.jsonl", env=cli.env(BULKOPS_TRANSPORT="rest"))
    assert (report["transport"], report["transport_requested"]) == ("rest", "rest")
    assert seen["grpc"] == 0

    report = _export(cli, seen, tmp_path / "auto.jsonl")
    assert (report["transport"], report["transport_requested"]) == ("grpc", "auto")
    assert seen["grpc"] > 0
    human = cli.ok(
        "--transport", "rest", "export", "--index", "wire", "-n", "ns", "-o", str(tmp_path / "h.jsonl")
    )
    assert "transport" in human.stdout
    assert "rest" in human.stdout
    auto = cli.ok("export", "--index", "wire", "-n", "ns", "-o", str(tmp_path / "a.jsonl"))
    assert "picked by auto" in auto.stdout


def test_data_plane_commands_take_it_too(cli: Cli, seen: Counter[str]) -> None:
    seen.clear()
    rows = orjson.loads(
        cli.ok("--json", "--transport", "rest", "namespaces", "list", "--index", "wire").stdout
    )
    assert [(r["name"], r["record_count"]) for r in rows] == [("ns", N)]
    assert seen["grpc"] == 0
    assert seen["http"] > 0


def test_a_bad_transport_is_one_usage_line_and_changes_nothing(
    cli: Cli, seen: Counter[str], tmp_path: Path
) -> None:
    seen.clear()
    out = tmp_path / "never.jsonl"
    result = cli.run("--transport", "pigeon", "export", "--index", "wire", "-n", "ns", "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "transport" in result.stderr
    assert "pigeon" in result.stderr
    assert not out.exists()
    assert not Path(f"{out}.checkpoint").exists()
    assert sum(seen.values()) == 0
    twice = cli.run("--transport", "rest", "--transport", "grpc", "namespaces", "list", "--index", "wire")
    assert twice.returncode == 2
