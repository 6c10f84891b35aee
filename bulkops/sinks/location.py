"""Where an export lives: a local path or an object-store URI, the folder that holds it, and its manifest.

An export named ``out.parquet`` (or ``out.jsonl``) in a folder — a local directory, ``s3://bucket/dir``,
``gs://bucket/dir`` — is, in that folder:

- ``out.parquet/<namespace>/part-NNNNN.parquet`` (Parquet, any store),
- ``out.jsonl`` (JSONL on the local disk: one file, appended and cut back on resume), or
  ``out.jsonl/part-NNNNN.jsonl`` (JSONL on an object store, which cannot append: numbered parts),
- ``out.parquet.manifest.json`` beside it, written last (:mod:`bulkops.sinks.manifest`).

:class:`ExportLocation` holds the folder as a :class:`~bulkops.storage.Storage` and the export's name,
so sinks, readers and the manifest reach every file through one place whatever the store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bulkops.errors import UsageError
from bulkops.storage import Storage, StorageUri, open_storage, parse_uri

__all__ = ["MANIFEST_SUFFIX", "ExportLocation", "Layout", "canonical_location", "is_object_store"]

MANIFEST_SUFFIX = ".manifest.json"
Layout = Literal["file", "parts"]  # one JSONL file | a directory of part files


def is_object_store(location: str | os.PathLike[str]) -> bool:
    """``s3://`` or ``gs://`` (not ``file://``, not a path)."""
    return parse_uri(os.fspath(location)).bucket is not None


def canonical_location(location: str | os.PathLike[str]) -> str:
    """The form a spec records: an absolute local path, or the object store's URI (``file://`` becomes
    a path, so the same export is the same string however it was named)."""
    uri = parse_uri(os.fspath(location))
    return "/" + uri.key if uri.is_local else str(uri)


@dataclass(frozen=True, slots=True)
class ExportLocation:
    """An export's folder (``parent``) and its name in it (``name``)."""

    parent: Storage
    name: str

    @classmethod
    def open(cls, location: str | os.PathLike[str], *, storage_endpoint: str | None = None) -> ExportLocation:
        """The location of ``location`` (no request, except an S3 bucket's region when none is set)."""
        uri = parse_uri(os.fspath(location))
        parent_key, _, name = uri.key.rpartition("/")
        if not name:
            raise UsageError(f"{uri} names a bucket, not an export: add a name, e.g. {uri}/export.parquet")
        parent = open_storage(
            StorageUri(uri.scheme, uri.bucket, parent_key), storage_endpoint=storage_endpoint
        )
        return cls(parent, name)

    @property
    def is_local(self) -> bool:
        return self.parent.is_local

    @property
    def uri(self) -> StorageUri:
        return self.parent.uri(self.name)

    @property
    def path(self) -> Path:
        """The local path (a UsageError on an object store)."""
        return self.parent.local_path(self.name)

    @property
    def root(self) -> Storage:
        """The export's own directory (Parquet parts, JSONL parts)."""
        return self.parent.below(self.name)

    @property
    def manifest_name(self) -> str:
        return self.name + MANIFEST_SUFFIX

    @property
    def manifest(self) -> str:
        """Where the manifest is, as a person would write it."""
        return self.display(self.manifest_name)

    def display(self, relative: str = "") -> str:
        """``relative`` below the folder as a path (local) or a URI (object store)."""
        uri = self.parent.uri(relative)
        return "/" + uri.key if uri.is_local else str(uri)

    def __str__(self) -> str:
        return self.display(self.name)

    def jsonl_layout(self) -> Layout:
        """A JSONL export on the local disk is one file (unless a directory of parts is there, e.g.
        copied down from an object store); on an object store it is always parts."""
        if not self.is_local:
            return "parts"
        return "parts" if self.path.is_dir() else "file"

    def exists(self) -> bool:
        """The export's data is there: the file, or anything in its directory (a manifest alone is
        not an export: :meth:`clear` removes it quietly)."""
        if self.is_local:
            return self.path.exists()
        return self.parent.info(self.name) is not None or bool(self.root.list_files())

    def clear(self) -> None:
        """Remove the export: its manifest first (a reader never trusts a half-removed export), then
        every file of it."""
        self.parent.delete(self.manifest_name)
        if self.parent.info(self.name) is not None:  # a file (local JSONL) or an object of that name
            self.parent.delete(self.name)
        self.root.delete_tree()
