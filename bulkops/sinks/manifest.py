"""The manifest written beside an export: what it holds and how to check it.

``out.jsonl`` gets ``out.jsonl.manifest.json``; ``out.parquet/`` gets ``out.parquet.manifest.json``.
It is written atomically once the export is complete, so its presence means the export finished.
It records the index's dimension, metric and vector type, the namespaces with their counts (and, for
JSONL, which lines belong to which namespace), and every part file with its row count and SHA-256.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bulkops.errors import UsageError
from bulkops.sinks._files import atomic_write_bytes, sha256_file
from bulkops.sinks.base import NamespaceEntry, PartInfo

__all__ = [
    "MANIFEST_FORMAT",
    "Manifest",
    "NamespaceEntry",
    "manifest_path",
    "read_manifest",
    "verify_parts",
    "write_manifest",
]

MANIFEST_FORMAT = "bulkops-export/1"


def manifest_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + ".manifest.json")


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

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "output_format": self.output_format,
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
        return cls(
            output_format=str(doc["output_format"]),
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
        )

    def jsonl_segments(self) -> list[tuple[str, int, int]]:
        return [(ns.name, ns.first_line, ns.count) for ns in self.namespaces if ns.first_line is not None]


def write_manifest(output: str | Path, manifest: Manifest) -> Path:
    path = manifest_path(output)
    atomic_write_bytes(path, orjson.dumps(manifest.to_json(), option=orjson.OPT_INDENT_2))
    return path


def read_manifest(output: str | Path) -> Manifest | None:
    """The manifest beside ``output``, or None if there is none (an unfinished or foreign export)."""
    path = manifest_path(output)
    if not path.is_file():
        return None
    try:
        return Manifest.from_json(orjson.loads(path.read_bytes()))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path} is not a readable export manifest: {exc}") from None


def verify_parts(root: str | Path, manifest: Manifest) -> list[str]:
    """Problems found checking each part's size and SHA-256 against the manifest (empty: all good)."""
    root = Path(root)
    base = root if manifest.output_format == "parquet" else root.parent
    problems = []
    for part in manifest.parts:
        path = base / part.path
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.stat().st_size != part.bytes:
            problems.append(f"{path}: {path.stat().st_size} bytes, manifest says {part.bytes}")
        elif sha256_file(path) != part.sha256:
            problems.append(f"{path}: SHA-256 differs from the manifest")
    return problems
