"""The storage operations, each run on a local directory and on a real S3-compatible server (moto):
list, read, write (visible only when complete), delete, leftovers of interrupted writers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bulkops.storage import STAGING_SUFFIX, Storage, open_storage, store
from tests.storage.s3server import S3Bucket

PREFIX = "exports/run-1/"
BIG = os.urandom(12 * 1024 * 1024 + 17)  # more than one multipart part (pyarrow uploads 10 MB parts)


class Where:
    """One place to test: the storage under test, and an independent view of what readers see."""

    def __init__(
        self, storage: Storage, visible: Callable[[], list[str]], read: Callable[[str], bytes]
    ) -> None:
        self.storage = storage
        self.visible = visible  # every object/file name a reader can see, relative to the root
        self.read = read


@pytest.fixture(params=["local", "s3"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Where:
    if request.param == "local":
        root = tmp_path / "root"
        root.mkdir()

        def visible() -> list[str]:
            return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

        return Where(open_storage(str(root)), visible, lambda rel: (root / rel).read_bytes())
    bucket: S3Bucket = request.getfixturevalue("s3")
    return Where(
        open_storage(bucket.uri("exports/run-1")),
        # keys ending in "/" are directory markers (pyarrow keeps a parent "directory" after a delete)
        lambda: [
            k.removeprefix("exports/run-1/") for k in bucket.keys("exports/run-1/") if not k.endswith("/")
        ],
        lambda rel: bucket.get(f"exports/run-1/{rel}"),
    )


def test_write_list_read_delete(where: Where) -> None:
    storage = where.storage
    assert storage.list_files() == []
    storage.write_bytes("__default__/part-00000.parquet", b"one")
    storage.write_bytes("ns-a/part-00001.parquet", BIG)
    storage.write_bytes("manifest.json", b"{}")
    listed = storage.list_files()
    assert [(i.path, i.size) for i in listed] == [
        ("__default__/part-00000.parquet", 3),
        ("manifest.json", 2),
        ("ns-a/part-00001.parquet", len(BIG)),
    ]
    assert [i.path for i in storage.list_files("ns-a")] == ["ns-a/part-00001.parquet"]
    assert storage.list_files("missing-dir") == []
    assert storage.read_bytes("ns-a/part-00001.parquet") == BIG
    assert where.read("ns-a/part-00001.parquet") == BIG
    info = storage.info("manifest.json")
    assert info is not None
    assert info.size == 2
    assert storage.info("nothing-here") is None
    assert storage.info("ns-a") is None  # a directory is not a file
    storage.write_bytes("manifest.json", b'{"v": 2}')  # overwrite
    assert storage.read_bytes("manifest.json") == b'{"v": 2}'
    assert storage.delete("manifest.json") is True
    assert storage.delete("manifest.json") is False
    assert where.visible() == ["__default__/part-00000.parquet", "ns-a/part-00001.parquet"]


def test_a_missing_file_is_a_clear_file_not_found(where: Where) -> None:
    with pytest.raises(FileNotFoundError, match=r"does not exist") as caught:
        where.storage.read_bytes("no/such.parquet")
    assert str(where.storage.uri("no/such.parquet")) in str(caught.value)


def test_the_atomic_writer_publishes_only_a_complete_object(where: Where) -> None:
    storage = where.storage
    storage.write_bytes("ns/part-00000.parquet", b"old version")
    with storage.atomic_writer("ns/part-00000.parquet") as out:
        out.write(BIG[: len(BIG) // 2])
        # Half written: readers still see the old object and nothing else that looks like data.
        assert where.read("ns/part-00000.parquet") == b"old version"
        assert [n for n in where.visible() if not n.endswith(STAGING_SUFFIX)] == ["ns/part-00000.parquet"]
        out.write(BIG[len(BIG) // 2 :])
    assert where.read("ns/part-00000.parquet") == BIG
    assert where.visible() == ["ns/part-00000.parquet"]  # the staging object is gone


def test_an_error_inside_the_writer_publishes_nothing(where: Where) -> None:
    storage = where.storage

    class Boom(Exception):
        pass

    def fail_after(data: bytes, name: str) -> None:
        with storage.atomic_writer(name) as out:
            out.write(data)
            raise Boom

    with pytest.raises(Boom):
        fail_after(BIG, "ns/part-00007.parquet")
    assert where.visible() == []
    with pytest.raises(Boom):
        fail_after(b"", "ns/part-00008.parquet")
    assert where.visible() == []


def test_parquet_written_through_the_writer_reads_back(where: Where) -> None:
    table = pa.table({"id": ["a", "b"], "values": pa.array([[0.1, 0.2], [0.3, 0.4]], pa.list_(pa.float32()))})
    with where.storage.atomic_writer("ns/part-00000.parquet") as out:
        pq.write_table(table, out)
    assert pq.read_table(where.storage.open_input("ns/part-00000.parquet")).equals(table)


def test_delete_leftovers_removes_only_staging_objects(where: Where) -> None:
    storage = where.storage
    storage.write_bytes("ns/part-00000.parquet", b"data")
    storage.write_bytes(f"ns/.part-00001.parquet.0123456789ab{STAGING_SUFFIX}", b"interrupted")
    assert storage.delete_leftovers() == [f"ns/.part-00001.parquet.0123456789ab{STAGING_SUFFIX}"]
    assert where.visible() == ["ns/part-00000.parquet"]


def test_repr_names_the_place_and_never_a_key(s3: S3Bucket) -> None:
    storage = open_storage(s3.uri("x"))
    text = repr(storage) + repr(storage.settings)
    assert s3.name in text
    assert s3.server.secret not in text
    assert s3.server.key_id not in text


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="the kernel hint exists on Linux only")
def test_a_local_writer_starts_writeback_every_stretch_and_keeps_every_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So the fsync that publishes a big file waits only for its last stretch (see _EarlyWriteback).
    Parts go past the page cache where the filesystem allows (test_direct_io.py); other files and
    parts elsewhere are written like this."""
    monkeypatch.setattr(store, "WRITEBACK_BYTES", 4 * 1024 * 1024)
    hints: list[int] = []
    real_fadvise = os.posix_fadvise

    def recording(fd: int, offset: int, length: int, advice: int) -> None:
        hints.append(advice)
        real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", recording)
    storage = open_storage(str(tmp_path))
    with storage.atomic_writer("ns/part-00000.parquet") as out:
        for start in range(0, len(BIG), 1024 * 1024):
            out.write(BIG[start : start + 1024 * 1024])
        assert out.tell() == len(BIG)
    assert hints == [os.POSIX_FADV_DONTNEED] * (len(BIG) // (4 * 1024 * 1024))  # 12 MiB + 17: three
    assert (tmp_path / "ns/part-00000.parquet").read_bytes() == BIG
    assert sorted(p.name for p in (tmp_path / "ns").iterdir()) == ["part-00000.parquet"]
