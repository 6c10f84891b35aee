"""The manifest written beside an export: what it holds, how to check it, and whether it is finished.

``out.jsonl`` gets ``out.jsonl.manifest.json``; ``out.parquet/`` gets ``out.parquet.manifest.json``, in
the same folder, local or in an object store (:mod:`bulkops.sinks.location`). It records the index's
dimension, metric and vector type, the namespaces with their counts (and, for JSONL, which lines belong
to which namespace), the layout (one JSONL file, or a directory of parts) and every part with its row
count and SHA-256.

**Readers trust the manifest, not a listing.** An export writes an *unfinished* manifest (format
``bulkops-export-unfinished/1``, naming its checkpoint) before its first part, and the real one,
atomically, once everything is committed. So a part that was uploaded but never committed (a crash
between the upload and the checkpoint) is never read as data: a reader refuses an unfinished export,
and reads only the parts a finished manifest lists. Bulkops versions that predate the marker refuse it
too (an unknown format).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bulkops.errors import UsageError
from bulkops.sinks.base import NamespaceEntry, PartInfo
from bulkops.sinks.location import MANIFEST_SUFFIX, ExportLocation, Layout
from bulkops.storage import Storage

__all__ = [
    "MANIFEST_FORMAT",
    "UNFINISHED_FORMAT",
    "Manifest",
    "NamespaceEntry",
    "UnfinishedExportError",
    "manifest_path",
    "part_sizes",
    "read_manifest",
    "verify_parts",
    "write_manifest",
    "write_unfinished_marker",
]

MANIFEST_FORMAT = "bulkops-export/1"
UNFINISHED_FORMAT = "bulkops-export-unfinished/1"
_HASH_CHUNK = 1 << 20


class UnfinishedExportError(UsageError):
    """The export was started and never finished (or is running): its parts are not to be read."""


def manifest_path(output: str | Path) -> Path:
    """The manifest of a local export."""
    output = Path(output)
    return output.with_name(output.name + MANIFEST_SUFFIX)


def _location(
    output: str | os.PathLike[str] | ExportLocation, storage_endpoint: str | None = None
) -> ExportLocation:
    if isinstance(output, ExportLocation):
        return output
    return ExportLocation.open(output, storage_endpoint=storage_endpoint)


@dataclass(frozen=True, slots=True)
class Manifest:
    output_format: str  # "jsonl" | "parquet"
    index: Mapping[str, Any]  # name, host, dimension, metric, vector_type (whatever is known)
    namespaces: tuple[NamespaceEntry, ...]
    parts: tuple[PartInfo, ...]
    total: int
    source: Mapping[str, Any] = field(default_factory=dict)
    include_values: bool = True
    include_metadata: bool = True
    created_at: float = 0.0
    layout: Layout = "file"  # JSONL: one file, or parts (object stores); Parquet: always parts
    for_bulk_import: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "output_format": self.output_format,
            "layout": self.layout,
            "for_bulk_import": self.for_bulk_import,
            "created_at": self.created_at,
            "index": dict(self.index),
            "source": dict(self.source),
            "include_values": self.include_values,
            "include_metadata": self.include_metadata,
            "total": self.total,
            "namespaces": [
                {"name": ns.name, "count": ns.count}
                | ({"first_line": ns.first_line} if ns.first_line is not None else {})
                for ns in self.namespaces
            ],
            "parts": [p.to_json() for p in self.parts],
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Manifest:
        if doc.get("format") != MANIFEST_FORMAT:
            raise UsageError(f"not a bulkops export manifest (format {doc.get('format')!r})")
        output_format = str(doc["output_format"])
        layout = doc.get("layout") or ("parts" if output_format == "parquet" else "file")
        if layout not in ("file", "parts"):
            raise ValueError(f"unknown layout {layout!r}")
        return cls(
            output_format=output_format,
            index=dict(doc.get("index") or {}),
            namespaces=tuple(
                NamespaceEntry(str(n["name"]), int(n["count"]), n.get("first_line"))
                for n in doc.get("namespaces", [])
            ),
            parts=tuple(PartInfo.from_json(p) for p in doc.get("parts", [])),
            total=int(doc.get("total", 0)),
            source=dict(doc.get("source") or {}),
            include_values=bool(doc.get("include_values", True)),
            include_metadata=bool(doc.get("include_metadata", True)),
            created_at=float(doc.get("created_at", 0.0)),
            layout="parts" if layout == "parts" else "file",
            for_bulk_import=bool(doc.get("for_bulk_import", False)),
        )

    def jsonl_segments(self) -> list[tuple[str, int, int]]:
        return [(ns.name, ns.first_line, ns.count) for ns in self.namespaces if ns.first_line is not None]

    def part_base(self, location: ExportLocation) -> Storage:
        """Where the part paths are relative to: the export's directory, or (one JSONL file) its folder."""
        return location.parent if self.layout == "file" else location.root


def write_manifest(output: str | os.PathLike[str] | ExportLocation, manifest: Manifest) -> str:
    """Write the finished manifest (atomically: readers see the old one or the new one); where it is."""
    location = _location(output)
    data = orjson.dumps(manifest.to_json(), option=orjson.OPT_INDENT_2)
    location.parent.write_bytes(location.manifest_name, data)
    return location.manifest


def write_unfinished_marker(location: ExportLocation, *, output_format: str, checkpoint: str) -> None:
    """Say, before the first part is written, that this export is not finished (and how to finish it)."""
    doc = {"format": UNFINISHED_FORMAT, "output_format": output_format, "checkpoint": checkpoint}
    location.parent.write_bytes(location.manifest_name, orjson.dumps(doc, option=orjson.OPT_INDENT_2))


def read_manifest(
    output: str | os.PathLike[str] | ExportLocation, *, storage_endpoint: str | None = None
) -> Manifest | None:
    """The manifest beside ``output``; None if there is none (a foreign or hand-made file).

    An unfinished export raises :class:`UnfinishedExportError` naming the checkpoint that finishes it."""
    location = _location(output, storage_endpoint)
    try:
        raw = location.parent.read_bytes(location.manifest_name)
    except FileNotFoundError:
        return None
    try:
        doc = orjson.loads(raw)
        unfinished = isinstance(doc, dict) and doc.get("format") == UNFINISHED_FORMAT
        manifest = None if unfinished else Manifest.from_json(doc)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{location.manifest} is not a readable export manifest: {exc}") from None
    if manifest is None:
        checkpoint = doc.get("checkpoint")
        how = f"bulkops resume {checkpoint}" if checkpoint else "its checkpoint"
        raise UnfinishedExportError(
            f"{location} is an unfinished export (its manifest {location.manifest} says so); its parts "
            f"are not read until it is finished: resume it ({how}) or export again"
        )
    return manifest


def verify_parts(root: str | os.PathLike[str] | ExportLocation, manifest: Manifest) -> list[str]:
    """Problems found checking each part's size and SHA-256 against the manifest (empty: all good)."""
    location = _location(root)
    base = manifest.part_base(location)
    sizes = part_sizes(location, manifest)
    problems = []
    for part in manifest.parts:
        where = str(base.uri(part.path))
        if part.path not in sizes:
            problems.append(f"{where}: missing")
        elif sizes[part.path] != part.bytes:
            problems.append(f"{where}: {sizes[part.path]} bytes, manifest says {part.bytes}")
        elif _sha256(base, part.path) != part.sha256:
            problems.append(f"{where}: SHA-256 differs from the manifest")
    return problems


def part_sizes(location: ExportLocation, manifest: Manifest) -> dict[str, int]:
    """The size of every part the manifest lists that exists (one listing of the export's directory;
    one look at the file of a one-file JSONL export, never a listing of the folder around it)."""
    base = manifest.part_base(location)
    if manifest.layout == "file":
        found = (base.info(part.path) for part in manifest.parts)
        return {info.path: info.size for info in found if info is not None}
    return {item.path: item.size for item in base.list_files()}


def _sha256(storage: Storage, relative: str) -> str:
    digest = hashlib.sha256()
    stream = storage.open_input(relative)
    try:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    finally:
        stream.close()
    return digest.hexdigest()
