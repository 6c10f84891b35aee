"""What an import checks before it sends anything: the export against the index, each record against it.

With ``on_error="stop"`` nothing after the first refused record may be written, and upserts run
several at once, so a record the index would refuse must be found before it is sent, not by the
server: the ID, the dimension and vector type the index was described with (``describe_index`` or the
index stats, before the first upsert), NaN and infinite values, and Pinecone's metadata rules. A
record refused anyway by the server (a rule not checked here) is isolated by halving its batch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from bulkops.errors import UsageError
from bulkops.jobs.target import IndexInfo
from bulkops.models import DenseValues, Record, validate_record_id
from bulkops.sinks.manifest import Manifest

__all__ = ["MAX_METADATA_BYTES", "IndexShape", "check_manifest", "record_problem"]

MAX_METADATA_BYTES = 40 * 1024  # Pinecone's limit per record
_MAX_SPARSE_INDEX = 2**32


@dataclass(frozen=True, slots=True)
class IndexShape:
    """The index as its records must fit it; None where it could not be learned (not checked then)."""

    dimension: int | None
    vector_type: str | None  # "dense" | "sparse"

    @classmethod
    def of(cls, info: IndexInfo) -> IndexShape:
        vector_type = info.vector_type or ("dense" if info.dimension else None)
        return cls(info.dimension if vector_type != "sparse" else None, vector_type)


def check_manifest(manifest: Manifest, shape: IndexShape, source: Path | str) -> None:
    """Refuse an import every record of which the index would reject (nothing is sent)."""
    if not manifest.include_values and manifest.index.get("vector_type", "dense") == "dense":
        raise UsageError(
            f"{source} was exported without values (include_values=False); it cannot be upserted"
        )
    want = manifest.index.get("dimension")
    if want and shape.dimension and int(want) != shape.dimension:
        raise UsageError(
            f"{source} holds vectors of dimension {want} but the target index has dimension "
            f"{shape.dimension}; import into an index of the same dimension"
        )


def record_problem(record: Record, shape: IndexShape) -> str | None:
    """Why the index would refuse ``record``, or None. Cheap: one C-level sum per vector, no copies."""
    problem = validate_record_id(record.id)
    if problem is not None:
        return problem
    values = record.values
    if shape.vector_type == "sparse":
        if len(values):
            return f"the record has {len(values)} dense values; the index is sparse (sparse values only)"
        if record.sparse_values is None:
            return "the record has no sparse values; the index is sparse"
    elif shape.vector_type == "dense":
        if not len(values):
            return "the record has no values; the index is dense" + (
                f" with dimension {shape.dimension}" if shape.dimension else ""
            )
        if shape.dimension and len(values) != shape.dimension:
            return f"the record has {len(values)} values; the index has dimension {shape.dimension}"
    if len(values):
        problem = _values_problem(values)
        if problem is not None:
            return problem
    if record.sparse_values is not None:
        problem = _sparse_problem(record)
        if problem is not None:
            return problem
    if record.metadata:
        return _metadata_problem(record.metadata)
    return None


def _values_problem(values: DenseValues) -> str | None:
    """NaN, infinities and non-numbers, in one C-level pass: a float32 array is summed in float64 (no
    Python object per element, and no overflow: the sum of float32 values fits a float64)."""
    try:
        total = float(values.sum(dtype=np.float64)) if isinstance(values, np.ndarray) else sum(values)
    except TypeError:
        return "the values must all be numbers"
    if not math.isfinite(total):
        return "the values hold NaN or an infinite number"
    return None


def _sparse_problem(record: Record) -> str | None:
    sparse = record.sparse_values
    assert sparse is not None
    indices, values = sparse.indices, sparse.values
    if len(indices) != len(values):
        return f"the sparse values have {len(indices)} indices but {len(values)} values"
    if not indices:
        return None
    if len(set(indices)) != len(indices):
        return "the sparse indices hold duplicates"
    if min(indices) < 0 or max(indices) >= _MAX_SPARSE_INDEX:
        return "a sparse index is outside 0..2^32-1"
    problem = _values_problem(values)
    return f"the sparse {problem[4:]}" if problem is not None else None


def _metadata_problem(metadata: Mapping[str, Any]) -> str | None:
    for key, value in metadata.items():
        if isinstance(value, str | bool | int | float) or (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            continue
        return (
            f"metadata field {key!r} holds an unsupported value; use a string, number, boolean or list of "
            "strings"
        )
    size = len(orjson.dumps(metadata))
    if size > MAX_METADATA_BYTES:
        return (
            f"the metadata is {size} bytes as JSON; Pinecone allows at most {MAX_METADATA_BYTES} per record"
        )
    return None
