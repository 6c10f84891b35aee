"""Parquet rows into stored records, validated by the upsert's own rules (``codec.check_record``).

The file format (Pinecone's "Import records" guide): ``id`` string (required), ``values`` list<float>
(required for a dense index), ``sparse_values`` struct<indices: list<uint32>, values: list<float>>,
``metadata`` a JSON object as a string; other columns are ignored. A wrong *column* (missing ``id``,
``values`` of strings) is a problem of the whole file (:func:`schema_problem`); a wrong *row* (an ID
too long, another dimension, NaN, bad metadata JSON) is rejected alone (:func:`convert_batch`), and the
import's ``errorMode`` decides what either costs.

Dense values go from the Parquet float32 buffer to the stored float32 bytes without ever becoming
Python floats, so they land bit for bit; ``list<double>`` is narrowed to float32 as an upsert would.
Runs in a worker thread: nothing here touches the index store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from bulkops.models import validate_record_id
from bulkops.server.codec import check_record
from bulkops.server.problems import ApiProblem
from bulkops.server.storage import StoredRecord

__all__ = ["Rows", "convert_batch", "schema_problem"]


@dataclass(slots=True)
class Rows:
    """One batch converted: the records to write and the rejected rows (index in batch, reason)."""

    records: list[StoredRecord] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _is_float_list(kind: Any) -> bool:
    listed = pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    return bool(listed and (pa.types.is_float32(kind.value_type) or pa.types.is_float64(kind.value_type)))


def _is_int_list(kind: Any) -> bool:
    return bool(
        (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and pa.types.is_integer(kind.value_type)
    )


def _is_text(kind: Any) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def schema_problem(schema: Any, dimension: int | None) -> str | None:
    """Why a file with ``schema`` cannot be imported into an index (``dimension`` None: sparse)."""
    names = set(schema.names)
    if "id" not in names:
        return "has no 'id' column (every row needs a string id)"
    if not _is_text(schema.field("id").type):
        return f"'id' must be a string column, not {schema.field('id').type}"
    if "values" in names and not _is_float_list(schema.field("values").type):
        return f"'values' must be list<float>, not {schema.field('values').type}"
    if dimension is not None and "values" not in names:
        return f"has no 'values' column; this dense index needs list<float> values of {dimension}"
    if "sparse_values" in names:
        kind = schema.field("sparse_values").type
        fields = (
            {kind.field(i).name: kind.field(i).type for i in range(kind.num_fields)}
            if pa.types.is_struct(kind)
            else {}
        )
        if not (
            _is_int_list(fields.get("indices", pa.null())) and _is_float_list(fields.get("values", pa.null()))
        ):
            return f"'sparse_values' must be struct<indices: list<uint32>, values: list<float>>, not {kind}"
    elif dimension is None:
        return "has no 'sparse_values' column; this sparse index needs sparse_values"
    if "metadata" in names and not _is_text(schema.field("metadata").type):
        return f"'metadata' must be a string column holding JSON objects, not {schema.field('metadata').type}"
    return None


def convert_batch(batch: Any, dimension: int | None) -> Rows:
    """The batch's rows as :class:`StoredRecord`; rows that an upsert would refuse go to ``rejected``."""
    count = batch.num_rows
    names = batch.schema.names
    ids = batch.column("id").to_pylist()
    dense = _dense_rows(batch.column("values"), count) if "values" in names else [None] * count
    sparse = batch.column("sparse_values").to_pylist() if "sparse_values" in names else [None] * count
    metadata = batch.column("metadata").to_pylist() if "metadata" in names else [None] * count
    rows = Rows()
    for i in range(count):
        try:
            rows.records.append(_record(ids[i], dense[i], sparse[i], metadata[i], dimension))
        except ValueError as exc:
            rows.rejected.append((i, str(exc)))
    return rows


def _dense_rows(column: Any, count: int) -> list[np.ndarray[Any, np.dtype[np.float32]] | None]:
    """Each row's values as a float32 view (None for a null row), without a Python float per value."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = column.flatten().to_numpy(zero_copy_only=False)  # null elements become NaN: refused below
    if flat.dtype != np.float32:
        flat = flat.astype(np.float32)
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    return [None if nulls[i] else flat[starts[i] : ends[i]] for i in range(count)]


def _record(
    record_id: Any,
    values: np.ndarray[Any, np.dtype[np.float32]] | None,
    sparse: Any,
    metadata_text: Any,
    dimension: int | None,
) -> StoredRecord:
    """The stored row, or ``ValueError`` with the reason an upsert of it would be refused."""
    if not isinstance(record_id, str):
        raise ValueError("the row has no id")
    problem = validate_record_id(record_id)  # checked here so the message names no upsert position
    if problem:
        raise ValueError(problem)
    metadata = _metadata(record_id, metadata_text)
    sparse_doc = {"indices": sparse.get("indices"), "values": sparse.get("values")} if sparse else None
    try:
        return check_record(record_id, values, sparse_doc, metadata, dimension, 0)
    except ApiProblem as refused:
        raise ValueError(f"record {record_id!r}: {refused.message}") from None


def _metadata(record_id: str, text: Any) -> Any:
    """The parsed metadata JSON (None for a null or empty cell); its content is checked by the upsert
    rules."""
    if text is None or text == "":
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"record {record_id!r}: metadata is not valid JSON ({exc})") from None
