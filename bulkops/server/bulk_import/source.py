"""One import file read batch by batch through :mod:`bulkops.storage` (every call blocks: the job
runs each in a worker thread, so reading never holds up the event loop).

A file that is not Parquet, or whose columns are wrong, is a *file problem* (the job skips the file in
``continue`` mode and fails in ``abort`` mode); a file that cannot be read at all (the store went away)
is an :class:`ImportFailure` in either mode.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bulkops.errors import BulkopsError
from bulkops.server.bulk_import.failure import ImportFailure
from bulkops.server.bulk_import.layout import ImportFile
from bulkops.server.bulk_import.rows import Rows, convert_batch, schema_problem
from bulkops.storage import Storage
from bulkops.storage.diagnosis import scrub

__all__ = ["BATCH_BYTES", "FileRows", "batch_rows_for"]

BATCH_BYTES = 1024 * 1024  # dense values per batch: small steps keep each write on the loop short


def batch_rows_for(dimension: int | None) -> int:
    """Rows per batch: about ``BATCH_BYTES`` of float32 values, between 64 and 1000 rows."""
    if not dimension:
        return 1000
    return max(64, min(1000, BATCH_BYTES // (4 * dimension)))


class FileRows:
    """The rows of one file. :meth:`open` first (it reads the footer), then :meth:`next` until None."""

    def __init__(self, storage: Storage, item: ImportFile, dimension: int | None) -> None:
        self.item = item
        self.where = str(storage.uri(item.path))
        self.total_rows = 0
        self.rows_read = 0
        self._storage = storage
        self._dimension = dimension
        self._batches: Any = None

    def open(self) -> str | None:
        """Read the footer; the file problem (a sentence) if the file cannot be imported."""
        try:
            handle = pq.ParquetFile(self._storage.open_input(self.item.path))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            return f"is not a readable Parquet file ({scrub(str(exc)).splitlines()[0][:200]})"
        except (BulkopsError, OSError) as exc:
            raise ImportFailure(f"{self.where} could not be read: {scrub(str(exc))}") from None
        problem = schema_problem(handle.schema_arrow, self._dimension)
        if problem is not None:
            return problem
        self.total_rows = int(handle.metadata.num_rows)
        wanted = [n for n in ("id", "values", "sparse_values", "metadata") if n in handle.schema_arrow.names]
        self._batches = handle.iter_batches(batch_size=batch_rows_for(self._dimension), columns=wanted)
        return None

    def next(self) -> Rows | None:
        """The next batch, converted; None at the end of the file."""
        try:
            batch = next(self._batches, None)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ImportFailure(f"{self.where} is damaged: {scrub(str(exc)).splitlines()[0][:200]}") from None
        except OSError as exc:
            raise ImportFailure(f"{self.where} could not be read: {scrub(str(exc))}") from None
        if batch is None:
            return None
        rows = convert_batch(batch, self._dimension)
        rows.rejected = [(self.rows_read + i, why) for i, why in rows.rejected]
        self.rows_read += batch.num_rows
        return rows
