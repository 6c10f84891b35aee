"""Values that cross module boundaries: records, pages of IDs, and the wire JSON they map to.

Records use Pinecone's vector JSON (``id``, ``values``, ``sparseValues``, ``metadata``) on the wire
and in JSONL exports, so one line of an export can be upserted as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

__all__ = [
    "DEFAULT_NAMESPACE",
    "LIST_PAGE_IDS",
    "MAX_IDS_PER_REQUEST",
    "MAX_ID_LENGTH",
    "MAX_UPSERT_BYTES",
    "FetchPage",
    "IdPage",
    "Record",
    "SparseValues",
    "SparseValuesJSON",
    "VectorJSON",
    "validate_record_id",
]

MAX_IDS_PER_REQUEST = 1000  # fetch, delete and upsert
LIST_PAGE_IDS = 100  # IDs per list page: the documented default, and what the bounds assume
MAX_UPSERT_BYTES = 2 * 1024 * 1024
MAX_ID_LENGTH = 512
DEFAULT_NAMESPACE = ""  # "__default__" is accepted as an alias from API 2025-04 on


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


@dataclass(frozen=True, slots=True)
class Record:
    """One stored record. ``values`` empty means a sparse-only record."""

    id: str
    values: Sequence[float] = ()
    sparse_values: SparseValues | None = None
    metadata: Mapping[str, Any] | None = None

    @classmethod
    def from_wire(cls, doc: Mapping[str, Any]) -> Record:
        sparse = doc.get("sparseValues")
        return cls(
            id=doc["id"],
            values=doc.get("values") or (),
            sparse_values=SparseValues(sparse["indices"], sparse["values"]) if sparse else None,
            metadata=doc.get("metadata") or None,
        )

    def to_wire(self) -> VectorJSON:
        doc: VectorJSON = {"id": self.id}
        if self.values:
            doc["values"] = list(self.values)
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
