"""What an export's manifest says: the source index (whatever could be learned) and what was written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bulkops.clock import Clock
from bulkops.jobs.export.spec import ExportSpec
from bulkops.sinks.base import RecordSink
from bulkops.sinks.manifest import Manifest

__all__ = ["build_manifest"]


def build_manifest(
    sink: RecordSink, info: Mapping[str, Any], names: Sequence[str], spec: ExportSpec, clock: Clock
) -> Manifest:
    """The manifest of everything ``sink`` committed; every namespace in ``names`` is listed."""
    entries = sink.manifest_entries(names)
    selection = spec.selection
    return Manifest(
        output_format=sink.format,
        index=info,
        namespaces=entries,
        parts=tuple(sink.parts()),
        total=sum(e.count for e in entries),
        source={
            "kind": {"prefixes": "prefix", "everything": "prefix"}.get(selection.kind, selection.kind),
            "prefix": selection.prefixes[0] if len(selection.prefixes) == 1 else None,
            "prefixes": list(selection.prefixes),
            "filter": dict(selection.filter) if selection.filter is not None else None,
        },
        include_values=spec.include_values,
        include_metadata=spec.include_metadata,
        created_at=clock.wall(),
        layout="parts" if sink.layout == "parts" else "file",
        for_bulk_import=spec.for_bulk_import,
    )
