"""Export parts on a local disk are written with O_DIRECT in aligned chunks (the last partial block
without it), fall back to ordinary writes where the filesystem refuses, and keep every byte."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from bulkops.storage import direct_io, open_storage

CHUNK = 64 * 1024
DATA = os.urandom(3 * CHUNK + direct_io.ALIGNMENT + 17)  # whole chunks, an aligned rest, a partial block


def _direct_writes_work(directory: Path) -> bool:
    probe = directory / "probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT)
    try:
        stream = direct_io.open_direct(fd)
        if stream is None:
            return False
        stream.write(b"x" * direct_io.ALIGNMENT)
        stream.close()
        return not stream.refused
    finally:
        os.close(fd)
        probe.unlink()


@pytest.fixture
def direct_disk(tmp_path: Path) -> None:
    """Skip where the test's filesystem does not take O_DIRECT writes (macOS, tmpfs before Linux 6.6)."""
    if not hasattr(os, "O_DIRECT") or not _direct_writes_work(tmp_path):
        pytest.skip(f"the filesystem of {tmp_path} does not take O_DIRECT writes")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(direct_io, "CHUNK_BYTES", CHUNK)


def _write_part(root: Path, pieces: int = 7) -> None:
    storage = open_storage(str(root))
    step = len(DATA) // pieces + 1  # odd sizes: pieces straddle chunk boundaries
    with storage.part_writer("ns/part-00000.parquet") as out:
        for start in range(0, len(DATA), step):
            out.write(DATA[start : start + step])
        assert out.tell() == len(DATA)


def _record_writes(
    monkeypatch: pytest.MonkeyPatch, refuse_direct: bool = False, full_after: int | None = None
) -> list[tuple[int, bool]]:
    """Every os.write the stream makes: (bytes, whether the descriptor had O_DIRECT).
    ``refuse_direct``: EINVAL for O_DIRECT writes; ``full_after``: ENOSPC once that many calls were made."""
    calls: list[tuple[int, bool]] = []
    real_write = os.write

    def write(fd: int, data: memoryview) -> int:
        direct = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)
        calls.append((len(data), direct))
        if refuse_direct and direct:
            raise OSError(errno.EINVAL, "Invalid argument")
        if full_after is not None and len(calls) > full_after:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(direct_io.os, "write", write)
    return calls


def test_a_part_goes_to_the_disk_in_aligned_direct_chunks_and_keeps_every_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None, direct_disk: None
) -> None:
    calls = _record_writes(monkeypatch)
    _write_part(tmp_path)
    assert calls == [(CHUNK, True)] * 3 + [(direct_io.ALIGNMENT, True), (17, False)]
    assert (tmp_path / "ns/part-00000.parquet").read_bytes() == DATA
    assert [p.name for p in (tmp_path / "ns").iterdir()] == ["part-00000.parquet"]  # no staging left


def test_a_filesystem_that_refuses_direct_writes_gets_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None, direct_disk: None
) -> None:
    calls = _record_writes(monkeypatch, refuse_direct=True)
    _write_part(tmp_path)
    assert calls[0] == (CHUNK, True)  # refused: from here on, ordinary writes
    assert all(not direct for _, direct in calls[1:])
    assert (tmp_path / "ns/part-00000.parquet").read_bytes() == DATA


def test_without_o_direct_a_part_is_written_through_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(direct_io, "_O_DIRECT", 0)  # as on macOS
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT)
    try:
        assert direct_io.open_direct(fd) is None
    finally:
        os.close(fd)
    _write_part(tmp_path)
    assert (tmp_path / "ns/part-00000.parquet").read_bytes() == DATA


@pytest.mark.parametrize("size", [0, 1, direct_io.ALIGNMENT, CHUNK, CHUNK + 1])
def test_every_size_round_trips(tmp_path: Path, size: int, small_chunks: None) -> None:
    data = DATA[:size]
    with open_storage(str(tmp_path)).part_writer("p.parquet") as out:
        out.write(data)
        out.flush()  # nothing to push: whole chunks are out, the rest goes at close
    assert (tmp_path / "p.parquet").read_bytes() == data


def _fail_while_writing(root: Path) -> None:
    with open_storage(str(root)).part_writer("ns/p.parquet") as out:
        out.write(DATA[: 2 * CHUNK + 100])
        raise RuntimeError("the encoder failed")


def test_an_error_while_writing_publishes_nothing(tmp_path: Path, small_chunks: None) -> None:
    with pytest.raises(RuntimeError, match="the encoder failed"):
        _fail_while_writing(tmp_path)
    assert list((tmp_path / "ns").iterdir()) == []


def test_a_full_disk_while_closing_is_the_error_the_caller_sees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None, direct_disk: None
) -> None:
    """The last writes happen at close: their OSError must come out as it is (not a BufferError from
    the buffer that a failed write's slice kept pinned) and nothing may be published."""
    _record_writes(monkeypatch, full_after=3)  # the three whole chunks pass, the rest at close fails
    with pytest.raises(OSError, match="No space left") as failure:
        _write_part(tmp_path)
    assert failure.value.errno == errno.ENOSPC
    assert list((tmp_path / "ns").iterdir()) == []


def test_an_abandoned_part_writes_nothing_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None, direct_disk: None
) -> None:
    calls = _record_writes(monkeypatch)
    with pytest.raises(RuntimeError):
        _fail_while_writing(tmp_path)
    assert sum(size for size, _ in calls) == 2 * CHUNK  # the whole chunks, not the buffered rest
