"""Part files on any store: the one commit protocol of every sink that writes parts.

A sink that writes parts (Parquet anywhere, JSONL on an object store) opens each part through
:meth:`~bulkops.storage.Storage.part_writer` — locally a hidden file beside it, fsynced and renamed, so
a visible part is complete; on an object store streamed to its final key (no staging object and no
server-side copy, which stalled the writer for the copy of every part) — and feeds the part's SHA-256
as the bytes go out. A part is data only once a checkpoint lists it and, for readers, once the
finished manifest does (``docs/decisions/0009-object-store-commit-protocol.md``). The sink's position
is the list of parts it closed; on resume :meth:`PartFiles.keep_only` deletes every part not in the
list (closed after the last commit: uploaded but never committed, or left partial by an error) and
every leftover of an interrupted writer, and refuses if a listed part is gone or changed size. One
listing, no per-part request.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from bulkops.errors import CheckpointError
from bulkops.sinks.base import PartInfo
from bulkops.storage import STAGING_SUFFIX, Storage, make_private_dir, open_storage

__all__ = ["HashingStream", "OpenPart", "PartFiles", "as_storage"]

_OLD_TMP_SUFFIX = ".tmp"  # hidden temporary parts of bulkops versions before bulkops.storage


def as_storage(root: str | os.PathLike[str] | Storage) -> Storage:
    """A sink's root: a :class:`Storage`, or a path / URI to open one at."""
    return root if isinstance(root, Storage) else open_storage(os.fspath(root))


class HashingStream:
    """A part's stream as the encoder writes it: every byte also feeds the part's SHA-256, so a closed
    part is never read back to be checksummed."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.digest.update(data)
        self.size += len(data)
        self._stream.write(data)
        return len(data)

    def flush(self) -> None:
        self._stream.flush()

    def tell(self) -> int:
        return self.size

    @property
    def closed(self) -> bool:
        return bool(self._stream.closed)

    def close(self) -> None:
        """The writer closing its file: the part is published (or abandoned) by :class:`PartFiles`."""


@dataclass(slots=True)
class OpenPart:
    """A part being written: its path below the root, namespace, stream, and what went in so far."""

    path: str
    namespace: str | None
    stream: HashingStream
    writer: Any = field(repr=False)  # the part_writer context: its exit publishes or abandons
    rows: int = 0
    bytes: int = 0  # what the encoder counts (Arrow bytes for Parquet, encoded bytes for JSONL)


class _Abandoned(Exception):
    """Thrown into a part's writer to discard it."""


class PartFiles:
    """The parts of one sink under ``storage``; part names end in ``suffix``."""

    def __init__(self, storage: Storage, suffix: str) -> None:
        self.storage = storage
        self._suffix = suffix

    def keep_only(self, parts: list[PartInfo]) -> None:
        """Delete every part not in ``parts`` and every leftover of an interrupted writer; refuse if one of
        ``parts`` is gone or changed size (the export directory was changed since)."""
        listed = {item.path: item.size for item in self.storage.list_files()}
        for part in parts:
            size = listed.get(part.path)
            if size is None or size != part.bytes:
                state = "missing" if size is None else f"{size} bytes, not {part.bytes}"
                raise CheckpointError(
                    f"the checkpoint lists {self.storage.uri(part.path)} but it is {state}: the export "
                    "was changed since; delete the checkpoint and start again"
                )
        keep = {p.path for p in parts}
        for path in listed:
            name = path.rsplit("/", 1)[-1]
            leftover = name.endswith(STAGING_SUFFIX) or (
                name.startswith(".") and name.endswith(_OLD_TMP_SUFFIX)
            )
            if leftover or (name.endswith(self._suffix) and path not in keep):
                self.storage.delete(path)
        if self.storage.is_local:  # an empty export is an empty directory, as before object storage
            make_private_dir(self.storage.local_path())

    def open(self, path: str, namespace: str | None) -> OpenPart:
        writer = self.storage.part_writer(path)
        stream = writer.__enter__()
        return OpenPart(path, namespace, HashingStream(stream), writer)

    def publish(self, part: OpenPart) -> PartInfo:
        """Make ``part`` durable and visible under its name; what the manifest will list."""
        part.writer.__exit__(None, None, None)
        return PartInfo(
            path=part.path,
            namespace=part.namespace,
            rows=part.rows,
            bytes=part.stream.size,
            sha256=part.stream.digest.hexdigest(),
        )

    def abandon(self, part: OpenPart) -> None:
        """Discard ``part``: locally nothing appears under its name; on an object store what was
        uploaded is deleted (or, if that fails, by the next :meth:`keep_only`)."""
        abandoned = _Abandoned()
        part.writer.__exit__(_Abandoned, abandoned, None)
