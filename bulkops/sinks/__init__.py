"""Export sinks and readers: JSONL and Parquet, crash-consistent on the local disk and on object
stores, plus the manifest beside them and where an export lives (:mod:`.location`)."""

from __future__ import annotations

from bulkops.sinks.base import PartInfo, ReadItem, RecordReader, RecordSink, SinkPosition
from bulkops.sinks.jsonl import JsonlPartsWriter, JsonlReader, JsonlWriter
from bulkops.sinks.location import ExportLocation
from bulkops.sinks.manifest import (
    Manifest,
    UnfinishedExportError,
    manifest_path,
    read_manifest,
    write_manifest,
)
from bulkops.sinks.parquet import ParquetReader, ParquetWriter

__all__ = [
    "ExportLocation",
    "JsonlPartsWriter",
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
    "UnfinishedExportError",
    "manifest_path",
    "read_manifest",
    "write_manifest",
]
