"""Records ↔ Arrow columns, with no Python object per float either way.

Writing: every record's dense values (a float32 array from gRPC, or floats from REST) are copied once
into one float32 buffer, and the ``values`` column is that buffer plus offsets (``list<float32>``);
sparse values likewise; metadata is one sorted-keys JSON string per record (:mod:`.encoding`).

Reading: a record's values are a read-only float32 view of its slice of the column's buffer (no copy;
the view keeps the batch's buffer alive), so an import hands arrays straight to the upsert encoder.
Columns a hand-made file may hold instead (``large_list``, ``fixed_size_list``, float64 elements,
null elements) are read too, with one conversion per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from bulkops.models import FLOAT32, Float32Array, Record, SparseValues, float32_values, shortest_floats
from bulkops.sinks.encoding import metadata_json

__all__ = ["Row", "arrow", "arrow_schema", "batch_records", "records_batch"]

Row = tuple[Record | None, str | None]
"""A record read from one row, or why the row is not one."""


def arrow() -> Any:
    """pyarrow (an extra: ``bulkops[parquet]``), imported on first use."""
    from bulkops.errors import UsageError

    try:
        import pyarrow
    except ImportError:  # pragma: no cover - depends on the installation
        raise UsageError("Parquet export/import needs pyarrow: pip install 'bulkops[parquet]'") from None
    return pyarrow


def arrow_schema(vector_type: str = "dense") -> Any:
    """The columns Pinecone's bulk import reads (a sparse index has no ``values`` column)."""
    pa = arrow()
    sparse = pa.struct(
        [pa.field("indices", pa.list_(pa.uint32())), pa.field("values", pa.list_(pa.float32()))]
    )
    fields = [pa.field("id", pa.string(), nullable=False)]
    if vector_type != "sparse":
        fields.append(pa.field("values", pa.list_(pa.float32())))
    fields += [pa.field("sparse_values", sparse), pa.field("metadata", pa.string())]
    return pa.schema(fields)


# -- writing ---------------------------------------------------------------------------------------


def _list_column(pieces: Sequence[npt.NDArray[Any] | None], dtype: Any, arrow_type: Any) -> Any:
    """``list<arrow_type>`` from one array per row (None: a null row), through one buffer + offsets."""
    pa = arrow()
    lengths = np.fromiter((0 if p is None else len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    offsets = np.zeros(len(pieces) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    present = [p for p in pieces if p is not None and len(p)]
    flat = np.concatenate(present) if present else np.empty(0, dtype=dtype)
    nulls = [p is None for p in pieces]
    mask = pa.array(nulls, type=pa.bool_()) if any(nulls) else None
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, type=arrow_type), mask=mask)


def _sparse_column(records: Sequence[Record], arrow_type: Any) -> Any:
    pa = arrow()
    if all(r.sparse_values is None for r in records):
        return pa.nulls(len(records), arrow_type)
    sparse = [r.sparse_values for r in records]
    indices = _list_column(
        [None if s is None else np.asarray(s.indices, dtype=np.uint32) for s in sparse],
        np.uint32,
        pa.uint32(),
    )
    values = _list_column(
        [None if s is None else np.asarray(s.values, dtype=FLOAT32) for s in sparse], FLOAT32, pa.float32()
    )
    mask = pa.array([s is None for s in sparse], type=pa.bool_())
    return pa.StructArray.from_arrays([indices, values], fields=list(arrow_type), mask=mask)


def records_batch(records: Sequence[Record], schema: Any) -> Any:
    """``records`` as one Arrow RecordBatch of ``schema`` (the records can be dropped afterwards)."""
    pa = arrow()
    columns = [pa.array([r.id for r in records], type=pa.string())]
    if "values" in schema.names:
        dense = [float32_values(r.values) if len(r.values) else None for r in records]
        columns.append(_list_column(dense, FLOAT32, pa.float32()))
    columns.append(_sparse_column(records, schema.field("sparse_values").type))
    metadata = [metadata_json(r.metadata) if r.metadata else None for r in records]
    columns.append(pa.array(metadata, type=pa.string()))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


# -- reading ---------------------------------------------------------------------------------------


def _dense_rows(column: Any) -> list[Float32Array | None]:
    """Per row: a float32 view of its values (None for a null row)."""
    pa = arrow()
    n = len(column)
    if pa.types.is_fixed_size_list(column.type):
        size = column.type.list_size
        flat_array = column.flatten()
        offsets: npt.NDArray[Any] = np.arange(n + 1, dtype=np.int64) * size
    else:
        flat_array = column.values  # the whole child: offsets index into it
        offsets = column.offsets.to_numpy()
    if flat_array.null_count or flat_array.type != pa.float32():
        # A hand-made file: null elements become NaN (the import's checks refuse the row).
        flat = np.asarray(flat_array.to_numpy(zero_copy_only=False), dtype=FLOAT32)
    else:
        flat = flat_array.to_numpy(zero_copy_only=True)
    valid = column.is_valid().to_numpy(zero_copy_only=False) if column.null_count else None
    return [flat[offsets[i] : offsets[i + 1]] if valid is None or valid[i] else None for i in range(n)]


def _column(batch: Any, name: str, convert: Callable[[Any], list[Any]]) -> list[Any]:
    if name not in batch.schema.names:
        return [None] * batch.num_rows
    column = batch.column(name)
    if column.null_count == len(column):
        return [None] * batch.num_rows
    return convert(column)


def batch_records(batch: Any) -> list[Row]:
    """Every row of a RecordBatch as a Record (values as float32 views), or the reason it is not one."""
    ids = batch.column("id").to_pylist()
    values = _column(batch, "values", _dense_rows)
    sparse = _column(batch, "sparse_values", lambda c: c.to_pylist())
    metadata = _column(batch, "metadata", lambda c: c.to_pylist())
    out: list[Row] = []
    for i, record_id in enumerate(ids):
        try:
            out.append((_record(record_id, values[i], sparse[i], metadata[i]), None))
        except ValueError as exc:
            out.append((None, str(exc)))
    return out


def _record(record_id: Any, values: Float32Array | None, sparse: Any, metadata_text: Any) -> Record:
    if not isinstance(record_id, str):
        raise ValueError("the row has no string 'id'")
    metadata = None
    if metadata_text:
        try:
            metadata = orjson.loads(metadata_text)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"'metadata' is not valid JSON ({exc})") from None
        if not isinstance(metadata, dict):
            raise ValueError("'metadata' must hold a JSON object")
    sparse_values = None
    if sparse:
        indices, sparse_floats = sparse.get("indices"), sparse.get("values")
        if indices is None or sparse_floats is None:
            raise ValueError("'sparse_values' needs both 'indices' and 'values'")
        sparse_values = SparseValues(list(indices), shortest_floats(sparse_floats))
    dense = values if values is not None and len(values) else ()
    return Record(id=record_id, values=dense, sparse_values=sparse_values, metadata=metadata)
