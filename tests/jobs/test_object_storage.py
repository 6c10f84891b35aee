"""Export to and import from a real S3-compatible store (moto, on loopback), in process: JSONL parts and
Parquet, bit for bit both ways; a part uploaded but never committed is never read and is removed on
resume; what is there is trusted only through the manifest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import bulkops
from bulkops.errors import UsageError
from bulkops.jobs.export.run import ExportRun
from bulkops.models import Record
from bulkops.server.app import LocalServer, serve_local
from bulkops.server.config import ServerConfig
from bulkops.sinks import UnfinishedExportError, read_manifest
from bulkops.sinks.manifest import verify_parts
from bulkops.storage import STAGING_SUFFIX
from tests.helpers.records import assert_same_records, make_records
from tests.helpers.wrappers import Crash
from tests.storage.s3server import S3Bucket

KEY = "test-key"
NAMESPACES = {"tenant-a": 700, "": 300}


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with serve_local(ServerConfig(api_key=KEY)) as srv:
        await srv.create_index_direct("src", dimension=8, metric="dotproduct")
        await srv.create_index_direct("dst", dimension=8, metric="dotproduct")
        for number, (namespace, count) in enumerate(NAMESPACES.items()):
            await srv.seed("src", namespace, make_records(count, seed=number, prefix=f"n{number}-"))
        yield srv


def _source(server: LocalServer, index: str, namespace: str) -> dict[str, Record]:
    return {r.id: r for r in server.get_records(index, namespace, server.ids(index, namespace))}


def _common(server: LocalServer, index: str) -> dict[str, Any]:
    return {"host": server.index_host(index), "api_key": KEY, "limits": "none"}


async def _export(server: LocalServer, output: str, **extra: Any) -> bulkops.ExportReport:
    return await bulkops.export(
        output=output, all_namespaces=True, commit_every=200, **_common(server, "src"), **extra
    )


def _assert_restored(server: LocalServer) -> None:
    for namespace in NAMESPACES:
        assert_same_records(_source(server, "dst", namespace), _source(server, "src", namespace))


@pytest.mark.parametrize("name", ["out.jsonl", "out.parquet"])
async def test_an_export_to_s3_imports_back_bit_for_bit(
    server: LocalServer, s3: S3Bucket, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    uri = s3.uri(f"runs/7/{name}")
    report = await _export(server, uri)
    assert report.exported == sum(NAMESPACES.values())
    assert report.output == uri
    assert report.manifest == f"{uri}.manifest.json"
    keys = [k for k in s3.keys("") if not k.endswith("/")]
    assert not [k for k in keys if k.endswith(STAGING_SUFFIX)]
    manifest = read_manifest(uri)
    assert manifest is not None
    suffix = ".parquet" if name.endswith(".parquet") else ".jsonl"
    parts = sorted(f"runs/7/{name}/{p.path}" for p in manifest.parts)
    assert parts == [k for k in keys if k.endswith(suffix)]
    # commit_every=200: a part closes at a commit past 200 lines (Parquet also at each namespace's end),
    # so 1,000 records make several parts, holding every record once
    rows = [p.rows for p in manifest.parts]
    assert len(rows) >= 3, rows
    assert sum(rows) == sum(NAMESPACES.values())
    assert manifest.layout == "parts"
    assert verify_parts(uri, manifest) == []
    assert (tmp_path / "state" / "bulkops").is_dir()  # the checkpoint: a local file, not in the bucket

    loaded = await bulkops.load(input=uri, **_common(server, "dst"))
    assert loaded.upserted == sum(NAMESPACES.values())
    assert loaded.source == uri
    _assert_restored(server)


async def test_a_part_uploaded_but_never_committed_is_never_read_and_goes_on_resume(
    server: LocalServer, s3: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash lands between a part's upload and the checkpoint step that would list it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    uri = s3.uri("crash/out.parquet")
    original = ExportRun.commit
    commits = 0

    async def crash_after_the_upload(run: ExportRun) -> None:
        nonlocal commits
        commits += 1
        if commits == 3:
            await anyio.to_thread.run_sync(run.sink.commit)  # published: the part is in the bucket
            raise Crash("killed before the checkpoint step")
        await original(run)

    with monkeypatch.context() as patch:
        patch.setattr(ExportRun, "commit", crash_after_the_upload)
        with pytest.raises(Crash):
            await _export(server, uri)
    parts_then = [k for k in s3.keys("crash/out.parquet/") if k.endswith(".parquet")]
    assert len(parts_then) >= 3
    # Leftovers of writers that died elsewhere: an uncommitted part of a higher number (a copy of a real
    # one: read, it would duplicate records) and a staging object.
    s3.put("crash/out.parquet/tenant-a/part-00999.parquet", s3.get(parts_then[0]))
    s3.put("crash/out.parquet/tenant-a/.part-00998.parquet.0123abcd.bulkops-tmp", b"half")

    with pytest.raises(UnfinishedExportError, match="unfinished export"):
        await bulkops.load(input=uri, **_common(server, "dst"))
    assert server.count("dst", "tenant-a") == 0

    report = await _export(server, uri)
    assert report.resumed
    assert report.exported == sum(NAMESPACES.values())
    keys = s3.keys("crash/out.parquet/")
    assert "crash/out.parquet/tenant-a/part-00999.parquet" not in keys
    assert not [k for k in keys if k.endswith(STAGING_SUFFIX)]
    manifest = read_manifest(uri)
    assert manifest is not None
    assert sorted(f"crash/out.parquet/{p.path}" for p in manifest.parts) == [
        k for k in keys if k.endswith(".parquet")
    ]
    await bulkops.load(input=uri, **_common(server, "dst"))
    _assert_restored(server)


async def test_an_object_store_input_without_a_manifest_is_refused(server: LocalServer, s3: S3Bucket) -> None:
    s3.put("hand/out.parquet/ns/part-00000.parquet", b"not even parquet")
    with pytest.raises(UsageError, match="no manifest"):
        await bulkops.load(input=s3.uri("hand/out.parquet"), **_common(server, "dst"))
    with pytest.raises(UsageError, match="does not exist"):
        await bulkops.load(input=s3.uri("nothing/here.parquet"), **_common(server, "dst"))


async def test_a_part_missing_from_a_finished_export_is_refused_before_anything_is_sent(
    server: LocalServer, s3: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    uri = s3.uri("gone/out.jsonl")
    await _export(server, uri)
    victim = next(k for k in s3.keys("gone/out.jsonl/") if k.endswith(".jsonl"))
    s3.server.client().delete_object(Bucket=s3.name, Key=victim)
    with pytest.raises(UsageError, match="is missing"):
        await bulkops.load(input=uri, **_common(server, "dst"))
    assert server.count("dst", "tenant-a") == 0


async def test_an_existing_export_in_the_bucket_is_not_overwritten(
    server: LocalServer, s3: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    s3.put("taken/out.parquet/x/part-00000.parquet", b"someone else's")
    with pytest.raises(UsageError, match="already exists"):
        await _export(server, s3.uri("taken/out.parquet"))
    assert s3.get("taken/out.parquet/x/part-00000.parquet") == b"someone else's"
    report = await _export(server, s3.uri("taken/out.parquet"), overwrite=True)
    assert "taken/out.parquet/x/part-00000.parquet" not in s3.keys("")
    assert report.exported == sum(NAMESPACES.values())
