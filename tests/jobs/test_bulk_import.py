"""Export for Pinecone's bulk import to a real S3-compatible store, then ``bulk_import`` it into another
index of the local server (which reads the same store): the index is restored bit for bit; a crash
between the start request and its answer, or while following, resumes following the same import; bad
directories and taken namespaces are refused before any import starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import bulkops
from bulkops.api.bulk_import import BulkImportClient
from bulkops.api.client import Client
from bulkops.errors import UsageError
from bulkops.jobs.bulk_import.spec import build_bulk_import
from bulkops.jobs.target import TargetSpec
from bulkops.models import Record
from bulkops.server.app import LocalServer, serve_local
from bulkops.server.config import ServerConfig
from bulkops.storage import open_storage
from tests.helpers.records import assert_same_records, make_records
from tests.helpers.wrappers import Crash
from tests.storage.s3server import S3Bucket

KEY = "test-key"
NAMESPACES = {"tenant-a": 400, "": 250, "b.b_b-b": 60}
TOTAL = sum(NAMESPACES.values())


@pytest.fixture
async def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LocalServer]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    async with serve_local(ServerConfig(api_key=KEY, import_records_per_second=4000)) as srv:
        await srv.create_index_direct("src", dimension=8, metric="dotproduct")
        await srv.create_index_direct("dst", dimension=8, metric="dotproduct")
        for number, (namespace, count) in enumerate(NAMESPACES.items()):
            await srv.seed("src", namespace, make_records(count, seed=number, prefix=f"n{number}-"))
        yield srv


def _on(server: LocalServer, index: str) -> dict[str, Any]:
    return {"host": server.index_host(index), "api_key": KEY, "limits": "none"}


def _records(server: LocalServer, index: str, namespace: str) -> dict[str, Record]:
    return {r.id: r for r in server.get_records(index, namespace, server.ids(index, namespace))}


async def _export(server: LocalServer, uri: str) -> bulkops.ExportReport:
    return await bulkops.export(
        output=uri, all_namespaces=True, for_bulk_import=True, commit_every=150, **_on(server, "src")
    )


async def _import(server: LocalServer, uri: str, **extra: Any) -> bulkops.BulkImportReport:
    return await bulkops.bulk_import(uri=uri, poll_interval=0.02, **_on(server, "dst"), **extra)


async def _imports_of(server: LocalServer, index: str) -> list[Any]:
    async with Client(KEY, limits=None) as client:
        imports = await client.bulk_imports(host=server.index_host(index))
        return await imports.list_imports()


async def test_export_for_bulk_import_then_bulk_import_restores_the_index_bit_for_bit(
    server: LocalServer, s3: S3Bucket
) -> None:
    uri = s3.uri("imports/run-1/")
    exported = await _export(server, uri)
    assert exported.exported == TOTAL
    keys = [k for k in s3.keys("imports/") if not k.endswith("/")]
    assert "imports/run-1.manifest.json" in keys
    directories = {k.split("/")[2] for k in keys if k.endswith(".parquet")}
    assert directories == {"tenant-a", "__default__", "b.b_b-b"}  # literal names, as Pinecone reads them
    seen: list[bulkops.BulkImportProgress] = []
    report = await _import(server, uri, progress=seen.append)
    assert report.status == "Completed"
    assert report.records_imported == TOTAL
    assert dict(report.namespaces) == NAMESPACES
    assert report.expected == NAMESPACES
    assert report.missing == 0
    assert report.uri == f"{uri.rstrip('/')}/"
    assert not report.adopted
    assert seen
    assert seen[-1].status == "Completed"
    assert seen[-1].records_imported == TOTAL
    for namespace in NAMESPACES:
        assert_same_records(_records(server, "dst", namespace), _records(server, "src", namespace))
    again = await _import(server, uri)  # the same call again: the stored report, nothing started
    assert again.resumed
    assert again.import_id == report.import_id
    assert len(await _imports_of(server, "dst")) == 1


async def test_a_crash_before_the_start_answer_follows_the_import_it_started(
    server: LocalServer, s3: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = s3.uri("imports/lost-answer")
    await _export(server, uri)
    original = BulkImportClient.start_import

    async def lose_the_answer(self: BulkImportClient, *args: Any, **kwargs: Any) -> str:
        await original(self, *args, **kwargs)
        raise Crash("killed before the answer was recorded")

    with monkeypatch.context() as patch:
        patch.setattr(BulkImportClient, "start_import", lose_the_answer)
        with pytest.raises(Crash):
            await _import(server, uri)
    report = await _import(server, uri)
    assert report.adopted
    assert report.status == "Completed"
    assert report.records_imported == TOTAL
    assert len(await _imports_of(server, "dst")) == 1  # one import, not two
    assert any("interrupted run" in note for note in report.notes)


async def test_a_crash_while_following_resumes_following_the_same_import(
    server: LocalServer, s3: S3Bucket
) -> None:
    uri = s3.uri("imports/follow")
    await _export(server, uri)

    def die_while_following(event: bulkops.BulkImportProgress) -> None:
        raise Crash(f"killed while following {event.import_id}")

    with pytest.raises(Crash) as crashed:
        await _import(server, uri, progress=die_while_following)
    first_id = str(crashed.value).rsplit(" ", 1)[-1]
    report = await bulkops.resume(_checkpoint_of(server, uri), api_key=KEY)
    assert isinstance(report, bulkops.BulkImportReport)
    assert report.import_id == first_id
    assert report.status == "Completed"
    assert report.resumed
    assert len(await _imports_of(server, "dst")) == 1


def _checkpoint_of(server: LocalServer, uri: str) -> Path:
    """The default checkpoint of a bulk import of ``uri`` into ``dst`` (named after both)."""
    target = TargetSpec(host=server.index_host("dst"))
    return build_bulk_import(uri=uri, target=target).default_checkpoint()


async def test_taken_namespaces_are_refused_before_any_import_starts(
    server: LocalServer, s3: S3Bucket
) -> None:
    uri = s3.uri("imports/taken")
    await _export(server, uri)
    await server.seed("dst", "tenant-a", make_records(3, seed=9, prefix="there-"))
    with pytest.raises(UsageError, match="'tenant-a' already exist"):
        await _import(server, uri)
    assert await _imports_of(server, "dst") == []
    assert not _checkpoint_of(server, uri).exists()


async def test_directories_that_are_not_finished_bulk_import_layouts_are_refused(
    server: LocalServer, s3: S3Bucket
) -> None:
    s3.put("loose/file.parquet", b"x")  # not in a namespace directory
    with pytest.raises(UsageError, match="not in a namespace directory"):
        await _import(server, s3.uri("loose"))
    with pytest.raises(UsageError, match="empty or does not exist"):
        await _import(server, s3.uri("nothing-here"))
    uri = s3.uri("imports/stray")
    await _export(server, uri)
    part = next(k for k in s3.keys("imports/stray/") if k.endswith(".parquet"))
    s3.put("imports/stray/tenant-a/part-09999.parquet", s3.get(part))  # uploaded, never committed
    with pytest.raises(UsageError, match="does not list"):
        await _import(server, uri)
    storage = open_storage(s3.uri("imports"))
    storage.write_bytes("stray.manifest.json", b'{"format": "bulkops-export-unfinished/1"}')
    with pytest.raises(UsageError, match="unfinished export"):
        await _import(server, uri)
    assert await _imports_of(server, "dst") == []


async def test_a_plain_parquet_export_with_encoded_names_is_refused(
    server: LocalServer, s3: S3Bucket
) -> None:
    await server.seed("src", "a b", make_records(5, seed=5, prefix="sp-"))
    uri = s3.uri("plain/out.parquet")
    await bulkops.export(output=uri, namespace="a b", **_on(server, "src"))
    with pytest.raises(UsageError, match="directory 'a%20b'"):
        await _import(server, uri)
    with pytest.raises(UsageError, match="cannot be a bulk-import directory"):
        await bulkops.export(output=s3.uri("x/"), namespace="a b", for_bulk_import=True, **_on(server, "src"))
    assert [k for k in s3.keys("x") if not k.endswith("/")] == []
