"""A plain pyarrow writer of Pinecone's bulk-import Parquet layout, for the harness and the SDK loops.

What a user of the official SDK writes to get a Parquet export: rows buffered per namespace and written
as part files ``<root>/<namespace dir>/part-NNNNN.parquet`` (columns ``id``, ``values`` list<float32>,
``metadata`` JSON string), one row group per part. The harness also writes import inputs with it, so
``bulkops import`` reads a directory bulkops did not write.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from bulkops.sinks.parquet import namespace_to_dir

__all__ = ["ParquetOut"]


class ParquetOut:
    """``with ParquetOut(root) as out: out.write(namespace, ids, values, metadata)``."""

    def __init__(self, root: Path, *, rows_per_part: int = 10_000) -> None:
        import pyarrow as pa

        self._pa = pa
        self._root = root
        self._rows_per_part = rows_per_part
        self._buffers: dict[str, list[tuple[list[str], npt.NDArray[np.float32], list[Any]]]] = {}
        self._buffered: dict[str, int] = {}
        self._parts: dict[str, int] = {}
        self._schema = pa.schema(
            [
                pa.field("id", pa.string(), nullable=False),
                pa.field("values", pa.list_(pa.float32())),
                pa.field("metadata", pa.string()),
            ]
        )
        root.mkdir(parents=True, exist_ok=True)

    def write(
        self,
        namespace: str,
        ids: Sequence[str],
        values: npt.NDArray[np.float32] | Sequence[Sequence[float]],
        metadata: Sequence[Any],
    ) -> None:
        matrix = np.asarray(values, dtype=np.float32).reshape(len(ids), -1)
        self._buffers.setdefault(namespace, []).append((list(ids), matrix, list(metadata)))
        self._buffered[namespace] = self._buffered.get(namespace, 0) + len(ids)
        if self._buffered[namespace] >= self._rows_per_part:
            self._flush(namespace)

    def _flush(self, namespace: str) -> None:
        import pyarrow.parquet as pq

        pieces = self._buffers.pop(namespace, [])
        self._buffered.pop(namespace, None)
        if not pieces:
            return
        pa = self._pa
        ids = [i for piece in pieces for i in piece[0]]
        matrix = np.concatenate([piece[1] for piece in pieces])
        width = matrix.shape[1]
        offsets = pa.array(np.arange(0, (len(ids) + 1) * width, width, dtype=np.int32))
        values = pa.ListArray.from_arrays(offsets, pa.array(matrix.reshape(-1)))
        metadata = [None if m is None else orjson.dumps(m).decode() for piece in pieces for m in piece[2]]
        table = pa.table(
            [pa.array(ids, pa.string()), values, pa.array(metadata, pa.string())], schema=self._schema
        )
        folder = self._root / namespace_to_dir(namespace)
        folder.mkdir(exist_ok=True)
        part = self._parts.get(namespace, 0)
        self._parts[namespace] = part + 1
        pq.write_table(table, folder / f"part-{part:05d}.parquet", row_group_size=len(ids))

    def close(self) -> None:
        for namespace in list(self._buffers):
            self._flush(namespace)

    def __enter__(self) -> ParquetOut:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
