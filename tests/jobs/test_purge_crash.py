"""kill -9 a purge at random moments, resume, and check record by record, over each transport (reduced
size; full size in
`python -m benchmarks.chaos purge`). The purge runs in a child process (:mod:`tests.helpers.driver`);
the server runs in a thread of this one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkops.engine.checkpoint import Checkpoint
from bulkops.limits.profiles import PROFILES
from bulkops.models import Record
from bulkops.server import ServerConfig, parse_faults
from bulkops.server.thread import ServerThread
from tests.helpers.killing import run_with_kills

pytestmark = pytest.mark.integration

PREFIX = "victim#"


def dataset(n_target: int) -> tuple[list[Record], list[str]]:
    target = [f"{PREFIX}{i % 97:02d}#{i:06d}" for i in range(n_target)]
    keep = [f"victim${i}" for i in range(300)] + [f"victim{i}" for i in range(300)] + ["victim#"[:-1], "w"]
    keep += [f"other#{i:05d}" for i in range(n_target // 3)]
    recs = [Record(i, (float(n), 0.5, -1.0, 2.0), metadata={"n": n}) for n, i in enumerate(target + keep)]
    return recs, keep


def purge_spec(
    server: ServerThread, ckpt: Path, *, list_rate: float, timeout: float, transport: str
) -> dict[str, object]:
    return {
        "job": "purge",
        "kwargs": {
            "index": "idx",
            "controller_host": server.url,
            "api_key": "test-key",
            "namespace": "ns",
            "prefix": PREFIX,
            "checkpoint": str(ckpt),
            "verify_delay": 0.2,
            "client_options": {"timeout": timeout},
            "transport": transport,
        },
        "limits": {"list:index:requests": list_rate},
    }


def check_exact(server: ServerThread, recs: list[Record], keep: list[str]) -> None:
    assert server.ids("idx", "ns") == sorted(keep)
    by_id = {r.id: r for r in recs}
    for got in server.get_records("idx", "ns", keep):
        want = by_id[got.id]
        assert list(got.values) == list(want.values)
        assert dict(got.metadata or {}) == dict(want.metadata or {})


def test_kill_nine_five_times_then_exact(tmp_path: Path, transport: str) -> None:
    recs, keep = dataset(20_000)
    checkpoint = tmp_path / "purge.ckpt"
    progress: list[int] = []

    def deleted_so_far() -> None:
        if checkpoint.exists():
            progress.append(Checkpoint.inspect(checkpoint).counters.get("deleted", 0))

    with ServerThread(ServerConfig(limits=PROFILES["default"], latency_ms=3.0)) as server:
        server.create_index_direct("idx", dimension=4)
        server.seed("idx", "ns", recs)
        log = run_with_kills(
            purge_spec(server, checkpoint, list_rate=40, timeout=30.0, transport=transport),
            kills=5,
            min_delay=0.3,
            max_delay=2.0,
            seed=4,
            timeout=240,
            after_kill=deleted_so_far,
        )
        assert log.kills >= 5
        mid_job = [n for n in progress if 0 < n < 20_000]
        assert len(mid_job) >= 3, f"kills did not land mid-purge: deleted counts at kills {progress}"
        assert log.final["verification"]["remaining"] == 0
        check_exact(server, recs, keep)


def test_fault_storm_with_kills_ends_exact(tmp_path: Path, transport: str) -> None:
    recs, keep = dataset(12_000)
    faults = parse_faults("500:0.03,503:0.03,reset:0.03,429:0.05,stall=2:0.005")
    config = ServerConfig(
        limits=PROFILES["default"], latency_ms=2.0, faults=faults, seed=11, consistency_lag_ms=100
    )
    with ServerThread(config) as server:
        server.create_index_direct("idx", dimension=4)
        server.seed("idx", "ns", recs)
        log = run_with_kills(
            purge_spec(server, tmp_path / "purge.ckpt", list_rate=60, timeout=1.0, transport=transport),
            kills=2,
            min_delay=0.3,
            max_delay=2.0,
            seed=9,
            timeout=240,
        )
        assert log.kills >= 2
        assert log.final["verification"]["remaining"] == 0
        check_exact(server, recs, keep)
