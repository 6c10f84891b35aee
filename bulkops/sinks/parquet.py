"""Parquet export in the layout Pinecone's bulk import reads, written crash-consistently.

Layout: the output is a directory holding one sub-directory per namespace (``__default__`` for the
default namespace; other names percent-encoded so any namespace is a safe directory name), each with
part files ``part-00000.parquet``, ... Columns: ``id`` string, ``values`` list<float32>,
``sparse_values`` struct<indices: list<uint32>, values: list<float32>>, ``metadata`` JSON string
(sparse indexes have no ``values`` column). Records become Arrow columns as they are written
(:mod:`.arrow_columns`: one float32 buffer per column, no Python float per element).

Sizes, by bytes as well as rows, so memory stays bounded at any dimension
(``docs/decisions/0008-export-encoding.md``): a row group holds at most ``row_group_rows`` rows and
``row_group_bytes`` of Arrow data (what is buffered before it is written); a part file closes at
``commit_records`` rows or ``part_bytes``. Values are written PLAIN with snappy: no dictionary (IDs are
unique and floats do not repeat, so building one only costs time) and statistics for ``id`` only.

Durability, on any store (:mod:`bulkops.storage`: a local directory, ``s3://``, ``gs://``): parts are
written by :class:`~bulkops.sinks.parts.PartFiles` (locally a hidden file, fsynced and renamed; on an
object store streamed to the final key), each part's SHA-256 computed as the bytes go out. The sink's
position is the list of closed parts (with row counts and SHA-256), stored in the export checkpoint;
``truncate_to`` deletes every part not in that list and every leftover of an interrupted writer. Every
file operation of the sink is in :class:`_PartFiles` (and :class:`_HashingStream`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, unquote

from bulkops.errors import UsageError
from bulkops.models import Record
from bulkops.sinks.arrow_columns import arrow, arrow_schema, batch_records, records_batch
from bulkops.sinks.base import NamespaceEntry, PartInfo, ReadItem, SinkPosition
from bulkops.sinks.parts import OpenPart, PartFiles, as_storage
from bulkops.sinks.read_ahead import close_reading, read_ahead
from bulkops.storage import Storage

__all__ = [
    "DEFAULT_NAMESPACE_DIR",
    "ParquetReader",
    "ParquetWriter",
    "arrow_schema",
    "namespace_from_dir",
    "namespace_to_dir",
]

DEFAULT_NAMESPACE_DIR = "__default__"
ROW_GROUP_BYTES = 32 << 20
PART_BYTES = 512 << 20
_PART_SUFFIX = ".parquet"


def _pq() -> Any:
    arrow()
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


def _column_codecs(schema: Any, compression: str) -> dict[str, str]:
    """``compression`` for every column but ``values``: embedding floats do not compress (snappy left a
    1536-dimension part the same size to 0.01 %) and compressing them cost ~1 ms of CPU per 1,000
    records. Readers see no difference: Parquet names the codec per column chunk."""
    return {name: "none" if name == "values" else compression for name in schema.names}


class _ParquetParts:
    """Every file operation of the Parquet sink: parts as Parquet writers on :class:`PartFiles`."""

    def __init__(self, storage: Storage, schema: Any, compression: str) -> None:
        self.files = PartFiles(storage, _PART_SUFFIX)
        self._schema = schema
        self._compression = compression

    def open(self, namespace: str, number: int) -> tuple[OpenPart, Any]:
        part = self.files.open(f"{namespace_to_dir(namespace)}/part-{number:05d}{_PART_SUFFIX}", namespace)
        writer = _pq().ParquetWriter(
            arrow().PythonFile(part.stream, mode="w"),
            self._schema,
            compression=_column_codecs(self._schema, self._compression),
            use_dictionary=False,
            write_statistics=["id"],
        )
        return part, writer

    def publish(self, part: OpenPart, writer: Any) -> PartInfo:
        """Write the footer, then give the part its final (visible) name."""
        writer.close()  # writes the footer; the stream stays open
        return self.files.publish(part)

    def abandon(self, part: OpenPart, writer: Any) -> None:
        try:
            writer.close()
        finally:
            self.files.abandon(part)


class ParquetWriter:
    """Writes the directory layout above; see the module docstring for sizes and the commit protocol."""

    def __init__(
        self,
        root: str | os.PathLike[str] | Storage,
        *,
        vector_type: str = "dense",
        commit_records: int = 100_000,
        row_group_rows: int = 10_000,
        row_group_bytes: int = ROW_GROUP_BYTES,
        part_bytes: int = PART_BYTES,
        compression: str = "snappy",
    ) -> None:
        self._storage = as_storage(root)
        self._schema = arrow_schema(vector_type)
        self._files = _ParquetParts(self._storage, self._schema, compression)
        self._rows_per_part = max(1, commit_records)
        self._row_group_rows = max(1, min(row_group_rows, self._rows_per_part))
        self._row_group_bytes = max(1, row_group_bytes)
        self._part_bytes = max(1, part_bytes)
        self._batches: list[Any] = []  # converted to Arrow, not yet written; all of one namespace
        self._batches_ns: str | None = None
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self._open: OpenPart | None = None
        self._writer: Any = None  # the open part's Parquet writer
        self._closed: list[PartInfo] = []  # durable files, committed or not
        self._committed: list[PartInfo] = []
        self._next_part = 0
        self._pending = 0

    @property
    def location(self) -> str:
        return str(self._storage.root)

    @property
    def format(self) -> str:
        return "parquet"

    @property
    def layout(self) -> str:
        return "parts"

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def buffered_bytes(self) -> int:
        """Arrow bytes held in memory, converted but not yet written to a row group."""
        return self._buffered_bytes

    def wants_commit(self, idle: float = 0.0) -> bool:
        """When a part file has been closed: committing sooner would close small parts (time is ignored)."""
        return len(self._closed) > len(self._committed)

    def truncate_to(self, position: SinkPosition | None) -> None:
        parts = [PartInfo.from_json(p) for p in (position or {}).get("parts", [])]
        self._files.files.keep_only(parts)
        self._batches, self._batches_ns = [], None
        self._buffered_rows = self._buffered_bytes = 0
        self._open = self._writer = None
        self._closed = list(parts)
        self._committed = list(parts)
        self._next_part = int((position or {}).get("next_part", 0))
        self._pending = 0

    def write(self, namespace: str, records: Sequence[Record], *, flush: bool = True) -> None:
        if not records:
            return
        if self._batches_ns is not None and namespace != self._batches_ns:
            self._drain()
        self._batches_ns = namespace
        batch = records_batch(records, self._schema)
        self._batches.append(batch)
        self._buffered_rows += batch.num_rows
        self._buffered_bytes += batch.nbytes
        self._pending += batch.num_rows
        if flush:
            self.flush()

    @property
    def flush_due(self) -> bool:
        return bool(self._buffered_rows) and self._buffered_rows >= self._group_rows()

    def flush(self) -> None:
        """Write every full row group (and close the parts they fill)."""
        while self.flush_due:
            self._write_group()

    def _group_rows(self) -> int:
        """Rows of the next row group: at most ``row_group_rows`` and about ``row_group_bytes``.

        The group that fills the open part (in rows or bytes) takes everything buffered when that fits
        in one group, so the part closes with nothing left over: a commit right after it then has no
        remainder to close as a small part of its own.
        """
        per_row = self._buffered_bytes / max(1, self._buffered_rows)
        full = max(1, min(self._row_group_rows, int(self._row_group_bytes // per_row)))
        rows_left = self._rows_per_part - (self._open.rows if self._open else 0)
        bytes_left = self._part_bytes - (self._open.bytes if self._open else 0)
        room = max(1, min(rows_left, int(bytes_left // per_row)))
        if room >= full:
            return full
        return room if self._buffered_rows > full else max(room, self._buffered_rows)

    def _write_group(self) -> None:
        """Write one row group from the front of the buffer (fewer rows when draining)."""
        assert self._batches_ns is not None
        count = min(self._group_rows(), self._buffered_rows)
        table = arrow().Table.from_batches(self._batches, schema=self._schema)
        head, rest = table.slice(0, count), table.slice(count)
        if self._open is None:
            self._open, self._writer = self._files.open(self._batches_ns, self._next_part)
            self._next_part += 1
        self._writer.write_table(head, row_group_size=count)
        self._open.rows += count
        self._open.bytes += head.nbytes
        self._batches = rest.to_batches()
        self._buffered_rows -= count
        self._buffered_bytes = sum(b.nbytes for b in self._batches)
        if self._open.rows >= self._rows_per_part or self._open.bytes >= self._part_bytes:
            self._close_part()

    def _drain(self) -> None:
        """Write every buffered row and close the open part (a namespace switch or a commit)."""
        while self._buffered_rows:
            self._write_group()
        self._close_part()

    def _close_part(self) -> None:
        part, writer, self._open, self._writer = self._open, self._writer, None, None
        if part is not None:
            self._closed.append(self._files.publish(part, writer))

    def commit(self) -> SinkPosition:
        self._drain()
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
            part, writer, self._open, self._writer = self._open, self._writer, None, None
            self._files.abandon(part, writer)
        self._batches, self._batches_ns = [], None
        self._buffered_rows = self._buffered_bytes = 0


_IMPORT_LAYOUT = "a directory of NAMESPACE/part-*.parquet files with columns id, values (list of floats)"


def _refuse_part(storage: Storage, rel: str) -> None:
    """Raise UsageError if ``rel`` is not a Parquet file this reader can import (its footer only)."""
    pa, pq = arrow(), _pq()
    where = storage.uri(rel)
    try:
        schema = pq.read_schema(storage.open_input(rel))
    except (pa.ArrowException, OSError) as exc:
        raise UsageError(f"{where} is not a readable Parquet file ({exc}); nothing was imported") from None
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
            f"{where} {problem} (it has: {found}); an import reads {_IMPORT_LAYOUT}. Nothing was imported"
        )


class ParquetReader:
    """Reads a Parquet export directory back (any store): parts in order, namespaces from the manifest
    (else from directory names).

    ``parts`` (the manifest's list) fixes the order and the set of files: a part the manifest does not
    list is never read, whatever a listing shows. Without it every ``*.parquet`` under the root is
    read, directories and files in sorted order (a hand-made directory on the local disk). Every
    part's columns are checked when the reader is made (footers only), so a file it cannot import is
    refused before anything is sent.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | Storage,
        *,
        parts: Sequence[PartInfo] | None = None,
        batch_rows: int = 1000,
    ) -> None:
        self._storage = as_storage(root)
        self._batch_rows = batch_rows
        self._parts: list[tuple[str, str | None, int | None]]  # path, namespace, rows (None: unknown)
        if parts is None and self._storage.is_local and not self._storage.local_path().is_dir():
            root = self._storage.local_path()
            what = "a single file" if root.is_file() else "not a directory"
            raise UsageError(f"{root} is {what}; a Parquet import reads {_IMPORT_LAYOUT}")
        if parts is None:
            found = (
                item.path
                for item in self._storage.list_files()
                if item.path.endswith(_PART_SUFFIX) and not item.path.rsplit("/", 1)[-1].startswith(".")
            )
            self._parts = [(path, _namespace_of_path(path), None) for path in found]
        else:
            self._parts = [
                (p.path, p.namespace if p.namespace is not None else _namespace_of_path(p.path), p.rows)
                for p in parts
            ]
        if not self._parts and parts is None:  # (a manifest may list no parts: an empty export)
            raise UsageError(
                f"{self._storage.uri()} holds no Parquet part files; an import reads {_IMPORT_LAYOUT}"
            )
        for rel, _, _ in self._parts:
            _refuse_part(self._storage, rel)

    def __iter__(self) -> Iterator[ReadItem]:
        return self.items()

    def items(self, resume: SinkPosition | None = None) -> Iterator[ReadItem]:
        pq = _pq()
        start = int(resume["ordinal"]) if resume else 0
        ordinal = 0
        for rel, namespace, known_rows in self._parts:
            if known_rows is not None and ordinal + known_rows <= start:
                ordinal += known_rows  # the manifest says how many: skipped without a request
                continue
            source = self._storage.open_input(rel)
            batches: Iterator[Any] = iter(())
            try:
                # No pre-buffering: it reads every row group of the part ahead (a 330 MB part at 1536
                # held ~250 MB more in memory); one row group at a time is what an import consumes.
                handle = pq.ParquetFile(source, pre_buffer=False)
                rows = int(handle.metadata.num_rows)
                if ordinal + rows <= start:
                    ordinal += rows
                    continue
                row_in_part = 0
                batches = handle.iter_batches(batch_size=self._batch_rows)
                if not self._storage.is_local:
                    batches = read_ahead(batches)  # the next batch's ranges are read meanwhile
                for batch in batches:
                    n = batch.num_rows
                    if ordinal + n <= start:
                        ordinal += n
                        row_in_part += n
                        continue
                    for record, error in batch_records(batch):
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
            finally:
                close_reading(batches, source)


def _namespace_of_path(path: str) -> str | None:
    directory = path.rpartition("/")[0].rpartition("/")[2]
    return namespace_from_dir(directory) if directory else None
