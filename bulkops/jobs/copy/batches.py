"""Cutting fetched records into upsert requests for the destination: at most 1000 records and 2 MB.

The 2 MB limit is on the request as sent, which differs by wire: protobuf carries 4 bytes per float
and metadata as a Struct (about 1.1 × its JSON, measured); REST carries every float as its shortest
decimal text (about 11 characters for float32 values, measured). Sizes are estimated from that without
encoding the request twice: the values' JSON length of the first record of each cut is measured and
taken for the others (with a margin), metadata is measured as JSON. A request the server still finds
too large is halved (:func:`bulkops.jobs.copy.run.CopyRun.upsert`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import orjson

from bulkops.models import MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES, Record, float32_values

__all__ = ["MAX_REQUEST_BYTES", "UpsertBatch", "cut_upserts", "wire_bytes"]

MAX_REQUEST_BYTES = int(MAX_UPSERT_BYTES * 0.95)  # the estimate's margin
_RECORD_OVERHEAD = 48  # field tags, lengths, the id's quotes and keys
_PROTO_METADATA = 1.25  # protobuf Struct ÷ JSON, with margin (measured 1.1)
_JSON_FLOAT_MARGIN = 1.05


def _json_chars_per_float(record: Record) -> float:
    values = record.values
    if not len(values):
        return 12.0
    text = orjson.dumps(float32_values(values), option=orjson.OPT_SERIALIZE_NUMPY)
    return len(text) / len(values) * _JSON_FLOAT_MARGIN


def wire_bytes(record: Record, *, grpc: bool, chars_per_float: float) -> int:
    """An estimate (slightly high) of ``record``'s bytes in an upsert request on that wire."""
    floats = len(record.values)
    sparse = record.sparse_values
    indices = len(sparse.indices) if sparse is not None else 0
    metadata = len(orjson.dumps(dict(record.metadata))) if record.metadata else 0
    if grpc:
        body = 4 * floats + 9 * indices + int(metadata * _PROTO_METADATA)
    else:
        body = int(chars_per_float * (floats + indices)) + 11 * indices + metadata
    return body + len(record.id) + _RECORD_OVERHEAD


@dataclass(slots=True)
class UpsertBatch:
    """Records for one upsert request, and their estimated bytes on the wire."""

    records: list[Record]
    size: int


def cut_upserts(
    records: Sequence[Record], *, grpc: bool, max_bytes: int = MAX_REQUEST_BYTES
) -> Iterator[UpsertBatch]:
    """Consecutive runs of ``records`` of at most 1000 records and ``max_bytes`` (estimated) each."""
    if not records:
        return
    chars = _json_chars_per_float(records[0]) if not grpc else 0.0
    batch = UpsertBatch([], 0)
    for record in records:
        weight = wire_bytes(record, grpc=grpc, chars_per_float=chars)
        if batch.records and (len(batch.records) >= MAX_IDS_PER_REQUEST or batch.size + weight > max_bytes):
            yield batch
            batch = UpsertBatch([], 0)
        batch.records.append(record)
        batch.size += weight
    if batch.records:
        yield batch
