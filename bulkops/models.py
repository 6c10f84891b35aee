"""Values that cross module boundaries: records, pages of IDs, and the wire JSON they map to.

Records use Pinecone's vector JSON (``id``, ``values``, ``sparseValues``, ``metadata``) on the wire
and in JSONL exports, so one line of an export can be upserted as it is.

A record's dense ``values`` are either a sequence of floats or a float32 numpy array
(:data:`Float32Array`): the gRPC data plane decodes packed floats straight into arrays (read-only views)
and encodes them back with one copy per vector, the REST fetch makes arrays of the floats it parsed,
and the Parquet reader gives views of its column buffer, so the hot path holds no Python float per
element.
Every consumer must accept both (``len(values)``, never ``bool(values)``, which numpy refuses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypeAlias, TypedDict

import numpy as np
import numpy.typing as npt
import orjson

__all__ = [
    "DEFAULT_NAMESPACE",
    "FLOAT32",
    "LIST_PAGE_IDS",
    "MAX_IDS_PER_REQUEST",
    "MAX_ID_LENGTH",
    "MAX_UPSERT_BYTES",
    "DenseValues",
    "FetchPage",
    "Float32Array",
    "IdPage",
    "Record",
    "SparseValues",
    "SparseValuesJSON",
    "VectorJSON",
    "float32_values",
    "same_values",
    "shortest_floats",
    "validate_record_id",
]

MAX_IDS_PER_REQUEST = 1000  # fetch, delete and upsert
LIST_PAGE_IDS = 100  # IDs per list page: the documented default, and what the bounds assume
MAX_UPSERT_BYTES = 2 * 1024 * 1024
MAX_ID_LENGTH = 512
DEFAULT_NAMESPACE = ""  # "__default__" is accepted as an alias from API 2025-04 on

FLOAT32 = np.dtype("<f4")
"""Little-endian float32: what Pinecone stores and what packed floats are on the gRPC wire."""
Float32Array: TypeAlias = npt.NDArray[np.float32]
DenseValues: TypeAlias = Sequence[float] | Float32Array
"""A record's dense vector: floats in any sequence, or a float32 array (see the module docstring)."""


def float32_values(values: DenseValues) -> Float32Array:
    """``values`` as a C-contiguous little-endian float32 array (no copy when it already is one)."""
    if isinstance(values, np.ndarray) and values.dtype == FLOAT32 and values.flags.c_contiguous:
        return values
    return np.ascontiguousarray(values, dtype=FLOAT32)


def same_values(a: DenseValues, b: DenseValues) -> bool:
    """Whether two dense vectors are equal. With an array on either side they are compared as the
    float32 vectors Pinecone would store; two plain sequences compare as they always did (``==``)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return len(a) == len(b) and bool(np.array_equal(float32_values(a), float32_values(b)))
    return a == b


def shortest_floats(values: DenseValues) -> list[float]:
    """float32 values as the Python floats a REST answer would carry for them.

    orjson writes each float32 in its shortest decimal form (what Pinecone's REST API sends); parsing
    that back gives the same Python floats, so an export line is the same whichever transport fetched
    the record, and ``float32(x)`` restores every value bit for bit.
    """
    encoded = orjson.dumps(float32_values(values), option=orjson.OPT_SERIALIZE_NUMPY)
    floats: list[float] = orjson.loads(encoded)
    return floats


class SparseValuesJSON(TypedDict):
    indices: list[int]
    values: list[float]


class VectorJSON(TypedDict):
    id: str
    values: NotRequired[list[float]]
    sparseValues: NotRequired[SparseValuesJSON]
    metadata: NotRequired[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SparseValues:
    indices: Sequence[int]
    values: Sequence[float]


@dataclass(frozen=True, slots=True, eq=False)
class Record:
    """One stored record. ``values`` empty means a sparse-only record.

    Equality compares ``values`` with :func:`same_values` (numpy arrays cannot be compared with ``==``
    inside a tuple, which is what the generated ``__eq__`` would do).
    """

    id: str
    values: DenseValues = ()
    sparse_values: SparseValues | None = None
    metadata: Mapping[str, Any] | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return (
            self.id == other.id
            and same_values(self.values, other.values)
            and self.sparse_values == other.sparse_values
            and self.metadata == other.metadata
        )

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def from_wire(cls, doc: Mapping[str, Any]) -> Record:
        sparse = doc.get("sparseValues")
        return cls(
            id=doc["id"],
            values=doc.get("values") or (),
            sparse_values=SparseValues(sparse["indices"], sparse["values"]) if sparse else None,
            metadata=doc.get("metadata") or None,
        )

    def to_wire(self, *, keep_arrays: bool = False) -> VectorJSON:
        """Pinecone's vector JSON. Array values become a list of floats, unless ``keep_arrays``: then the
        (float32, contiguous) array stays, for an encoder that writes numpy itself (orjson with
        ``OPT_SERIALIZE_NUMPY``, which writes each float in its shortest form)."""
        doc: VectorJSON = {"id": self.id}
        values = self.values
        if len(values):
            if not isinstance(values, np.ndarray):
                doc["values"] = list(values)
            elif keep_arrays:
                doc["values"] = float32_values(values)  # type: ignore[typeddict-item]
            else:
                doc["values"] = shortest_floats(values)
        if self.sparse_values is not None:
            doc["sparseValues"] = {
                "indices": list(self.sparse_values.indices),
                "values": list(self.sparse_values.values),
            }
        if self.metadata:
            doc["metadata"] = dict(self.metadata)
        return doc


@dataclass(frozen=True, slots=True)
class IdPage:
    """One page of ``list``: IDs in bitwise order, and the token of the next page (None at the end)."""

    ids: tuple[str, ...]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class FetchPage:
    """One page of ``fetch_by_metadata``."""

    records: tuple[Record, ...]
    next_token: str | None
    namespace: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def validate_record_id(record_id: str) -> str | None:
    """Why ``record_id`` is not a valid Pinecone ID (ASCII, no NUL, 1..512 chars), or None if it is."""
    if not record_id:
        return "a record ID must not be empty"
    if len(record_id) > MAX_ID_LENGTH:
        return f"record ID is {len(record_id)} characters long; Pinecone allows at most {MAX_ID_LENGTH}"
    if not record_id.isascii():
        return f"record ID {record_id[:40]!r} contains non-ASCII characters; Pinecone IDs are ASCII"
    if "\x00" in record_id:
        return f"record ID {record_id[:40]!r} contains a NUL character"
    return None
