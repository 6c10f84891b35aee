"""Pick the writer or reader for an export, on any store.

Writing: ``*.parquet`` is a Parquet directory; anything else JSONL (one file on the local disk,
numbered parts on an object store). Reading: a finished export is read exactly as its manifest says
(format, layout, parts); an unfinished one is refused; without a manifest only a local file or
directory is read (a hand-made input), by its name, because on an object store nothing but a manifest
tells a finished export from one still being written.
"""

from __future__ import annotations

import os
from pathlib import Path

from bulkops.errors import UsageError
from bulkops.sinks.base import RecordSink
from bulkops.sinks.jsonl import JsonlPartsWriter, JsonlReader, JsonlWriter
from bulkops.sinks.location import ExportLocation
from bulkops.sinks.manifest import Manifest, part_sizes, read_manifest
from bulkops.sinks.parquet import ParquetReader, ParquetWriter

__all__ = ["detect_format", "open_reader", "open_writer"]


def detect_format(path: str | Path) -> str:
    """The format of a local input without a manifest: ``*.parquet`` or a directory of Parquet parts is
    Parquet, a file anything else is JSONL."""
    path = Path(path)
    if path.suffix == ".parquet" or (path.is_dir() and any(path.rglob("*.parquet"))):
        return "parquet"
    if path.is_dir():
        raise UsageError(
            f"{path} is a directory without Parquet parts; give a .jsonl file or a .parquet directory"
        )
    return "jsonl"


def open_writer(
    location: ExportLocation,
    *,
    output_format: str,
    vector_type: str = "dense",
    commit_records: int = 50_000,
) -> RecordSink:
    if output_format == "parquet":
        return ParquetWriter(
            location.root,
            vector_type=vector_type,
            commit_records=commit_records,
            row_group_rows=min(10_000, commit_records),
        )
    if location.is_local:
        return JsonlWriter(location.path, commit_records=commit_records)
    return JsonlPartsWriter(location.root, commit_records=commit_records)


def open_reader(
    location: str | os.PathLike[str] | ExportLocation, *, storage_endpoint: str | None = None
) -> tuple[JsonlReader | ParquetReader, Manifest | None]:
    """The reader for an export and its manifest (None when there is none: a hand-made local file)."""
    where = (
        location
        if isinstance(location, ExportLocation)
        else ExportLocation.open(location, storage_endpoint=storage_endpoint)
    )
    manifest = read_manifest(where)
    if manifest is None:
        return _without_manifest(where), None
    _check_parts(where, manifest)
    if manifest.output_format == "parquet":
        return ParquetReader(where.root, parts=manifest.parts), manifest
    segments = manifest.jsonl_segments()
    files = [part.path for part in manifest.parts]
    return JsonlReader(storage=manifest.part_base(where), files=files, segments=segments), manifest


def _without_manifest(where: ExportLocation) -> JsonlReader | ParquetReader:
    if not where.is_local:
        if not where.exists():
            raise UsageError(f"{where} does not exist; give the location of a bulkops export")
        raise UsageError(
            f"{where} has no manifest ({where.manifest}), so it is not a finished bulkops export: an import "
            "from object storage reads only what a finished export's manifest lists (finish or resume the "
            "export)"
        )
    path = where.path
    if not path.exists():
        raise UsageError(
            f"{path} does not exist; give the path of a JSONL file or a Parquet export directory"
        )
    if detect_format(path) == "parquet":
        return ParquetReader(where.root)
    return JsonlReader(path)


def _check_parts(where: ExportLocation, manifest: Manifest) -> None:
    """Every part the manifest lists is there, at its size (one listing), before anything is read."""
    sizes = part_sizes(where, manifest)
    base = manifest.part_base(where)
    for part in manifest.parts:
        size = sizes.get(part.path)
        if size != part.bytes:
            state = "missing" if size is None else f"{size} bytes, not the {part.bytes} it lists"
            raise UsageError(
                f"{base.uri(part.path)} is {state} (the manifest {where.manifest} lists it): the export "
                "was changed after it finished; export it again"
            )
