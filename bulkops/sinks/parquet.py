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

Durability: a part is written under a hidden temporary name (its SHA-256 computed as the bytes go
out) and renamed when it is closed, so a visible part is always complete. The sink's position is the
list of closed parts (with row counts and SHA-256), stored in the export checkpoint; ``truncate_to``
deletes every part not in that list and every leftover temporary file. Every file operation of the
sink is in :class:`_PartFiles` (and :class:`_HashingFile`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from bulkops.errors import CheckpointError, UsageError
from bulkops.models import Record
from bulkops.sinks._files import fsync_dir, make_private_dir, open_private
from bulkops.sinks.arrow_columns import arrow, arrow_schema, batch_records, records_batch
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


class _HashingFile:
    """The temporary part file as pyarrow writes it: every byte also feeds the part's SHA-256, so a
    closed part is never read back to be checksummed."""

    def __init__(self, path: Path) -> None:
        # 0600 like every file bulkops writes; closed by _PartFiles.publish / abandon
        self.file = open(open_private(path, os.O_WRONLY | os.O_TRUNC), "wb")  # noqa: SIM115
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()

    def tell(self) -> int:
        return self.size

    @property
    def closed(self) -> bool:
        return self.file.closed

    def close(self) -> None:
        self.file.close()


class _OpenPart:
    """A part being written: its Parquet writer on the temporary file, and what went in so far."""

    def __init__(self, namespace: str, final: Path, sink: _HashingFile, writer: Any) -> None:
        self.namespace = namespace
        self.final = final
        self.tmp = _tmp_name(final)
        self.sink = sink
        self.writer = writer
        self.rows = 0
        self.bytes = 0  # Arrow bytes written (before encoding and compression)


def _tmp_name(final: Path) -> Path:
    return final.with_name(f".{final.name}.tmp")


class _PartFiles:
    """Every file operation of the Parquet sink: namespace directories, temporary parts, publishing a
    closed part (fsync, checksum, rename, directory fsync), and removing what a crash left behind."""

    def __init__(self, root: Path, schema: Any, compression: str) -> None:
        self.root = root
        self._schema = schema
        self._compression = compression

    def keep_only(self, parts: Sequence[PartInfo]) -> None:
        """Delete every part not in ``parts`` and every temporary file; refuse if one of ``parts`` is gone."""
        for part in parts:
            if not (self.root / part.path).is_file():
                raise CheckpointError(
                    f"the checkpoint lists {self.root / part.path} but it is missing: the export "
                    "directory was changed since; delete the checkpoint and start again"
                )
        keep = {p.path for p in parts}
        if self.root.exists():
            for file in sorted(self.root.rglob("*")):
                rel = file.relative_to(self.root).as_posix()
                is_tmp = file.name.startswith(".") and file.name.endswith(".tmp")
                if file.is_file() and (is_tmp or (file.suffix == _PART_SUFFIX and rel not in keep)):
                    file.unlink()
                    fsync_dir(file.parent)
        make_private_dir(self.root)

    def open(self, namespace: str, number: int) -> _OpenPart:
        directory = self.root / namespace_to_dir(namespace)
        if not directory.exists():
            make_private_dir(directory)
            fsync_dir(self.root)
        final = directory / f"part-{number:05d}{_PART_SUFFIX}"
        sink = _HashingFile(_tmp_name(final))
        writer = _pq().ParquetWriter(
            arrow().PythonFile(sink, mode="w"),
            self._schema,
            compression=self._compression,
            use_dictionary=False,
            write_statistics=["id"],
        )
        return _OpenPart(namespace, final, sink, writer)

    def publish(self, part: _OpenPart) -> PartInfo:
        """Close ``part``, make it durable, and give it its final (visible) name."""
        part.writer.close()  # writes the footer; our file stays open
        part.sink.flush()
        os.fsync(part.sink.file.fileno())
        part.sink.close()
        digest, size = part.sink.digest.hexdigest(), part.sink.size
        os.replace(part.tmp, part.final)
        fsync_dir(part.final.parent)
        return PartInfo(
            path=part.final.relative_to(self.root).as_posix(),
            namespace=part.namespace,
            rows=part.rows,
            bytes=size,
            sha256=digest,
        )

    def abandon(self, part: _OpenPart) -> None:
        part.writer.close()
        part.sink.close()
        part.tmp.unlink(missing_ok=True)


class ParquetWriter:
    """Writes the directory layout above; see the module docstring for sizes and the commit protocol."""

    def __init__(
        self,
        root: str | Path,
        *,
        vector_type: str = "dense",
        commit_records: int = 100_000,
        row_group_rows: int = 10_000,
        row_group_bytes: int = ROW_GROUP_BYTES,
        part_bytes: int = PART_BYTES,
        compression: str = "snappy",
    ) -> None:
        self._root = Path(root)
        self._schema = arrow_schema(vector_type)
        self._files = _PartFiles(self._root, self._schema, compression)
        self._rows_per_part = max(1, commit_records)
        self._row_group_rows = max(1, min(row_group_rows, self._rows_per_part))
        self._row_group_bytes = max(1, row_group_bytes)
        self._part_bytes = max(1, part_bytes)
        self._batches: list[Any] = []  # converted to Arrow, not yet written; all of one namespace
        self._batches_ns: str | None = None
        self._buffered_rows = 0
        self._buffered_bytes = 0
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

    @property
    def buffered_bytes(self) -> int:
        """Arrow bytes held in memory, converted but not yet written to a row group."""
        return self._buffered_bytes

    def wants_commit(self, idle: float = 0.0) -> bool:
        """When a part file has been closed: committing sooner would close small parts (time is ignored)."""
        return len(self._closed) > len(self._committed)

    def truncate_to(self, position: SinkPosition | None) -> None:
        parts = [PartInfo.from_json(p) for p in (position or {}).get("parts", [])]
        self._files.keep_only(parts)
        self._batches, self._batches_ns = [], None
        self._buffered_rows = self._buffered_bytes = 0
        self._open = None
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
            self._open = self._files.open(self._batches_ns, self._next_part)
            self._next_part += 1
        self._open.writer.write_table(head, row_group_size=count)
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
        part, self._open = self._open, None
        if part is not None:
            self._closed.append(self._files.publish(part))

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
            self._files.abandon(self._open)
            self._open = None
        self._batches, self._batches_ns = [], None
        self._buffered_rows = self._buffered_bytes = 0


_IMPORT_LAYOUT = "a directory of NAMESPACE/part-*.parquet files with columns id, values (list of floats)"


def _refuse_part(path: Path) -> None:
    """Raise UsageError if ``path`` is not a Parquet file this reader can import (its footer only)."""
    pa, pq = arrow(), _pq()
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
            # No pre-buffering: it reads every row group of the part ahead (a 330 MB part at 1536 held
            # ~250 MB more in memory); one row group at a time is what an import consumes.
            handle = pq.ParquetFile(str(path), pre_buffer=False)
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
