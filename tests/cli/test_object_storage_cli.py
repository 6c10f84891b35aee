"""The CLI with object storage and Pinecone's bulk import, against a real S3-compatible store (moto) and
the local server (which reads the same store): export to ``s3://`` and import back; ``export
--for-bulk-import`` under kill -9 ×5, then ``import --via-bulk-import`` restores the index bit for bit;
kill -9 while following, then ``bulkops resume`` follows the same import; ``imports
list|describe|cancel``."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from bulkops.server.config import ServerConfig
from bulkops.server.thread import ServerThread
from tests.helpers.cli import API_KEY, Cli, bulkops_executable
from tests.helpers.killing import run_with_kills
from tests.helpers.records import make_records
from tests.storage.s3server import S3Bucket, s3, s3_server

pytestmark = pytest.mark.integration  # the bulkops executable and kill -9 children

__all__ = ["s3", "s3_server"]

NAMESPACES = {"tenant-a": 3000, "": 1500, "b.b_b-b": 500}
TOTAL = sum(NAMESPACES.values())


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    """The local server in this process (it reads s3:// with the environment the ``s3`` fixture sets),
    with bulk imports paced so that a test can catch one running."""
    with ServerThread(ServerConfig(api_key=API_KEY, import_records_per_second=2500)) as srv:
        srv.create_index_direct("src", dimension=16, metric="dotproduct")
        for number, (namespace, count) in enumerate(NAMESPACES.items()):
            srv.seed("src", namespace, make_records(count, dim=16, seed=number, prefix=f"n{number}-"))
        yield srv


@pytest.fixture
def cli(server: ServerThread, tmp_path: Path) -> Cli:
    return Cli(controller=server.url, home=tmp_path)


def _same_as_source(cli: Cli, index: str, tmp_path: Path) -> None:
    """Bit for bit: every namespace of ``index`` exported to JSONL is byte-identical to the source's
    (values in shortest float32 form, metadata keys sorted, records in ID order)."""
    for namespace in NAMESPACES:
        name = namespace or "__default__"
        want, got = tmp_path / f"{index}-want-{name}.jsonl", tmp_path / f"{index}-got-{name}.jsonl"
        cli.ok("export", "--index", "src", "-n", name, "-o", str(want), "-q", "--overwrite")
        cli.ok("export", "--index", index, "-n", name, "-o", str(got), "-q", "--overwrite")
        assert got.read_bytes() == want.read_bytes(), namespace


def _start_import(host: str, uri: str) -> str:
    """Start an import straight over HTTP (as another tool would), for the commands that control it."""
    headers = {"Api-Key": API_KEY, "X-Pinecone-Api-Version": "2025-10", "Content-Type": "application/json"}
    body = orjson.dumps({"uri": uri})
    request = urllib.request.Request(f"{host}/bulk/imports", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(orjson.loads(answer.read())["id"])


def _new_index(cli: Cli, name: str) -> str:
    cli.ok("indexes", "create", name, "--dimension", "16", "--metric", "dotproduct", "-q")
    return name


def test_export_to_s3_and_import_from_s3(cli: Cli, s3: S3Bucket, tmp_path: Path) -> None:
    for name in ("all.jsonl", "all.parquet"):
        uri = s3.uri(f"cli/{name}")
        report = cli.json("export", "--index", "src", "--all-namespaces", "-o", uri)
        assert report["exported"] == TOTAL
        assert report["output"] == uri
        target = _new_index(cli, f"back-{name.split('.')[1]}")
        loaded = cli.json("import", "--index", target, "--input", uri)
        assert loaded["upserted"] == TOTAL
        assert loaded["source"] == uri
        _same_as_source(cli, target, tmp_path)


def test_for_bulk_import_under_five_kills_then_via_bulk_import_restores_exactly(
    cli: Cli, server: ServerThread, s3: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    uri = s3.uri("bulk/run-1/")
    spec = {
        "job": "export",
        "kwargs": {
            "host": server.index_host("src"),
            "all_namespaces": True,
            "output": uri,
            "for_bulk_import": True,
            "api_key": API_KEY,
            "commit_every": 400,
        },
        "limits": {"list:index:requests": 20, "fetch:index:requests": 20},  # slow: kills land inside
    }
    log = run_with_kills(spec, kills=5, min_delay=0.3, max_delay=0.8, seed=14)
    assert log.kills >= 5
    assert log.final["exported"] == TOTAL
    assert log.final["resumed"] is True

    target = _new_index(cli, "restored")
    report = cli.json("import", "--index", target, "--via-bulk-import", uri)
    assert report["status"] == "Completed"
    assert report["records_imported"] == TOTAL
    assert report["namespaces"] == dict(NAMESPACES)
    assert report["expected"] == report["namespaces"]
    assert report["bound"] is None
    _same_as_source(cli, target, tmp_path)
    listed = cli.json("imports", "list", "--index", target)
    assert [i["status"] for i in listed] == ["Completed"]


def test_a_kill_while_following_then_resume_follows_the_same_import(
    cli: Cli, s3: S3Bucket, tmp_path: Path
) -> None:
    uri = s3.uri("bulk/follow/")
    cli.ok("export", "--index", "src", "--all-namespaces", "-o", uri, "--for-bulk-import", "-q")
    target = _new_index(cli, "followed")
    checkpoint = tmp_path / "follow.checkpoint"
    args = ["import", "--index", target, "--via-bulk-import", uri, "--checkpoint", str(checkpoint)]
    child = subprocess.Popen(
        [bulkops_executable(), *args],
        env=cli.env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not cli.json("imports", "list", "--index", target):  # started: now it is following
            assert time.monotonic() < deadline, "the import never started"
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
    (running,) = cli.json("imports", "list", "--index", target)
    assert running["status"] in ("Pending", "InProgress"), running

    report = cli.json("resume", str(checkpoint))
    assert report["import_id"] == running["id"]
    assert report["status"] == "Completed"
    assert report["records_imported"] == TOTAL
    assert [i["id"] for i in cli.json("imports", "list", "--index", target)] == [running["id"]]
    _same_as_source(cli, target, tmp_path)


def test_imports_list_describe_cancel(cli: Cli, s3: S3Bucket) -> None:
    uri = s3.uri("bulk/cancel/")
    cli.ok("export", "--index", "src", "--all-namespaces", "-o", uri, "--for-bulk-import", "-q")
    target = _new_index(cli, "cancelled")
    host = cli.host_of(target)
    import_id = _start_import(host, uri)
    listed = cli.json("imports", "list", "--index", target)
    assert [i["id"] for i in listed] == [import_id]
    described = cli.json("imports", "describe", import_id, "--host", host)
    assert described["uri"] == uri
    assert described["status"] in ("Pending", "InProgress")
    refused = cli.run("imports", "cancel", import_id, "--index", target)
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    cancelled = cli.json("imports", "cancel", import_id, "--index", target, "--yes")
    assert cancelled["status"] == "Cancelled"
    assert cli.count(target, "tenant-a") == 0  # the local server undoes a cancelled import
    again = cli.run("imports", "cancel", import_id, "--index", target, "--yes")
    assert again.returncode == 2
    assert "already finished" in again.stderr
    missing = cli.run("imports", "describe", "999", "--index", target)
    assert missing.returncode == 1
    assert "not found" in missing.stderr.lower()
