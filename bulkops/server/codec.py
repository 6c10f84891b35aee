"""Records between wire JSON and storage: validated on the way in, serialised without float loops.

Dense values become float32 bytes via numpy; on the way out they go back as numpy arrays that orjson
serialises natively, and stored metadata / sparse JSON is embedded as :class:`orjson.Fragment`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from bulkops.models import MAX_ID_LENGTH, Record, SparseValues, validate_record_id
from bulkops.protos.codec import struct_from_dict
from bulkops.server.filters import MAX_METADATA_BYTES, validate_metadata
from bulkops.server.problems import ApiProblem
from bulkops.server.storage import StoredRecord

__all__ = [
    "MAX_SPARSE_VALUES",
    "check_record",
    "dense_array",
    "record_from_json",
    "record_from_stored",
    "sparse_json",
    "stored_from_record",
    "wire_vector",
]

MAX_SPARSE_VALUES = 2048
MAX_DIMENSION = 20_000


def dense_array(values: Any, what: str) -> np.ndarray[Any, np.dtype[np.float32]]:
    """``values`` (a JSON array, or a float32 array from a gRPC message) as a finite float32 vector,
    or a 400 naming ``what`` was wrong."""
    if isinstance(values, np.ndarray):
        array = values.astype(np.float32, copy=False)
    elif isinstance(values, list):
        try:  # numpy infers the element kind in C: no per-float Python loop
            inferred = np.array(values)
        except (ValueError, TypeError):
            raise ApiProblem(400, f"{what} must be a flat array of numbers.") from None
        if inferred.ndim != 1 or (len(inferred) and inferred.dtype.kind not in "fiu"):
            raise ApiProblem(400, f"{what} must be a flat array of numbers.")
        array = inferred.astype(np.float32)
    else:
        raise ApiProblem(400, f"{what} must be an array of numbers.")
    if array.ndim != 1:
        raise ApiProblem(400, f"{what} must be a flat array of numbers.")
    if len(array) > MAX_DIMENSION:
        raise ApiProblem(400, f"{what} has {len(array)} values; at most {MAX_DIMENSION} are allowed.")
    if not np.isfinite(array).all():
        raise ApiProblem(400, f"{what} contains NaN or infinite values.")
    return array


def sparse_json(doc: Any, what: str) -> bytes:
    """Validated sparse values as compact JSON bytes ``{"indices": [...], "values": [...]}``."""
    if not isinstance(doc, dict) or "indices" not in doc or "values" not in doc:
        raise ApiProblem(400, f"{what} must be an object with 'indices' and 'values'.")
    indices, values = doc["indices"], doc["values"]
    if not isinstance(indices, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2**32 for i in indices
    ):
        raise ApiProblem(400, f"{what}.indices must be an array of non-negative 32-bit integers.")
    floats = dense_array(values, f"{what}.values")
    if len(indices) != len(floats):
        raise ApiProblem(
            400, f"{what}: indices and values must have the same length ({len(indices)} != {len(floats)})."
        )
    if len(indices) > MAX_SPARSE_VALUES:
        raise ApiProblem(400, f"{what} has {len(indices)} non-zero values; at most {MAX_SPARSE_VALUES}.")
    if len(set(indices)) != len(indices):
        raise ApiProblem(400, f"{what}.indices must not contain duplicates.")
    return orjson.dumps({"indices": indices, "values": floats}, option=orjson.OPT_SERIALIZE_NUMPY)


def check_record(
    record_id: Any, values: Any, sparse: Any, metadata: Any, dimension: int | None, position: int
) -> StoredRecord:
    """One upserted vector, from its parts as either transport decoded them, validated against the
    index (``dimension=None``: sparse index) and turned into the stored row.

    ``values`` is a JSON array or a float32 array (None or empty: no dense values); ``sparse`` is
    ``{"indices", "values"}``; ``metadata`` a JSON object. The checks and messages are the same for
    REST and gRPC.
    """
    if not isinstance(record_id, str):
        raise ApiProblem(400, f"vectors[{position}].id must be a string.")
    problem = validate_record_id(record_id)
    if problem:
        raise ApiProblem(400, f"vectors[{position}]: {problem}.")
    blob: bytes | None = None
    if len(values) if isinstance(values, np.ndarray) else values:
        array = dense_array(values, f"Vector {record_id!r} values")
        if dimension is None:
            raise ApiProblem(400, "Sparse index: send sparseValues only; dense values are not allowed.")
        if len(array) != dimension:
            raise ApiProblem(
                400, f"Vector dimension {len(array)} does not match the dimension of the index {dimension}"
            )
        blob = array.tobytes()
    elif dimension is not None:
        raise ApiProblem(400, f"Vector {record_id!r} has no values; this dense index needs {dimension}.")
    sparse_blob = sparse_json(sparse, f"Vector {record_id!r} sparseValues") if sparse is not None else None
    if dimension is None and sparse_blob is None:
        raise ApiProblem(400, f"Vector {record_id!r} needs sparseValues in a sparse index.")
    meta_blob: bytes | None = None
    if metadata is not None:
        problem = validate_metadata(record_id, metadata)
        if problem:
            raise ApiProblem(400, problem)
        if metadata:
            meta_blob = orjson.dumps(metadata)
            if len(meta_blob) > MAX_METADATA_BYTES:
                raise ApiProblem(
                    400,
                    f"Metadata size is {len(meta_blob)} bytes for record {record_id!r}, which exceeds the "
                    f"limit of {MAX_METADATA_BYTES} bytes per vector",
                )
    return StoredRecord(record_id, blob, sparse_blob, meta_blob)


def record_from_json(doc: Any, dimension: int | None, position: int) -> StoredRecord:
    """One vector of a REST upsert body (``{"id", "values", "sparseValues", "metadata"}``)."""
    if not isinstance(doc, dict):
        raise ApiProblem(400, f"vectors[{position}] must be an object with an 'id'.")
    return check_record(
        doc.get("id"), doc.get("values"), doc.get("sparseValues"), doc.get("metadata"), dimension, position
    )


def wire_vector(record: StoredRecord, *, values: bool = True, metadata: bool = True) -> dict[str, Any]:
    """The vector JSON for an answer; numpy arrays and fragments are serialised by orjson."""
    doc: dict[str, Any] = {"id": record.id}
    if values:
        if record.values is not None:
            doc["values"] = np.frombuffer(record.values, dtype=np.float32)
        else:
            doc["values"] = []
        if record.sparse is not None:
            doc["sparseValues"] = orjson.Fragment(record.sparse)
    if metadata and record.metadata is not None:
        doc["metadata"] = orjson.Fragment(record.metadata)
    return doc


def stored_from_record(record: Record) -> StoredRecord:
    """For direct seeding: trust the caller, skip per-record validation beyond the ID. The metadata is
    stored as JSON and as the ``Struct`` a gRPC fetch answers with, as a gRPC upsert stores it."""
    if len(record.id) > MAX_ID_LENGTH:
        raise ValueError(f"record ID too long: {record.id[:40]!r}")
    values = np.asarray(record.values, dtype=np.float32).tobytes() if len(record.values) else None
    sparse = (
        orjson.dumps(
            {"indices": list(record.sparse_values.indices), "values": list(record.sparse_values.values)}
        )
        if record.sparse_values is not None
        else None
    )
    doc = dict(record.metadata) if record.metadata else None
    meta = orjson.dumps(doc) if doc else None
    meta_pb = struct_from_dict(doc).SerializeToString() if doc else None
    return StoredRecord(record.id, values, sparse, meta, meta_pb)


def record_from_stored(stored: StoredRecord) -> Record:
    sparse: Mapping[str, Any] | None = orjson.loads(stored.sparse) if stored.sparse is not None else None
    return Record(
        id=stored.id,
        values=tuple(np.frombuffer(stored.values, dtype=np.float32).tolist()) if stored.values else (),
        sparse_values=SparseValues(tuple(sparse["indices"]), tuple(sparse["values"])) if sparse else None,
        metadata=orjson.loads(stored.metadata) if stored.metadata is not None else None,
    )
