"""Export against the local server, in process: sources, formats, manifest, resume, guards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bulkops
from bulkops.api.client import Client
from bulkops.errors import CheckpointMismatchError, UsageError
from bulkops.limits import PROFILES
from bulkops.models import Record
from bulkops.server.app import LocalServer, serve_local
from bulkops.server.config import ServerConfig
from bulkops.sinks import JsonlReader, ParquetReader
from bulkops.sinks.manifest import read_manifest, verify_parts
from tests.helpers.records import assert_same_records, make_records
from tests.helpers.wrappers import Crash, Wrapped

KEY = "test-key"


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with serve_local(ServerConfig(api_key=KEY)) as srv:
        await srv.create_index_direct("src", dimension=8, metric="dotproduct")
        yield srv


def _read(path: Path) -> dict[str, Record]:
    reader = ParquetReader(path) if path.suffix == ".parquet" else JsonlReader(path)
    out: dict[str, Record] = {}
    for item in reader:
        assert item.record is not None, item.error
        assert item.record.id not in out, f"{item.record.id} exported twice"
        out[item.record.id] = item.record
    return out


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def _source(server: LocalServer, namespace: str, prefix: str = "") -> dict[str, Record]:
    ids = [i for i in server.ids("src", namespace) if i.startswith(prefix)]
    return {r.id: r for r in server.get_records("src", namespace, ids)}


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
async def test_prefix_export_is_exact_with_fan_out(server: LocalServer, tmp_path: Path, suffix: str) -> None:
    await server.seed("src", "ns", make_records(3000, prefix="doc-"))
    await server.seed("src", "ns", make_records(400, prefix="doc", seed=1))  # share 'doc', not 'doc-'
    await server.seed("src", "ns", make_records(300, prefix="other-", seed=2))
    out = tmp_path / f"out{suffix}"
    report = await bulkops.export(
        host=server.index_host("src"),
        namespace="ns",
        prefix="doc-",
        output=out,
        api_key=KEY,
        controller_host=server.url,
        limits="none",
        target_chains=8,
        commit_every=700,
    )
    want = _source(server, "ns", "doc-")
    assert report.exported == len(want) == 3000
    assert report.missing == 0
    assert report.commits >= 4
    assert_same_records(_read(out), want)
    manifest = read_manifest(out)
    assert manifest is not None
    assert manifest.total == 3000
    assert manifest.index["dimension"] == 8
    assert manifest.index["metric"] == "dotproduct"
    assert [(ns.name, ns.count) for ns in manifest.namespaces] == [("ns", 3000)]
    assert verify_parts(out, manifest) == []


async def test_parquet_export_of_every_namespace_reads_back_with_pyarrow(
    server: LocalServer, tmp_path: Path
) -> None:
    await server.seed("src", "", make_records(500, seed=3, prefix="a-"))
    await server.seed("src", "tenant 1", make_records(700, seed=4, prefix="b-"))
    out = tmp_path / "all.parquet"
    report = await bulkops.export(
        host=server.index_host("src"),
        all_namespaces=True,
        output=out,
        api_key=KEY,
        limits="none",
        commit_every=300,
    )
    assert dict(report.namespaces) == {"": 500, "tenant 1": 700} or dict(report.namespaces) == {
        "__default__": 500,
        "tenant 1": 700,
    }
    dirs = sorted(p.name for p in out.iterdir())
    assert dirs == ["__default__", "tenant%201"]
    for part in sorted(out.rglob("*.parquet")):
        table = pq.read_table(part)
        assert table.schema.field("id").type == pa.string()
        assert table.schema.field("values").type == pa.list_(pa.float32())
        assert table.schema.field("sparse_values").type == pa.struct(
            [pa.field("indices", pa.list_(pa.uint32())), pa.field("values", pa.list_(pa.float32()))]
        )
        assert table.schema.field("metadata").type == pa.string()
        assert table.num_rows <= 300
        for row in table.to_pylist():
            if row["metadata"] is not None:
                assert isinstance(orjson.loads(row["metadata"]), dict)
    got = _read(out)
    assert_same_records(got, {**_source(server, ""), **_source(server, "tenant 1")})


async def test_ids_file_and_filter_sources(server: LocalServer, tmp_path: Path) -> None:
    records = make_records(1500, seed=5)
    await server.seed("src", "ns", records)
    ids_file = tmp_path / "ids.txt"
    wanted = [r.id for r in records[::3]] + ["no-such-id-1", "no-such-id-2"]
    ids_file.write_text("\n".join(wanted) + "\n")
    report = await bulkops.export(
        host=server.index_host("src"),
        namespace="ns",
        ids_file=ids_file,
        output=tmp_path / "ids.jsonl",
        api_key=KEY,
        limits="none",
    )
    assert report.exported == 500
    assert report.missing == 2
    assert sorted(_read(tmp_path / "ids.jsonl")) == sorted(r.id for r in records[::3])

    report = await bulkops.export(
        host=server.index_host("src"),
        namespace="ns",
        filter={"tag": {"$eq": "t3"}},
        output=tmp_path / "f.parquet",
        api_key=KEY,
        limits="none",
        commit_every=100,
    )
    expected = {r.id for r in records if r.metadata and r.metadata["tag"] == "t3"}
    assert report.exported == len(expected) > 0
    assert set(_read(tmp_path / "f.parquet")) == expected


async def test_resume_after_a_crash_cuts_the_output_back_and_exports_each_record_once(
    server: LocalServer, tmp_path: Path, transport: str
) -> None:
    await server.seed("src", "ns", make_records(10_000, seed=6))
    out = tmp_path / "out.jsonl"
    async with Client(KEY, server.url, limits="none", transport=transport) as client:
        real = client.index_at(server.index_host("src"))
        for attempt, crash_after in enumerate([2, 3, 3]):
            # Out-of-order fetch completion, then a crash: what was written after the last commit is
            # garbage the resume must remove.
            dp = Wrapped(real, seed=attempt, crash_after=crash_after)
            with pytest.raises(Crash):
                await bulkops.export(
                    dataplane=dp,
                    namespace="ns",
                    output=out,
                    target_chains=6,
                    fetch_workers=4,
                    commit_every=500,
                    limits="none",
                )
            _append(out, b'{"id":"torn line')
        report = await bulkops.export(
            dataplane=Wrapped(real, seed=9),
            namespace="ns",
            output=out,
            target_chains=6,
            fetch_workers=4,
            commit_every=500,
            limits="none",
        )
    assert report.resumed
    assert report.exported == 10_000
    assert_same_records(_read(out), _source(server, "ns"))


async def test_guards(server: LocalServer, tmp_path: Path) -> None:
    await server.seed("src", "ns", make_records(50, seed=7))
    host = server.index_host("src")
    out = tmp_path / "out.jsonl"
    with pytest.raises(UsageError, match="at most one of prefix"):
        await bulkops.export(host=host, prefix="a", filter={"a": 1}, output=out, api_key=KEY)
    with pytest.raises(UsageError, match="say which index"):
        await bulkops.export(output=out, api_key=KEY)
    with pytest.raises(UsageError, match="does not exist"):
        await bulkops.export(host=host, output=tmp_path / "no-such-dir" / "x.jsonl", api_key=KEY)
    assert not out.exists()

    first = await bulkops.export(host=host, namespace="ns", output=out, api_key=KEY, limits="none")
    again = await bulkops.export(host=host, namespace="ns", output=out, api_key=KEY, limits="none")
    assert again.resumed
    assert again.exported == first.exported == 50
    with pytest.raises(CheckpointMismatchError):
        await bulkops.export(
            host=host, namespace="ns", prefix="x", output=out, api_key=KEY, checkpoint=f"{out}.checkpoint"
        )
    with pytest.raises(UsageError, match="already exists"):
        await bulkops.export(host=host, namespace="ns", output=out, api_key=KEY, checkpoint=tmp_path / "n.ck")
    ckpt = (tmp_path / "out.jsonl.checkpoint").read_bytes()
    assert KEY.encode() not in ckpt
    assert KEY.encode() not in out.read_bytes()


async def test_without_values_or_metadata(server: LocalServer, tmp_path: Path) -> None:
    await server.seed("src", "ns", make_records(100, seed=8))
    out = tmp_path / "ids-only.jsonl"
    await bulkops.export(
        host=server.index_host("src"),
        namespace="ns",
        output=out,
        api_key=KEY,
        limits="none",
        include_values=False,
        include_metadata=False,
    )
    docs: list[dict[str, Any]] = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(docs) == 100
    assert all(set(d) == {"id"} for d in docs)


async def test_a_refused_export_leaves_no_checkpoint_and_never_clobbers_the_file(
    server: LocalServer, tmp_path: Path
) -> None:
    await server.seed("src", "ns", make_records(30, seed=9))
    out = tmp_path / "precious.jsonl"
    out.write_bytes(b"someone else's data\n")
    for _ in range(2):
        with pytest.raises(UsageError, match="already exists"):
            await bulkops.export(host=server.index_host("src"), namespace="ns", output=out, api_key=KEY)
        assert not (tmp_path / "precious.jsonl.checkpoint").exists()
        assert out.read_bytes() == b"someone else's data\n"
    report = await bulkops.export(
        host=server.index_host("src"), namespace="ns", output=out, api_key=KEY, limits="none", overwrite=True
    )
    assert report.exported == 30
    assert len(_read(out)) == 30


async def test_an_export_over_grpc_and_over_rest_writes_the_same_bytes_per_record(
    server: LocalServer, tmp_path: Path
) -> None:
    """Same records, either wire: every JSONL line is byte-identical (float32 digits, sorted metadata
    keys) and every Parquet row holds the same float32 bits and metadata text. Only the order of the
    lines may differ (fetches complete out of order)."""
    records = make_records(600, seed=12)
    awkward = np.array([7.0262058e13, -1e-45, 3.4028235e38, 0.1, 1e16, -0.0, 1e-7, 5e-5], dtype=np.float32)
    records.append(Record("zz-awkward", awkward, metadata={"z": 1, "a": {"y": [1, 2], "b": "é"}, "m": 2.5}))
    await server.seed("src", "ns", records)
    outputs: dict[str, dict[str, Path]] = {}
    for wire in ("grpc", "rest"):
        outputs[wire] = {}
        for suffix in (".jsonl", ".parquet"):
            out = tmp_path / f"{wire}{suffix}"
            report = await bulkops.export(
                host=server.index_host("src"), namespace="ns", output=out, api_key=KEY, limits="none",
                transport=wire,
            )  # fmt: skip
            assert report.transport == wire
            assert report.exported == len(records)
            outputs[wire][suffix] = out

    def lines(path: Path) -> list[bytes]:
        return sorted(path.read_bytes().splitlines())

    assert lines(outputs["grpc"][".jsonl"]) == lines(outputs["rest"][".jsonl"])
    line = next(x for x in lines(outputs["grpc"][".jsonl"]) if b"zz-awkward" in x)
    assert b'"metadata":{"a":{"b":"\xc3\xa9","y":[1,2]},"m":2.5,"z":1}' in line

    def rows(path: Path) -> dict[str, tuple[bytes, str | None]]:
        table = pa.concat_tables(pq.read_table(p) for p in sorted(path.rglob("*.parquet")))
        values = table.column("values").to_pylist()
        return {
            record_id: (np.array(vector, dtype=np.float32).tobytes(), meta)
            for record_id, vector, meta in zip(
                table.column("id").to_pylist(), values, table.column("metadata").to_pylist(), strict=True
            )
        }

    assert rows(outputs["grpc"][".parquet"]) == rows(outputs["rest"][".parquet"])
    assert_same_records(_read(outputs["grpc"][".parquet"]), _source(server, "ns"))


async def test_a_small_namespace_is_listed_page_by_page_without_probes(tmp_path: Path) -> None:
    """The namespace's count (from the stats the export reads anyway) caps the fan-out's estimates:
    2,000 records of ``doc-000123`` IDs at 25 ms took 331 list requests before, for 20 pages."""
    config = ServerConfig(api_key=KEY, latency_ms=25.0, limits=PROFILES["default"])
    async with serve_local(config) as srv:
        await srv.create_index_direct("src", dimension=8)
        await srv.seed("src", "ns", [Record(f"doc-{i:06d}", [0.5] * 8) for i in range(2_000)])
        out = tmp_path / "out.jsonl"
        report = await bulkops.export(
            host=srv.index_host("src"), namespace="ns", output=out, api_key=KEY, controller_host=srv.url
        )
        assert report.exported == 2_000
        assert report.requests["list"] == 20
        assert len(_read(out)) == 2_000
