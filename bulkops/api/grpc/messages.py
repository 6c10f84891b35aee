"""Conversions between the VectorService messages and bulkops values, with no Python float per element.

Dense vectors go from the wire to a read-only float32 array view and from an array to the wire with one
copy (:mod:`bulkops.protos.codec`); metadata goes through the codec's Struct conversions, which print
integral numbers as integers as Pinecone's REST API does. Answers that the REST client returns as wire
JSON (index stats, namespace descriptions) are returned in that same JSON shape, so a caller cannot tell
which transport answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bulkops.models import DEFAULT_NAMESPACE, FetchPage, IdPage, Record, SparseValues, float32_values
from bulkops.models import shortest_floats as _shortest
from bulkops.protos import vector_service_pb2 as pb
from bulkops.protos.codec import (
    field_size,
    struct_from_dict,
    struct_size,
    struct_to_dict,
    varint_size,
    vector_values,
)

__all__ = [
    "fetch_page",
    "id_page",
    "index_stats_json",
    "namespace_json",
    "namespace_name",
    "record_from_vector",
    "records_from_vectors",
    "upsert_entry_size",
    "upsert_request",
]

_DEFAULT_ALIAS = "__default__"


def namespace_name(name: str) -> str:
    """The namespace as a request field naming it: the default namespace is ``__default__``."""
    return name if name != DEFAULT_NAMESPACE else _DEFAULT_ALIAS


def _fill_vector(vector: Any, record: Record) -> None:
    vector.id = record.id
    if len(record.values):
        vector.values = float32_values(record.values).tobytes()
    if record.sparse_values is not None:
        vector.sparse_values.indices.extend(record.sparse_values.indices)
        vector.sparse_values.values.extend(record.sparse_values.values)
    if record.metadata:
        struct_from_dict(record.metadata, into=vector.metadata)


def upsert_request(records: Sequence[Record], namespace: str) -> pb.UpsertRequest:
    """An UpsertRequest; each dense vector is copied once, from its float32 array into the message."""
    request = pb.UpsertRequest(namespace=namespace)
    add = request.vectors.add
    for record in records:
        _fill_vector(add(), record)
    return request


def upsert_entry_size(record: Record) -> int:
    """Bytes ``record`` adds to an UpsertRequest (its Vector with tag and length), without encoding it:
    what an import cuts batches by, since the 2 MB limit applies to the serialized request."""
    size = field_size(len(record.id.encode()))
    if len(record.values):
        size += field_size(4 * len(record.values))
    if record.metadata:
        size += field_size(struct_size(record.metadata))
    sparse = record.sparse_values
    if sparse is not None and (len(sparse.indices) or len(sparse.values)):
        indices = sum(varint_size(int(i)) for i in sparse.indices)
        inner = (field_size(indices) if len(sparse.indices) else 0) + (
            field_size(4 * len(sparse.values)) if len(sparse.values) else 0
        )
        size += field_size(inner)
    return field_size(size)


def record_from_vector(key: str, vector: pb.Vector) -> Record:
    """A Record whose values are a read-only float32 view of the message's packed floats."""
    values = vector_values(vector)
    sparse = None
    if vector.HasField("sparse_values"):
        sparse = SparseValues(
            list(vector.sparse_values.indices), _shortest(list(vector.sparse_values.values))
        )
    metadata = struct_to_dict(vector.metadata) if vector.HasField("metadata") else None
    return Record(vector.id or key, values if len(values) else (), sparse, metadata or None)


def records_from_vectors(vectors: Mapping[str, pb.Vector]) -> dict[str, Record]:
    """Every vector of a fetch answer as a Record. Walked by key: a protobuf map's ``items()`` is a
    Python-level mixin, one generator step per record on the export's hot path."""
    return {key: record_from_vector(key, vectors[key]) for key in vectors}


def _next_token(message: Any) -> str | None:
    if message.HasField("pagination") and message.pagination.next:
        return str(message.pagination.next)
    return None


def id_page(response: pb.ListResponse) -> IdPage:
    """``vectors[].id`` in the server's order; a missing or empty ``next`` ends the walk."""
    return IdPage(tuple(item.id for item in response.vectors), _next_token(response))


def fetch_page(response: pb.FetchByMetadataResponse) -> FetchPage:
    extra: dict[str, Any] = {}
    if response.HasField("usage") and response.usage.HasField("read_units"):
        extra["usage"] = {"readUnits": response.usage.read_units}
    records = tuple(records_from_vectors(response.vectors).values())
    return FetchPage(records, _next_token(response), response.namespace, extra)


def index_stats_json(response: pb.DescribeIndexStatsResponse) -> dict[str, Any]:
    """The REST answer's JSON (``namespaces.<ns>.vectorCount``, ``totalVectorCount``, ...)."""
    doc: dict[str, Any] = {
        "namespaces": {
            ns: {"vectorCount": summary.vector_count} for ns, summary in response.namespaces.items()
        },
        "indexFullness": response.index_fullness,
        "totalVectorCount": response.total_vector_count,
    }
    for field, key in (
        ("dimension", "dimension"),
        ("metric", "metric"),
        ("vector_type", "vectorType"),
        ("memory_fullness", "memoryFullness"),
        ("storage_fullness", "storageFullness"),
    ):
        if response.HasField(field):
            doc[key] = getattr(response, field)
    return doc


def namespace_json(description: pb.NamespaceDescription) -> dict[str, Any]:
    """A NamespaceDescription as the REST API (2025-10) spells it (``record_count``, ``indexed_fields``)."""
    doc: dict[str, Any] = {"name": description.name, "record_count": description.record_count}
    if description.HasField("schema"):
        fields = description.schema.fields
        doc["schema"] = {"fields": {name: {"filterable": f.filterable} for name, f in fields.items()}}
    if description.HasField("indexed_fields"):
        doc["indexed_fields"] = {"fields": list(description.indexed_fields.fields)}
    return doc
