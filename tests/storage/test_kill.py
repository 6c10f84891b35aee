"""kill -9 in the middle of an atomic write: nothing appears under the final name, on the local disk or
on a real S3-compatible store, and ``delete_leftovers`` clears what the writer left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bulkops.storage import STAGING_SUFFIX, open_storage
from tests.storage.s3server import S3Bucket

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SIZE = 24 * 1024 * 1024  # two multipart parts before the kill


def _write_half_and_die(location: str, name: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.writer_child", location, name, str(SIZE)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "HALF", child.stderr.read() if child.stderr else line
    finally:
        child.kill()
        child.wait(timeout=30)


def test_killed_local_writer_leaves_no_file_under_the_final_name(tmp_path: Path) -> None:
    root = tmp_path / "out"
    _write_half_and_die(str(root), "ns/part-00000.parquet")
    left = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert "ns/part-00000.parquet" not in left
    assert all(name.endswith(STAGING_SUFFIX) for name in left)
    storage = open_storage(str(root))
    assert storage.delete_leftovers() == left
    assert storage.list_files() == []


def test_killed_s3_writer_leaves_no_object_under_the_final_name(s3: S3Bucket) -> None:
    _write_half_and_die(s3.uri("exports"), "ns/part-00000.parquet")
    visible = s3.keys()
    assert "exports/ns/part-00000.parquet" not in visible
    assert [k for k in visible if not k.endswith("/")] == []  # the staging upload never completed either
    assert any(key.endswith(STAGING_SUFFIX) for key in s3.pending_uploads())  # begun, never published
