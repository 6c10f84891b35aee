"""Between gRPC messages and the operations' values: requests in, answers out, no float loops.

A stored vector (float32 bytes) goes into a message's ``bytes`` values field as it is, and an
upserted one comes out of it as a float32 view. A fetch answer is assembled from bytes: each record
is encoded once as a one-entry ``FetchResponse`` (the map entry ``vectors[id]``, field 1) and cached
by the store like REST's JSON; concatenated protobuf messages merge, so the answer is those entries
joined, followed by the encoded namespace and usage. ``FetchByMetadataResponse`` declares its
``vectors`` map with the same number and type, so the same cached entries serve it. An entry is
itself joined from its fields' bytes at once: the stored vector is never copied into a message and
out again, and only the metadata is built as a message (a ``Struct``); the bytes are those protobuf
writes for the whole entry.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from google.protobuf import message as protobuf_message
from google.protobuf import struct_pb2

from bulkops.protos import vector_service_pb2 as pb
from bulkops.protos.codec import struct_from_dict, struct_to_dict, varint, vector_values
from bulkops.server.codec import check_record
from bulkops.server.problems import ApiProblem
from bulkops.server.storage import AnswerEncoding, StoredRecord

__all__ = [
    "PROTO_ANSWER",
    "dense_or_none",
    "parse",
    "record_from_proto",
    "scored_vector",
    "sparse_doc",
    "struct_or_none",
]

_M = TypeVar("_M", bound=protobuf_message.Message)


def parse(cls: type[_M], raw: bytes) -> _M:
    """The request message, or INVALID_ARGUMENT when the bytes are not one."""
    try:
        return cls.FromString(raw)
    except protobuf_message.DecodeError:
        raise ApiProblem(
            400, f"The request is not a valid {cls.DESCRIPTOR.name} message (protobuf decoding failed)."
        ) from None


def struct_or_none(message: protobuf_message.Message, field: str) -> dict[str, Any] | None:
    """A Struct field as a JSON-like dict, or None when the sender did not set it."""
    if not message.HasField(field):
        return None
    value: struct_pb2.Struct = getattr(message, field)
    return struct_to_dict(value)


def sparse_doc(message: protobuf_message.Message, field: str) -> dict[str, Any] | None:
    """A SparseValues field as ``{"indices", "values"}`` (what the shared checks take), or None."""
    if not message.HasField(field):
        return None
    sparse: pb.SparseValues = getattr(message, field)
    return {"indices": list(sparse.indices), "values": list(sparse.values)}


def dense_or_none(message: protobuf_message.Message, field: str, number: int, what: str) -> Any:
    """A packed float field as a float32 array, None when empty; 400 if its length is not 4·n."""
    try:
        values = vector_values(message, field, number)
    except ValueError as exc:
        raise ApiProblem(400, f"{what}: {exc}.") from None
    return values if len(values) else None


def record_from_proto(vector: pb.Vector, dimension: int | None, position: int) -> StoredRecord:
    """One vector of an UpsertRequest, checked exactly as a REST one; its metadata is also kept as
    the Struct it came as, which a gRPC fetch sends back as it is."""
    record = check_record(
        vector.id,
        dense_or_none(vector, "values", 2, f"Vector {vector.id!r} values"),
        sparse_doc(vector, "sparse_values"),
        struct_or_none(vector, "metadata"),
        dimension,
        position,
    )
    if record.metadata is None:
        return record
    return record._replace(metadata_pb=vector.metadata.SerializeToString())


def _fill(target: pb.Vector | pb.ScoredVector, record: StoredRecord, *, values: bool, metadata: bool) -> None:
    if values:
        if record.values is not None:
            target.values = record.values
        if record.sparse is not None:
            sparse = orjson.loads(record.sparse)
            target.sparse_values.indices.extend(sparse["indices"])
            target.sparse_values.values.extend(sparse["values"])
    if metadata and record.metadata is not None:
        target.metadata.update(orjson.loads(record.metadata))


def _fetch_entry(record: StoredRecord) -> bytes:
    """A one-entry ``FetchResponse``: field 1, the map entry ``{key: id, value: Vector}``, whose
    Vector holds id (1), values (2), metadata (3) and sparse values (4). Joined once, so the stored
    vector is copied once."""
    key = record.id.encode()
    vector = [b"\x0a", varint(len(key)), key]
    if record.values:
        vector += (b"\x12", varint(len(record.values)), record.values)
    if record.metadata is not None:
        struct = record.metadata_pb
        if struct is None:
            struct = struct_from_dict(orjson.loads(record.metadata)).SerializeToString()
        vector += (b"\x1a", varint(len(struct)), struct)
    if record.sparse is not None:
        doc = orjson.loads(record.sparse)
        sparse = pb.SparseValues(indices=doc["indices"], values=doc["values"]).SerializeToString()
        vector += (b"\x22", varint(len(sparse)), sparse)
    vector_size = sum(len(part) for part in vector)
    head = [b"\x0a", varint(len(key)), key, b"\x12", varint(vector_size)]
    entry_size = vector_size + sum(len(part) for part in head)
    return b"".join([b"\x0a", varint(entry_size), *head, *vector])


PROTO_ANSWER = AnswerEncoding("protobuf", _fetch_entry)


def scored_vector(record: StoredRecord, score: float, *, values: bool, metadata: bool) -> pb.ScoredVector:
    match = pb.ScoredVector(id=record.id, score=score)
    _fill(match, record, values=values, metadata=metadata)
    return match
