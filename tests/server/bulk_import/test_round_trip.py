"""A bulk import of bulkops's own Parquet export, from ``file://`` and from a real S3-compatible store,
started and followed over HTTP: every record lands bit for bit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from bulkops.server import LocalServer, ServerConfig
from bulkops.testing import SeedIndex, local_server
from tests.server.bulk_import.helpers import (
    assert_landed,
    call,
    make_records,
    start,
    upload,
    wait_until,
    write_export,
)
from tests.storage.s3server import S3Bucket

DATA = {
    "": make_records(130, seed=1, prefix="default-"),
    "tenant-a": make_records(75, seed=2, prefix="a-"),
    "b.b_b-b": make_records(20, seed=3, prefix="b-"),
}


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with local_server("dense", config=ServerConfig()) as srv:
        yield srv


async def test_a_file_uri_import_completes_and_every_record_lands_bit_for_bit(
    server: LocalServer, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    root = write_export(tmp_path / "export.parquet", DATA)
    host = server.index_host("dense")
    import_id = await start(http, host, f"file://{root}", on_error="abort")
    done = await wait_until(http, host, import_id)
    assert done["status"] == "Completed", done
    assert done["percentComplete"] == 100.0
    assert done["recordsImported"] == sum(len(r) for r in DATA.values())
    assert done["uri"] == f"file://{root}"
    assert "error" not in done
    created = datetime.fromisoformat(done["createdAt"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(done["finishedAt"].replace("Z", "+00:00"))
    assert created <= finished
    assert_landed(server, "dense", DATA)
    status, namespaces = await call(http, "GET", f"{host}/namespaces")
    assert status == 200
    assert sorted(n["name"] for n in namespaces["namespaces"]) == ["__default__", "b.b_b-b", "tenant-a"]


async def test_an_s3_import_reads_the_bucket_with_the_environments_credentials(
    server: LocalServer, http: aiohttp.ClientSession, tmp_path: Path, s3: S3Bucket
) -> None:
    uri = upload(write_export(tmp_path / "export", DATA, part_rows=33), s3.uri("exports/2026/run-7"))
    host = server.index_host("dense")
    done = await wait_until(http, host, await start(http, host, uri, on_error="continue"))
    assert done["status"] == "Completed", done
    assert done["recordsImported"] == sum(len(r) for r in DATA.values())
    assert_landed(server, "dense", DATA)


async def test_high_dimensional_values_land_bit_for_bit(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    records = {"wide": make_records(300, dim=1536, seed=9)}
    root = write_export(tmp_path / "wide", records, part_rows=120)
    async with local_server(SeedIndex("wide", dimension=1536)) as server:
        host = server.index_host("wide")
        done = await wait_until(http, host, await start(http, host, f"file://{root}"))
        assert done["status"] == "Completed", done
        assert_landed(server, "wide", records)


async def test_a_sparse_index_imports_sparse_values(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    from bulkops.models import Record

    dense = make_records(30, seed=4)
    records = {"s": [Record(r.id, (), r.sparse_values, r.metadata) for r in dense if r.sparse_values]}
    root = tmp_path / "sparse"
    from bulkops.sinks.parquet import ParquetWriter

    writer = ParquetWriter(root, vector_type="sparse", commit_records=4)
    writer.truncate_to(None)
    writer.write("s", records["s"])
    writer.commit()
    async with local_server() as server:
        await server.create_index_direct("sparse", None, "dotproduct", vector_type="sparse")
        host = server.index_host("sparse")
        done = await wait_until(http, host, await start(http, host, f"file://{root}"))
        assert done["status"] == "Completed", done
        assert done["recordsImported"] == len(records["s"])
        assert_landed(server, "sparse", records)
