"""Control-plane answers in the shape of each API version.

* 2025-04: ``dimension/metric/spec.serverless{cloud,region}`` (the seed docs).
* 2025-10: as 2025-04, plus ``spec.serverless.read_capacity`` (required by that version's schema).
* 2026-07 and later: ``schema.fields._values`` / ``_sparse_values``, ``deployment``, top-level
  ``read_capacity`` — what the official SDK 10.x parses (it rejects the older shape).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bulkops.server.catalog import BackupMeta, IndexMeta, RestoreJobMeta

__all__ = ["backup_model", "index_model", "iso", "restore_job_model", "shape_for"]

_READ_CAPACITY = {"mode": "OnDemand", "status": {"state": "Ready"}}


def shape_for(version: str) -> str:
    if version >= "2026-07":
        return "2026-07"
    if version >= "2025-10":
        return "2025-10"
    return "2025-04"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _schema(dimension: int | None, metric: str, vector_type: str) -> dict[str, Any]:
    if vector_type == "sparse":
        return {"fields": {"_sparse_values": {"type": "sparse_vector"}}}
    return {"fields": {"_values": {"type": "dense_vector", "dimension": dimension, "metric": metric}}}


def index_model(meta: IndexMeta, host: str, now: float, version: str) -> dict[str, Any]:
    ready = now >= meta.ready_at
    status = {"ready": ready, "state": "Ready" if ready else "Initializing"}
    shape = shape_for(version)
    if shape == "2026-07":
        doc: dict[str, Any] = {
            "name": meta.name,
            "status": status,
            "schema": _schema(meta.dimension, meta.metric, meta.vector_type),
            "deployment": {"deployment_type": "managed", "cloud": meta.cloud, "region": meta.region},
            "deletion_protection": meta.deletion_protection,
            "host": host,
            "read_capacity": _READ_CAPACITY,
            "tags": meta.tags,
        }
        if meta.source_backup_id:
            doc["source_backup_id"] = meta.source_backup_id
        return doc
    serverless: dict[str, Any] = {"cloud": meta.cloud, "region": meta.region}
    if shape == "2025-10":
        serverless["read_capacity"] = _READ_CAPACITY
    doc = {
        "name": meta.name,
        "vector_type": meta.vector_type,
        "metric": meta.metric,
        "dimension": meta.dimension,
        "status": status,
        "host": host,
        "spec": {"serverless": serverless},
        "deletion_protection": meta.deletion_protection,
        "tags": meta.tags,
    }
    if meta.embed is not None:
        doc["embed"] = meta.embed
    return doc


def backup_model(meta: BackupMeta, now: float, version: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "backup_id": meta.backup_id,
        "source_index_id": meta.source_index_id,
        "source_index_name": meta.source_index_name,
        "tags": meta.tags,
        "name": meta.name,
        "description": meta.description,
        "status": "Ready" if now >= meta.ready_at else "Initializing",
        "cloud": meta.cloud,
        "region": meta.region,
        "dimension": meta.dimension,
        "metric": meta.metric,
        "record_count": meta.record_count,
        "namespace_count": meta.namespace_count,
        "size_bytes": meta.size_bytes,
        "created_at": iso(meta.created_at),
    }
    if meta.dimension is None:
        del doc["dimension"]
    if shape_for(version) == "2026-07":
        doc["schema"] = _schema(meta.dimension, meta.metric, meta.vector_type)
    return doc


def restore_job_model(meta: RestoreJobMeta, now: float) -> dict[str, Any]:
    span = max(meta.done_at - meta.created_at, 1e-9)
    done = now >= meta.done_at
    percent = 100.0 if done else round(max(0.0, min(99.0, (now - meta.created_at) / span * 100)), 1)
    doc: dict[str, Any] = {
        "restore_job_id": meta.restore_job_id,
        "backup_id": meta.backup_id,
        "target_index_name": meta.target_index_name,
        "target_index_id": meta.target_index_id,
        "status": "Completed" if done else ("Pending" if percent == 0 else "InProgress"),
        "created_at": iso(meta.created_at),
        "percent_complete": percent,
    }
    if done:
        doc["completed_at"] = iso(meta.done_at)
    return doc
