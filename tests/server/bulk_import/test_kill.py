"""kill -9 the server in the middle of a bulk import, several times, from file:// and from S3: the
server that starts next on the same data dir resumes it, and the end state is that of an uninterrupted
import (every record once, bit for bit, ``recordsImported`` exact)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bulkops.server import ServerConfig, serve_local
from tests.server.bulk_import.helpers import (
    assert_landed,
    describe,
    make_records,
    start,
    upload,
    wait_until,
    write_export,
)
from tests.storage.s3server import S3Bucket

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
DATA = {"": make_records(400, seed=11, prefix="d-"), "other": make_records(200, seed=12, prefix="o-")}
TOTAL = sum(len(r) for r in DATA.values())


class Child:
    """The server in its own process, killed with SIGKILL."""

    def __init__(self, data_dir: Path, rate: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.server.bulk_import.serve_child", str(data_dir), str(rate)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        assert self.proc.stdout is not None
        self.host = self.proc.stdout.readline().strip()
        assert self.host.startswith("http://"), self.proc.stderr.read() if self.proc.stderr else self.host

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


async def _kill_repeatedly(http: aiohttp.ClientSession, data_dir: Path, uri: str) -> str:
    """Start the import in a child server, then kill -9 it at three points of the import."""
    child = Child(data_dir, rate=300)
    try:
        import_id = await start(http, child.host, uri, on_error="abort")
        await wait_until(http, child.host, import_id, statuses=("InProgress",), records=80)
    finally:
        child.kill()
    for records in (150, 330):
        child = Child(data_dir, rate=300)  # resumes it from the first unfinished file
        try:
            found = await wait_until(http, child.host, import_id, statuses=("InProgress",), records=records)
            assert found["recordsImported"] < TOTAL
        finally:
            child.kill()
    return import_id


async def _finish_and_check(http: aiohttp.ClientSession, data_dir: Path, import_id: str) -> None:
    async with serve_local(ServerConfig(data_dir=data_dir)) as server:
        host = server.index_host("idx")
        done = await wait_until(http, host, import_id)
        assert done["status"] == "Completed", done
        assert done["recordsImported"] == TOTAL
        assert_landed(server, "idx", DATA)
        assert (await describe(http, host, import_id))["percentComplete"] == 100.0


async def test_kill_9_during_a_file_import(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    uri = f"file://{write_export(tmp_path / 'export', DATA, part_rows=40)}"
    import_id = await _kill_repeatedly(http, tmp_path / "data", uri)
    await _finish_and_check(http, tmp_path / "data", import_id)


async def test_kill_9_during_an_s3_import(http: aiohttp.ClientSession, tmp_path: Path, s3: S3Bucket) -> None:
    uri = upload(write_export(tmp_path / "export", DATA, part_rows=40), s3.uri("exports/run"))
    import_id = await _kill_repeatedly(http, tmp_path / "data", uri)
    await _finish_and_check(http, tmp_path / "data", import_id)
