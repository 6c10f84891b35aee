"""Every way a bulk import can be wrong: a 400 for a malformed request, else ``Failed`` with an error that
says what to fix, and the index exactly as before (nothing half-imported); ``continue`` skips bad rows
and files where ``abort`` fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pyarrow as pa
import pytest

from bulkops.server import LocalServer
from bulkops.testing import SeedIndex, local_server
from tests.server.bulk_import.helpers import (
    assert_landed,
    call,
    make_records,
    start,
    upload,
    wait_until,
    write_export,
    write_table,
)
from tests.storage.s3server import S3Bucket

EXISTING = {"kept": make_records(5, seed=7, prefix="kept-")}
GOOD = make_records(40, seed=1)


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with local_server(SeedIndex("idx", records=EXISTING)) as srv:
        yield srv


def _state(server: LocalServer) -> dict[str, list[str]]:
    store = server.indexes["idx"].context.store
    return {ns: store.all_ids(ns) for ns in store.namespace_counts()}


async def _fails(server: LocalServer, http: aiohttp.ClientSession, uri: str, on_error: str = "abort") -> str:
    """Start an import of ``uri`` that must fail; the index must be as it was. Returns the error."""
    before = _state(server)
    host = server.index_host("idx")
    done = await wait_until(http, host, await start(http, host, uri, on_error=on_error))
    assert done["status"] == "Failed", done
    assert done["recordsImported"] == 0
    assert "finishedAt" in done
    assert _state(server) == before
    error = str(done["error"])
    assert "\n" not in error
    return error


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "uri is required"),
        ({"uri": ""}, "uri must be a string of 1 to 1500 characters"),
        ({"uri": 7}, "uri must be a string"),
        ({"uri": "s3://b" + "x" * 1600}, "1 to 1500"),
        ({"uri": "relative/dir"}, "is not a URI"),
        ({"uri": "ftp://host/dir"}, "unsupported storage scheme 'ftp://'"),
        ({"uri": "s3:///dir"}, "names no bucket"),
        ({"uri": "s3://bucket/d", "errorMode": "abort"}, "errorMode must be an object"),
        ({"uri": "s3://bucket/d", "errorMode": {"onError": "retry"}}, "'continue' or 'abort'"),
        ({"uri": "s3://bucket/d", "integrationId": 5}, "integrationId must be a string"),
    ],
)
async def test_a_malformed_start_request_is_a_400_and_starts_nothing(
    server: LocalServer, http: aiohttp.ClientSession, body: dict[str, Any], message: str
) -> None:
    host = server.index_host("idx")
    status, answer = await call(http, "POST", f"{host}/bulk/imports", json=body)
    assert status == 400, answer
    assert message in answer["message"]
    assert answer["code"] == 3
    assert (await call(http, "GET", f"{host}/bulk/imports"))[1] == {"data": []}


async def test_an_unknown_bucket(server: LocalServer, http: aiohttp.ClientSession, s3: S3Bucket) -> None:
    error = await _fails(server, http, "s3://no-such-bucket-here/exports")
    assert "bucket 'no-such-bucket-here' does not exist" in error


@pytest.fixture
def uploaded(s3: S3Bucket, tmp_path: Path) -> str:
    """A good import layout in the bucket."""
    return upload(write_export(tmp_path / "e", {"ns": GOOD}), s3.uri("e"))


async def test_missing_credentials(
    server: LocalServer,
    http: aiohttp.ClientSession,
    s3: S3Bucket,
    monkeypatch: pytest.MonkeyPatch,
    uploaded: str,
) -> None:
    uri = uploaded
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    error = await _fails(server, http, uri)
    assert error.startswith(f"no credentials found for {uri}")
    assert s3.server.secret not in error


async def test_refused_credentials_never_show_the_key(
    server: LocalServer, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch, uploaded: str
) -> None:
    uri = uploaded
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-wrong-secret-that-must-stay-secret")
    error = await _fails(server, http, uri)
    assert "refused the credentials from the environment" in error
    assert "a-wrong-secret-that-must-stay-secret" not in error


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "is empty or does not exist"),
        ({"part-0.parquet": "good"}, "is not in a namespace directory"),
        ({"ns/readme.txt": b"hello", "notes.log": b"x"}, "holds no .parquet files"),
    ],
)
async def test_a_directory_that_is_not_an_import_layout(
    server: LocalServer, http: aiohttp.ClientSession, tmp_path: Path, files: dict[str, Any], message: str
) -> None:
    root = tmp_path / "layout"
    root.mkdir()
    for name, content in files.items():
        if content == "good":
            write_table(root / name, {"id": ["a"], "values": [[0.0] * 8]})
        else:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
    error = await _fails(server, http, f"file://{root}")
    assert message in error
    assert "__default__" in error  # the message shows what a layout looks like


async def test_a_target_namespace_that_already_exists(
    server: LocalServer, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    root = write_export(tmp_path / "e", {"fresh": GOOD[:10], "kept": GOOD[10:]})
    error = await _fails(server, http, f"file://{root}")
    assert "namespace 'kept' already exists in index 'idx'" in error


async def test_a_default_namespace_that_is_not_empty(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    async with local_server(SeedIndex("idx", records={"": make_records(3, prefix="old-")})) as server:
        error = await _fails(server, http, f"file://{write_export(tmp_path / 'e', {'': GOOD})}")
    assert "the default namespace (__default__) of index 'idx' holds 3 records" in error


def _bad_files(root: Path) -> None:
    """A layout whose first namespace is good and whose second holds one bad file per kind of badness
    (of the bad rows' file, ``ok-1`` and ``ok-2`` are good)."""
    write_export(root, {"a-good": GOOD})
    values = pa.array([[0.5] * 8] * 3, pa.list_(pa.float32()))
    write_table(root / "b-bad" / "1-no-id.parquet", {"key": ["x", "y", "z"], "values": values})
    write_table(root / "b-bad" / "2-string-values.parquet", {"id": ["x"], "values": [["0.5"] * 8]})
    write_table(root / "b-bad" / "3-not-parquet.parquet", {"id": ["x"], "values": values[:1]})
    (root / "b-bad" / "3-not-parquet.parquet").write_bytes(b"PAR1 but not really")
    rows = {
        "id": ["ok-1", "short", "ok-2", "nan", "bad-meta"],
        "values": [[0.25] * 8, [0.5] * 7, [1.0] * 8, [float("nan")] * 8, [2.0] * 8],
        "metadata": [None, None, '{"a": 1}', None, "{not json"],
    }
    write_table(root / "b-bad" / "4-bad-rows.parquet", rows)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1-no-id.parquet", ": has no 'id' column"),
        ("2-string-values.parquet", ": 'values' must be list<float>, not list<element: string>"),
        ("3-not-parquet.parquet", ": is not a readable Parquet file"),
        (
            "4-bad-rows.parquet",
            "row 1: record 'short': Vector dimension 7 does not match the dimension of the index 8",
        ),
    ],
)
async def test_abort_mode_fails_on_the_first_bad_file_or_row_and_removes_what_it_wrote(
    server: LocalServer, http: aiohttp.ClientSession, tmp_path: Path, bad: str, message: str
) -> None:
    root = tmp_path / "layout"
    _bad_files(root)
    for other in (root / "b-bad").iterdir():
        if other.name != bad:
            other.unlink()
    error = await _fails(server, http, f"file://{root}", on_error="abort")
    assert error.startswith(f"file://{root}/b-bad/{bad}")
    assert message in error
    assert f"(the {len(GOOD)} records it had written were removed)" in error


@pytest.mark.parametrize("on_error", ["continue", None])  # continue is the default
async def test_continue_mode_skips_bad_rows_and_files_and_imports_the_rest(
    server: LocalServer, http: aiohttp.ClientSession, tmp_path: Path, on_error: str | None
) -> None:
    root = tmp_path / "layout"
    _bad_files(root)
    host = server.index_host("idx")
    done = await wait_until(http, host, await start(http, host, f"file://{root}", on_error=on_error))
    assert done["status"] == "Completed", done
    assert done["recordsImported"] == len(GOOD) + 2
    assert_landed(server, "idx", {"a-good": GOOD, **EXISTING})
    assert server.ids("idx", "b-bad") == ["ok-1", "ok-2"]
    [ok2] = server.get_records("idx", "b-bad", ["ok-2"])
    assert ok2.metadata == {"a": 1}
    assert np.asarray(ok2.values, np.float32).tolist() == [1.0] * 8
