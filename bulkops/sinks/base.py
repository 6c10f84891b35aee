"""What every sink and every export reader offers, so jobs never care which format they handle.

A sink's ``commit()`` makes everything written so far durable and returns its *position*: a small
JSON-able value that the export job stores in the same checkpoint transaction as the listing
watermarks. ``truncate_to(position)`` on resume throws away whatever was written after it (a cut
back file, or parts deleted), which is what makes exports exactly-once (see
``bulkops/jobs/export/__init__.py``), on the local disk and on object stores alike. A sink also says when a
commit is due and what the manifest records about it, so the export never asks which format it has.

Writing has two halves: ``write(..., flush=False)`` encodes records into the sink's buffer (Python
work), ``flush()`` writes out what is due (I/O, compression, checksums: mostly without the GIL). The
export runs the first on its event loop and the second in a worker thread, so the two threads do not
fight over the GIL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bulkops.models import Record

__all__ = ["NamespaceEntry", "PartInfo", "ReadItem", "RecordReader", "RecordSink", "SinkPosition"]

# JSON-able (stored in checkpoints as orjson); each sink documents its own keys.
SinkPosition = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PartInfo:
    """One durable output file, as the manifest lists it. ``path`` is relative to the output root."""

    path: str
    namespace: str | None
    rows: int
    bytes: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "namespace": self.namespace,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PartInfo:
        return cls(
            path=str(doc["path"]),
            namespace=doc.get("namespace"),
            rows=int(doc["rows"]),
            bytes=int(doc["bytes"]),
            sha256=str(doc["sha256"]),
        )


@dataclass(frozen=True, slots=True)
class NamespaceEntry:
    """One namespace as the manifest lists it."""

    name: str
    count: int
    first_line: int | None = None  # JSONL only: 0-based index of the namespace's first record


@dataclass(frozen=True, slots=True)
class ReadItem:
    """One input record for an import, or the reason it could not be read.

    ``ordinal`` counts records from 0 across the whole input (the import's watermark unit);
    ``location`` is what a person needs to find it (``file line N`` / ``part row N``);
    ``resume`` restarts a reader at this very item.
    """

    ordinal: int
    location: str
    namespace: str | None
    record: Record | None
    error: str | None
    resume: SinkPosition


class RecordSink(Protocol):
    @property
    def location(self) -> str:
        """Where it writes (a path or a URI), for messages."""
        ...

    @property
    def format(self) -> str:
        """``"jsonl"`` or ``"parquet"``, as the manifest records it."""
        ...

    @property
    def layout(self) -> str:
        """``"file"`` (one JSONL file) or ``"parts"`` (a directory of part files), as the manifest
        records it."""
        ...

    @property
    def pending(self) -> int:
        """Records written since the last commit (not yet durable)."""
        ...

    def wants_commit(self, idle: float) -> bool:
        """True when a commit is due, ``idle`` seconds after the last one (the format decides when:
        JSONL after enough records, bytes or time; Parquet when a part file is full)."""
        ...

    def write(self, namespace: str, records: Sequence[Record], *, flush: bool = True) -> None:
        """Encode ``records`` into the sink's buffer (Python work, holding the GIL); with ``flush``,
        also write out what that made due (:meth:`flush`)."""
        ...

    @property
    def flush_due(self) -> bool:
        """Buffered data is due to be written out (a full row group, a full write chunk)."""
        ...

    def flush(self) -> None:
        """Write out what is due: the blocking part of writing (file I/O, Parquet encoding and
        compression, checksums), which mostly releases the GIL, so a caller can run it in a worker
        thread while its own thread goes on encoding."""
        ...

    def commit(self) -> SinkPosition:
        """Make everything written durable (fsync, or a part published) and return the position to
        checkpoint."""
        ...

    def truncate_to(self, position: SinkPosition | None) -> None:
        """Remove everything written after ``position`` (None: after nothing). Call before writing."""
        ...

    def parts(self) -> list[PartInfo]:
        """The durable files, with checksums, as of the last commit."""
        ...

    def manifest_entries(self, namespaces: Sequence[str]) -> tuple[NamespaceEntry, ...]:
        """What the manifest lists for ``namespaces`` (and any other written) as of the last commit."""
        ...

    def close(self) -> None: ...


class RecordReader(Protocol):
    def __iter__(self) -> Iterator[ReadItem]: ...

    def items(self, resume: SinkPosition | None = None) -> Iterator[ReadItem]:
        """Records from ``resume`` (an item's ``resume`` value) on; from the start when None."""
        ...
