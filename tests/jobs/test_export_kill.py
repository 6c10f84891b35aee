"""kill -9 an export in a subprocess at random moments, five times, then let it finish: every record
of the index is in the output exactly once, with bit-identical float32 values, over each transport
(reduced size here; `python -m benchmarks.chaos export` runs the full-size version)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulkops.server.config import ServerConfig
from bulkops.server.thread import ServerThread
from bulkops.sinks import JsonlReader, ParquetReader
from bulkops.sinks.manifest import read_manifest, verify_parts
from tests.helpers.killing import run_with_kills
from tests.helpers.records import assert_same_records, make_records

pytestmark = pytest.mark.integration

N = 20_000


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(latency_ms=2)) as srv:
        srv.create_index_direct("src", dimension=8)
        srv.seed("src", "ns", make_records(N, seed=11))
        yield srv


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_export_survives_five_kills(
    server: ServerThread, tmp_path: Path, suffix: str, transport: str
) -> None:
    out = tmp_path / f"out{suffix}"
    spec = {
        "job": "export",
        "kwargs": {
            "host": server.index_host("src"),
            "namespace": "ns",
            "prefix": "doc-",
            "output": str(out),
            "api_key": "k",
            "commit_every": 1500,
            "transport": transport,
        },
        # Listing at 50 req/s (≤ 5k IDs/s): five kills ≤ 0.5 s apart cannot outrun a 20k-record job.
        "limits": {"list:index:requests": 50},
    }
    log = run_with_kills(spec, kills=5, min_delay=0.2, max_delay=0.5, seed=len(suffix))
    assert log.kills >= 5
    assert log.final["exported"] == N
    assert log.final["resumed"] is True
    assert log.final["transport"] == transport
    reader = ParquetReader(out) if suffix == ".parquet" else JsonlReader(out)
    got = {}
    for item in reader:
        assert item.record is not None, item.error
        assert item.record.id not in got, f"{item.record.id} twice"
        got[item.record.id] = item.record
    want = {r.id: r for r in server.get_records("src", "ns", server.ids("src", "ns"))}
    assert_same_records(got, want)
    manifest = read_manifest(out)
    assert manifest is not None
    assert manifest.total == N
    assert verify_parts(out, manifest) == []
