"""kill -9 a copy five times at random moments, resume, and check the destination record by record: it
holds exactly the source's records (values bit for bit, metadata equal), over both transports. The copy
runs in a child process (:mod:`tests.helpers.driver`); both servers (two projects, two keys) run in
threads of this one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulkops.engine.checkpoint import Checkpoint
from bulkops.server.config import ServerConfig
from bulkops.server.thread import ServerThread
from tests.helpers.killing import run_with_kills
from tests.helpers.records import assert_same_records, make_records

pytestmark = pytest.mark.integration

SOURCE_KEY, TARGET_KEY = "kill-source-key", "kill-target-key"
N = 12_000


@pytest.fixture(scope="module")
def source() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(api_key=SOURCE_KEY, latency_ms=2)) as srv:
        srv.create_index_direct("src", dimension=8)
        srv.seed("src", "a", make_records(N, seed=21, prefix="doc-"))
        srv.seed("src", "b", make_records(300, seed=22, prefix="b-"))
        yield srv


@pytest.mark.parametrize("transport", ["grpc", "rest"])
def test_copy_survives_five_kills_and_ends_exact(
    source: ServerThread, tmp_path: Path, transport: str
) -> None:
    with ServerThread(ServerConfig(api_key=TARGET_KEY, latency_ms=2)) as target:
        checkpoint = tmp_path / "copy.ckpt"
        spec = {
            "job": "copy",
            "kwargs": {
                "index": "src",
                "controller_host": source.url,
                "api_key": SOURCE_KEY,
                "to_index": "dst",
                "to_controller_host": target.url,
                "to_api_key": TARGET_KEY,
                "all_namespaces": True,
                "namespace_map": {"b": "b-moved"},
                "checkpoint": str(checkpoint),
                "transport": transport,
                "verify_sample": 200,
            },
            # Fetching at 10 req/s (≤ 10k records/s): five kills ≤ 0.5 s apart land inside the copy.
            "limits": {"fetch:index:requests": 10, "list:index:requests": 50},
        }
        log = run_with_kills(spec, kills=5, min_delay=0.2, max_delay=0.5, seed=len(transport))
        assert log.kills >= 5
        assert log.final["resumed"] is True
        assert log.final["verification"]["ok"] is True
        for src_ns, dst_ns in (("a", "a"), ("b", "b-moved")):
            want = {r.id: r for r in source.get_records("src", src_ns, source.ids("src", src_ns))}
            got = {r.id: r for r in target.get_records("dst", dst_ns, target.ids("dst", dst_ns))}
            assert_same_records(got, want)
        assert target.ids("dst", "b") == []
        view = Checkpoint.inspect(checkpoint)
        assert view.kind == "copy"
        assert view.finished
        assert SOURCE_KEY.encode() not in checkpoint.read_bytes()
        assert TARGET_KEY.encode() not in checkpoint.read_bytes()
