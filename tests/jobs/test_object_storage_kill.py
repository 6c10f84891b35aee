"""kill -9 an export to a real S3-compatible store (moto) at random moments, five times, then let it
finish: every record is in the export exactly once, bit for bit, read back through its manifest — JSONL
parts and Parquet alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulkops.server.config import ServerConfig
from bulkops.server.thread import ServerThread
from bulkops.sinks.formats import open_reader
from bulkops.sinks.manifest import read_manifest, verify_parts
from bulkops.storage import STAGING_SUFFIX
from tests.helpers.killing import run_with_kills
from tests.helpers.records import assert_same_records, make_records
from tests.storage.s3server import S3Bucket

pytestmark = pytest.mark.integration

N = 12_000


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(latency_ms=2)) as srv:
        srv.create_index_direct("src", dimension=8)
        srv.seed("src", "ns", make_records(N, seed=12))
        yield srv


@pytest.mark.parametrize("name", ["out.jsonl", "out.parquet"])
def test_an_export_to_s3_survives_five_kills(
    server: ServerThread, s3: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the children's local checkpoint
    uri = s3.uri(f"kills/{name}")
    spec = {
        "job": "export",
        "kwargs": {
            "host": server.index_host("src"),
            "namespace": "ns",
            "output": uri,
            "api_key": "k",
            "commit_every": 1000,
            "transport": "grpc",
        },
        "limits": {"list:index:requests": 40},  # ≤ 4k IDs/s: five kills ≤ 0.5 s apart land inside
    }
    log = run_with_kills(spec, kills=5, min_delay=0.2, max_delay=0.5, seed=len(name))
    assert log.kills >= 5
    assert log.final["exported"] == N
    assert log.final["resumed"] is True
    manifest = read_manifest(uri)
    assert manifest is not None
    assert manifest.total == N
    assert verify_parts(uri, manifest) == []
    keys = [k for k in s3.keys("kills/") if not k.endswith("/")]
    assert not [k for k in keys if k.endswith(STAGING_SUFFIX)]
    suffix = name.rsplit(".", 1)[1]
    assert sorted(f"kills/{name}/{p.path}" for p in manifest.parts) == [
        k for k in keys if k.endswith(f".{suffix}")
    ]
    reader, _ = open_reader(uri)
    got = {}
    for item in reader:
        assert item.record is not None, item.error
        assert item.record.id not in got, f"{item.record.id} twice"
        got[item.record.id] = item.record
    want = {r.id: r for r in server.get_records("src", "ns", server.ids("src", "ns"))}
    assert_same_records(got, want)
