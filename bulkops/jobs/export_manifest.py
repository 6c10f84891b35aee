"""What an export's manifest says: the source index (whatever could be learned) and what was written."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.jobs.export_spec import ExportSpec
from bulkops.sinks.base import RecordSink
from bulkops.sinks.manifest import Manifest, NamespaceEntry

__all__ = ["IndexInfo", "build_manifest", "describe_source"]


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What the manifest records about the source index (whatever could be learned)."""

    name: str | None
    host: str
    dimension: int | None
    metric: str | None
    vector_type: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "dimension": self.dimension,
            "metric": self.metric,
            "vector_type": self.vector_type,
        }


async def describe_source(dp: DataPlane, *, name: str | None, client: Any) -> IndexInfo:
    stats: Mapping[str, Any] = {}
    with contextlib.suppress(Exception):
        stats = await dp.describe_index_stats()
    dimension = stats.get("dimension")
    metric = stats.get("metric")
    vector_type = stats.get("vectorType") or stats.get("vector_type")
    if client is not None and name is not None and (dimension is None or metric is None):
        with contextlib.suppress(Exception):
            described = await client.control.describe_index(name)
            dimension = dimension or described.get("dimension")
            metric = metric or described.get("metric")
            vector_type = vector_type or described.get("vector_type")
    return IndexInfo(
        name=name,
        host=dp.host,
        dimension=int(dimension) if dimension else None,
        metric=str(metric) if metric else None,
        vector_type=str(vector_type or "dense"),
    )


def build_manifest(
    sink: RecordSink, fmt: str, info: Mapping[str, Any], names: list[str], spec: ExportSpec, clock: Clock
) -> Manifest:
    parts = sink.parts()
    counts: dict[str, int] = dict.fromkeys(names, 0)
    first_line: dict[str, int] = {}
    if fmt == "jsonl":
        for ns, first, count in sink.segments():  # type: ignore[attr-defined]
            counts[ns] = counts.get(ns, 0) + count
            first_line.setdefault(ns, first)
    else:
        for part in parts:
            counts[part.namespace or ""] = counts.get(part.namespace or "", 0) + part.rows
    entries = tuple(
        NamespaceEntry(ns, counts[ns], first_line.get(ns) if fmt == "jsonl" else None) for ns in counts
    )
    if fmt == "jsonl":
        entries = tuple(e if e.first_line is not None else replace(e, first_line=0) for e in entries)
    return Manifest(
        output_format=fmt,
        index=info,
        namespaces=entries,
        parts=tuple(parts),
        total=sum(counts.values()),
        source={"kind": spec.kind, "prefix": spec.prefix, "filter": spec.filter},
        include_values=spec.include_values,
        include_metadata=spec.include_metadata,
        created_at=clock.wall(),
    )
