"""Pick the writer or reader for a path: ``*.parquet`` is a Parquet directory, anything else JSONL."""

from __future__ import annotations

from pathlib import Path

from bulkops.errors import UsageError
from bulkops.sinks.base import RecordSink
from bulkops.sinks.jsonl import JsonlReader, JsonlWriter
from bulkops.sinks.manifest import Manifest, read_manifest
from bulkops.sinks.parquet import ParquetReader, ParquetWriter

__all__ = ["detect_format", "open_reader", "open_writer"]


def detect_format(path: str | Path) -> str:
    path = Path(path)
    if path.suffix == ".parquet" or (path.is_dir() and any(path.rglob("*.parquet"))):
        return "parquet"
    if path.is_dir():
        raise UsageError(
            f"{path} is a directory without Parquet parts; give a .jsonl file or a .parquet directory"
        )
    return "jsonl"


def open_writer(path: str | Path, *, vector_type: str = "dense", commit_records: int = 50_000) -> RecordSink:
    if detect_format(path) == "parquet":
        return ParquetWriter(
            path,
            vector_type=vector_type,
            commit_records=commit_records,
            row_group_rows=min(10_000, commit_records),
        )
    return JsonlWriter(path, commit_records=commit_records)


def open_reader(path: str | Path) -> tuple[JsonlReader | ParquetReader, Manifest | None]:
    """The reader for an export and its manifest (None when there is none, e.g. a hand-made file)."""
    path = Path(path)
    if not path.exists():
        raise UsageError(
            f"{path} does not exist; give the path of a JSONL file or a Parquet export directory"
        )
    manifest = read_manifest(path)
    if detect_format(path) == "parquet":
        return ParquetReader(path, parts=manifest.parts if manifest else None), manifest
    return JsonlReader(path, segments=manifest.jsonl_segments() if manifest else ()), manifest
