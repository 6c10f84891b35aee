"""Parquet export in the layout Pinecone's bulk import reads, written crash-consistently.

Layout: the output is a directory holding one sub-directory per namespace (``__default__`` for the
default namespace; other names percent-encoded so any namespace is a safe directory name), each with
part files ``part-00000.parquet``, ... Columns: ``id`` string, ``values`` list<float32>,
``sparse_values`` struct<indices: list<uint32>, values: list<float32>>, ``metadata`` JSON string
(sparse indexes have no ``values`` column). Row groups hold ``row_group_rows`` rows.

Durability: a part is written under a hidden temporary name and renamed when it is closed, so a
visible part is always complete. The sink's position is the list of closed parts (with row counts and
SHA-256), stored in the export checkpoint; ``truncate_to`` deletes every part not in that list and
every leftover temporary file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import orjson

from bulkops.errors import CheckpointError, UsageError
from bulkops.models import Record, SparseValues
from bulkops.sinks._files import fsync_dir, make_private_dir, open_private, sha256_file
from bulkops.sinks.base import NamespaceEntry, PartInfo, ReadItem, SinkPosition

__all__ = [
    "DEFAULT_NAMESPACE_DIR",
    "ParquetReader",
    "ParquetWriter",
    "arrow_schema",
    "namespace_from_dir",
    "namespace_to_dir",
]

DEFAULT_NAMESPACE_DIR = "__default__"
_PART_SUFFIX = ".parquet"


def _pa() -> Any:
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - depends on the installation
        raise UsageError("Parquet export/import needs pyarrow: pip install 'bulkops[parquet]'") from None
    return pyarrow


def _pq() -> Any:
    _pa()
    import pyarrow.parquet

    return pyarrow.parquet


def namespace_to_dir(namespace: str) -> str:
    """The directory name Pinecone's import maps to ``namespace``."""
    if namespace in ("", DEFAULT_NAMESPACE_DIR):
        return DEFAULT_NAMESPACE_DIR
    encoded = quote(namespace, safe="")
    return "%2E" + encoded[1:] if encoded.startswith(".") else encoded


def namespace_from_dir(name: str) -> str:
    return "" if name == DEFAULT_NAMESPACE_DIR else unquote(name)


def arrow_schema(vector_type: str = "dense") -> Any:
    pa = _pa()
    sparse = pa.struct(
        [pa.field("indices", pa.list_(pa.uint32())), pa.field("values", pa.list_(pa.float32()))]
    )
    fields = [pa.field("id", pa.string(), nullable=False)]
    if vector_type != "sparse":
        fields.append(pa.field("values", pa.list_(pa.float32())))
    fields += [pa.field("sparse_values", sparse), pa.field("metadata", pa.string())]
    return pa.schema(fields)


def _records_to_table(records: Sequence[Record], schema: Any) -> Any:
    pa = _pa()
    columns: dict[str, Any] = {"id": [r.id for r in records]}
    if "values" in schema.names:
        columns["values"] = [list(r.values) if len(r.values) else None for r in records]
    columns["sparse_values"] = [
        {"indices": list(r.sparse_values.indices), "values": list(r.sparse_values.values)}
        if r.sparse_values is not None
        else None
        for r in records
    ]
    columns["metadata"] = [orjson.dumps(dict(r.metadata)).decode() if r.metadata else None for r in records]
    return pa.Table.from_pydict(columns, schema=schema)


class _OpenPart:
    def __init__(self, namespace: str, final: Path, schema: Any, compression: str) -> None:
        self.namespace = namespace
        self.final = final
        self.tmp = final.with_name(f".{final.name}.tmp")
        self.rows = 0
        os.close(open_private(self.tmp, os.O_WRONLY | os.O_TRUNC))  # pyarrow's truncating open keeps 0600
        self.writer = _pq().ParquetWriter(str(self.tmp), schema, compression=compression)


class ParquetWriter:
    """Writes the directory layout above; see the module docstring for the commit protocol."""

    def __init__(
        self,
        root: str | Path,
        *,
        vector_type: str = "dense",
        commit_records: int = 100_000,
        row_group_rows: int = 10_000,
        compression: str = "snappy",
    ) -> None:
        self._root = Path(root)
        self._schema = arrow_schema(vector_type)
        self._rows_per_part = max(1, commit_records)
        self._row_group_rows = max(1, min(row_group_rows, self._rows_per_part))
        self._compression = compression
        self._buffer: list[Record] = []
        self._buffer_ns: str | None = None
        self._open: _OpenPart | None = None
        self._closed: list[PartInfo] = []  # durable files, committed or not
        self._committed: list[PartInfo] = []
        self._next_part = 0
        self._pending = 0

    @property
    def path(self) -> Path:
        return self._root

    @property
    def format(self) -> str:
        return "parquet"

    @property
    def pending(self) -> int:
        return self._pending

    def wants_commit(self, idle: float = 0.0) -> bool:
        """When a part file has been closed: committing sooner would close small parts (time is ignored)."""
        return len(self._closed) > len(self._committed)

    def truncate_to(self, position: SinkPosition | None) -> None:
        parts = [PartInfo.from_json(p) for p in (position or {}).get("parts", [])]
        keep = {p.path for p in parts}
        for part in parts:
            if not (self._root / part.path).is_file():
                raise CheckpointError(
                    f"the checkpoint lists {self._root / part.path} but it is missing: the export "
                    "directory was changed since; delete the checkpoint and start again"
                )
        if self._root.exists():
            for file in sorted(self._root.rglob("*")):
                rel = file.relative_to(self._root).as_posix()
                is_tmp = file.name.startswith(".") and file.name.endswith(".tmp")
                if file.is_file() and (is_tmp or (file.suffix == _PART_SUFFIX and rel not in keep)):
                    file.unlink()
                    fsync_dir(file.parent)
        make_private_dir(self._root)
        self._buffer.clear()
        self._buffer_ns = None
        self._open = None
        self._closed = list(parts)
        self._committed = list(parts)
        self._next_part = int((position or {}).get("next_part", 0))
        self._pending = 0

    def write(self, namespace: str, records: Sequence[Record]) -> None:
        if not records:
            return
        if self._buffer_ns is not None and namespace != self._buffer_ns:
            self._drain_buffer()
        self._buffer_ns = namespace
        self._buffer.extend(records)
        self._pending += len(records)
        while len(self._buffer) >= self._next_chunk():
            self._flush_rows(self._next_chunk())

    def _next_chunk(self) -> int:
        """Rows for the next row group: a full one, or what fills the open part."""
        room = self._rows_per_part - (self._open.rows if self._open else 0)
        return min(self._row_group_rows, room)

    def _drain_buffer(self) -> None:
        """Write every buffered row and close the open part (a namespace switch or a commit)."""
        while self._buffer:
            self._flush_rows(min(self._next_chunk(), len(self._buffer)))
        self._close_part()

    def _flush_rows(self, count: int) -> None:
        if not self._buffer or self._buffer_ns is None:
            return
        rows, self._buffer = self._buffer[:count], self._buffer[count:]
        if self._open is None:
            directory = self._root / namespace_to_dir(self._buffer_ns)
            if not directory.exists():
                make_private_dir(directory)
                fsync_dir(self._root)
            final = directory / f"part-{self._next_part:05d}{_PART_SUFFIX}"
            self._next_part += 1
            self._open = _OpenPart(self._buffer_ns, final, self._schema, self._compression)
        self._open.writer.write_table(_records_to_table(rows, self._schema), row_group_size=len(rows))
        self._open.rows += len(rows)
        if self._open.rows >= self._rows_per_part:
            self._close_part()

    def _close_part(self) -> None:
        part = self._open
        self._open = None
        if part is None:
            return
        part.writer.close()
        with open(part.tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        digest = sha256_file(part.tmp)
        size = part.tmp.stat().st_size
        os.replace(part.tmp, part.final)
        fsync_dir(part.final.parent)
        self._closed.append(
            PartInfo(
                path=part.final.relative_to(self._root).as_posix(),
                namespace=part.namespace,
                rows=part.rows,
                bytes=size,
                sha256=digest,
            )
        )

    def commit(self) -> SinkPosition:
        self._drain_buffer()
        self._committed = list(self._closed)
        self._pending = 0
        return {"parts": [p.to_json() for p in self._committed], "next_part": self._next_part}

    def parts(self) -> list[PartInfo]:
        return list(self._committed)

    def manifest_entries(self, namespaces: Sequence[str]) -> tuple[NamespaceEntry, ...]:
        """Per namespace: the rows of its committed parts."""
        counts: dict[str, int] = dict.fromkeys(namespaces, 0)
        for part in self._committed:
            name = part.namespace or ""
            counts[name] = counts.get(name, 0) + part.rows
        return tuple(NamespaceEntry(ns, n) for ns, n in counts.items())

    def close(self) -> None:
        """Abandon the open part (its rows were never committed); closed parts stay."""
        if self._open is not None:
            self._open.writer.close()
            self._open.tmp.unlink(missing_ok=True)
            self._open = None
        self._buffer.clear()


def _shortest(values: Any) -> list[float]:
    """float32 values as the Python floats their shortest decimal form gives (what the server sends).

    ``float(numpy.float32(0.1))`` is 0.10000000149011612: exact, but 19 characters in an upsert body.
    orjson writes a float32 array in shortest form; parsing that back gives ``0.1``, whose float32 is
    the same bits. Two C calls per column instead of a Python loop per value.
    """
    np = _np()
    array = np.asarray(values, dtype=np.float32)
    parsed: list[float] = orjson.loads(orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY))
    return parsed


def _np() -> Any:
    import numpy

    return numpy


def _list_column(batch: Any, name: str) -> list[list[float] | None]:
    """A list<float32> column as shortest-form Python floats per row (None for null rows)."""
    np = _np()
    column = batch.column(name)
    flat = _shortest(column.flatten().to_numpy(zero_copy_only=False))
    offsets = column.offsets.to_numpy()
    offsets = offsets - offsets[0]
    nulls = (
        column.is_null().to_numpy(zero_copy_only=False) if column.null_count else np.zeros(len(column), bool)
    )
    return [None if nulls[i] else flat[offsets[i] : offsets[i + 1]] for i in range(len(column))]


def _batch_to_records(batch: Any) -> list[tuple[Record | None, str | None]]:
    names = batch.schema.names
    ids = batch.column("id").to_pylist()
    values = _list_column(batch, "values") if "values" in names else [None] * len(ids)
    sparse = batch.column("sparse_values").to_pylist() if "sparse_values" in names else [None] * len(ids)
    metadata = batch.column("metadata").to_pylist() if "metadata" in names else [None] * len(ids)
    out: list[tuple[Record | None, str | None]] = []
    for i, record_id in enumerate(ids):
        try:
            out.append((_to_record(record_id, values[i], sparse[i], metadata[i]), None))
        except ValueError as exc:
            out.append((None, str(exc)))
    return out


def _to_record(record_id: Any, values: list[float] | None, sparse: Any, metadata_text: Any) -> Record:
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
        sparse_values = SparseValues(list(indices), _shortest(sparse_floats))
    return Record(id=record_id, values=values or (), sparse_values=sparse_values, metadata=metadata)


_IMPORT_LAYOUT = "a directory of NAMESPACE/part-*.parquet files with columns id, values (list of floats)"


def _refuse_part(path: Path) -> None:
    """Raise UsageError if ``path`` is not a Parquet file this reader can import (its footer only)."""
    pa, pq = _pa(), _pq()
    try:
        schema = pq.read_schema(str(path))
    except (pa.ArrowException, OSError) as exc:
        raise UsageError(f"{path} is not a readable Parquet file ({exc}); nothing was imported") from None
    columns = {field.name: field.type for field in schema}

    def floats(kind: Any) -> bool:
        return bool(
            (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind))
            and (pa.types.is_floating(kind.value_type) or pa.types.is_integer(kind.value_type))
        )

    problem = None
    if "id" not in columns:
        problem = "has no 'id' column"
    elif not (pa.types.is_string(columns["id"]) or pa.types.is_large_string(columns["id"])):
        problem = f"has an 'id' column of {columns['id']}, not strings"
    elif "values" in columns and not floats(columns["values"]):
        problem = f"has a 'values' column of {columns['values']}, not a list of floats"
    elif "values" not in columns and "sparse_values" not in columns:
        problem = "has neither a 'values' nor a 'sparse_values' column"
    if problem is not None:
        found = ", ".join(f"{name} ({kind})" for name, kind in columns.items())
        raise UsageError(
            f"{path} {problem} (it has: {found}); an import reads {_IMPORT_LAYOUT}. Nothing was imported"
        )


class ParquetReader:
    """Reads a Parquet export directory back: namespaces from directory names, parts in order.

    ``parts`` (the manifest's list) fixes the order and the set of files; without it every
    ``*.parquet`` under the root is read, directories and files in sorted order. Every part's columns
    are checked when the reader is made (footers only), so a file it cannot import is refused before
    anything is sent.
    """

    def __init__(
        self, root: str | Path, *, parts: Sequence[PartInfo] | None = None, batch_rows: int = 1000
    ) -> None:
        self._root = Path(root)
        self._batch_rows = batch_rows
        if not self._root.is_dir():
            what = "a single file" if self._root.is_file() else "not a directory"
            raise UsageError(f"{self._root} is {what}; a Parquet import reads {_IMPORT_LAYOUT}")
        if parts is None:
            found = sorted(
                p for p in self._root.rglob(f"*{_PART_SUFFIX}") if not p.name.startswith(".") and p.is_file()
            )
            self._files = [p.relative_to(self._root).as_posix() for p in found]
        else:
            self._files = [p.path for p in parts]
        if not self._files and parts is None:  # (a manifest may list no parts: an empty export)
            raise UsageError(f"{self._root} holds no Parquet part files; an import reads {_IMPORT_LAYOUT}")
        for rel in self._files:
            _refuse_part(self._root / rel)

    def __iter__(self) -> Iterator[ReadItem]:
        return self.items()

    def items(self, resume: SinkPosition | None = None) -> Iterator[ReadItem]:
        pq = _pq()
        start = int(resume["ordinal"]) if resume else 0
        ordinal = 0
        for rel in self._files:
            path = self._root / rel
            parent = Path(rel).parent.name
            namespace = namespace_from_dir(parent) if parent else None
            handle = pq.ParquetFile(str(path))
            rows = int(handle.metadata.num_rows)
            if ordinal + rows <= start:
                ordinal += rows
                continue
            row_in_part = 0
            for batch in handle.iter_batches(batch_size=self._batch_rows):
                n = batch.num_rows
                if ordinal + n <= start:
                    ordinal += n
                    row_in_part += n
                    continue
                for record, error in _batch_to_records(batch):
                    if ordinal >= start:
                        yield ReadItem(
                            ordinal=ordinal,
                            location=f"{rel} row {row_in_part}",
                            namespace=namespace,
                            record=record,
                            error=error,
                            resume={"ordinal": ordinal},
                        )
                    ordinal += 1
                    row_in_part += 1
