"""kill -9 an import in a subprocess at random moments, five times, then let it finish: the target
index then equals the source, record by record, over each transport (reduced size here; `python -m
benchmarks.chaos export` runs the full-size version)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulkops.server.config import ServerConfig
from bulkops.server.thread import ServerThread
from bulkops.sinks import JsonlWriter, ParquetWriter
from tests.helpers.killing import run_with_kills
from tests.helpers.records import assert_same_records, make_records

pytestmark = pytest.mark.integration

N = 20_000


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(latency_ms=2)) as srv:
        yield srv


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_import_survives_five_kills(
    server: ServerThread, tmp_path: Path, suffix: str, transport: str
) -> None:
    records = make_records(N, seed=31)
    source = tmp_path / f"in{suffix}"
    writer = ParquetWriter(source, commit_records=3000) if suffix == ".parquet" else JsonlWriter(source)
    writer.truncate_to(None)
    writer.write("ns", records)
    writer.commit()
    writer.close()
    target = f"dst-{suffix[1:]}-{transport}"
    server.create_index_direct(target, dimension=8)
    spec = {
        "job": "load",
        "kwargs": {
            "input": str(source),
            "host": server.index_host(target),
            "namespace": "ns",
            "api_key": "k",
            "batch_size": 200,
            "commit_every": 1000,
            "transport": transport,
        },
        # 20 upserts/s of 200 records (≤ 4k records/s): five kills ≤ 0.5 s apart cannot outrun the job.
        "limits": {"upsert:namespace:requests": 20},
    }
    log = run_with_kills(spec, kills=5, min_delay=0.2, max_delay=0.5, seed=len(suffix))
    assert log.kills >= 5
    assert log.final["upserted"] == N
    assert log.final["resumed"] is True
    assert log.final["transport"] == transport
    got = {r.id: r for r in server.get_records(target, "ns", server.ids(target, "ns"))}
    assert_same_records(got, {r.id: r for r in records})
