"""Every file an export writes is 0600 and every directory it creates 0700, like checkpoints, whatever the
umask (it only removes bits at creation; a file that existed keeps its mode), and a directory that
already existed is left as it was (issue 12)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulkops.models import Record
from bulkops.sinks import JsonlWriter, ParquetWriter
from bulkops.storage import make_private_dir, open_storage


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o277], ids=["umask 000", "umask 022", "umask 277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


RECORDS = [Record(f"r{i}", values=[0.5, 0.25]) for i in range(3)]


def test_jsonl_and_manifest_files_are_0600(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("an older export, world-readable\n")
    os.chmod(target, 0o644)
    writer = JsonlWriter(target)
    writer.truncate_to(None)
    writer.write("ns", RECORDS)
    writer.commit()
    writer.close()
    assert _mode(target) == 0o600
    manifest = tmp_path / "out.manifest.json"
    open_storage(str(tmp_path)).write_bytes(manifest.name, b"{}")
    assert _mode(manifest) == 0o600


def test_parquet_directories_0700_parts_0600(tmp_path: Path, umask: int) -> None:
    root = tmp_path / "out.parquet"
    writer = ParquetWriter(root, commit_records=2)
    writer.truncate_to(None)
    writer.write("ns", RECORDS)
    writer.commit()
    writer.close()
    created = [root, *root.rglob("*")]
    assert {p.name for p in created if p.suffix == ".parquet" and p.is_file()} == {
        "part-00000.parquet",
        "part-00001.parquet",
    }
    for path in created:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_make_private_dir_creates_parents_0700_and_leaves_existing_ones(tmp_path: Path, umask: int) -> None:
    os.chmod(tmp_path, 0o755)
    make_private_dir(tmp_path / "a" / "b" / "c")
    assert [_mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
    assert _mode(tmp_path) == 0o755  # the user's own directory
