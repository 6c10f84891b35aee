"""Export sinks and readers: JSONL and Parquet, crash-consistent, plus the manifest beside them."""

from __future__ import annotations

from bulkops.sinks._files import make_private_dir
from bulkops.sinks.base import PartInfo, ReadItem, RecordReader, RecordSink, SinkPosition
from bulkops.sinks.jsonl import JsonlReader, JsonlWriter
from bulkops.sinks.manifest import Manifest, manifest_path, read_manifest, write_manifest
from bulkops.sinks.parquet import ParquetReader, ParquetWriter

__all__ = [
    "JsonlReader",
    "JsonlWriter",
    "Manifest",
    "ParquetReader",
    "ParquetWriter",
    "PartInfo",
    "ReadItem",
    "RecordReader",
    "RecordSink",
    "SinkPosition",
    "make_private_dir",
    "manifest_path",
    "read_manifest",
    "write_manifest",
]
