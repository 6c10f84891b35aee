"""Where data lives, as a value: ``s3://bucket/prefix``, ``gs://bucket/prefix``, ``file:///abs/path`` or a
plain path, parsed once into a :class:`StorageUri` (no I/O, no pyarrow).

A ``StorageUri`` names a *directory* (a key prefix in an object store): jobs write and read objects under
it by relative path, so every path joined onto it is checked here (no ``..``, no absolute parts).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

from bulkops.errors import UsageError

__all__ = ["SCHEMES", "Scheme", "StorageUri", "parse_uri"]

Scheme = Literal["s3", "gs", "file"]
SCHEMES: tuple[Scheme, ...] = ("s3", "gs", "file")
_OBJECT_STORE_HINT = "use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, file:///ABSOLUTE/PATH or a local path"
_MAX_URI_LENGTH = 1500  # what Pinecone's start_import accepts; longer keys are refused by S3 anyway
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")  # S3's and GCS's rules, loosely


@dataclass(frozen=True, slots=True)
class StorageUri:
    """A parsed location. ``bucket`` is None for local paths; ``key`` has no leading or trailing ``/``
    (for local paths it is the absolute path without its leading ``/``)."""

    scheme: Scheme
    bucket: str | None
    key: str

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    @property
    def fs_path(self) -> str:
        """The path pyarrow's filesystem for this scheme expects (``bucket/key`` or ``/abs/path``)."""
        if self.bucket is None:
            return "/" + self.key
        return f"{self.bucket}/{self.key}" if self.key else self.bucket

    @property
    def name(self) -> str:
        """The last path component (empty for a bucket root)."""
        return self.key.rsplit("/", 1)[-1]

    def join(self, relative: str) -> StorageUri:
        """The location ``relative`` (a POSIX path: ``ns/part-00000.parquet``) below this one."""
        parts = _relative_parts(relative)
        if not parts:
            return self
        key = "/".join([self.key, *parts]) if self.key else "/".join(parts)
        return StorageUri(self.scheme, self.bucket, key)

    def relative_to(self, other: StorageUri) -> str:
        """This location's path below ``other`` (``ValueError`` if it is not below it)."""
        if (self.scheme, self.bucket) != (other.scheme, other.bucket):
            raise ValueError(f"{self} is not below {other}")
        if not other.key:
            return self.key
        if self.key == other.key:
            return ""
        if not self.key.startswith(other.key + "/"):
            raise ValueError(f"{self} is not below {other}")
        return self.key[len(other.key) + 1 :]

    def __str__(self) -> str:
        if self.bucket is None:
            return f"file:///{self.key}"
        return f"{self.scheme}://{self.bucket}/{self.key}" if self.key else f"{self.scheme}://{self.bucket}"


def _relative_parts(relative: str) -> list[str]:
    if relative.startswith("/") or "\\" in relative or "\x00" in relative:
        raise UsageError(f"storage path {relative[:80]!r} must be relative, with '/' separators")
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UsageError(f"storage path {relative[:80]!r} must not contain '..'")
    return parts


def parse_uri(text: str) -> StorageUri:
    """Parse ``text``; a :class:`UsageError` says what is wrong and what to write instead."""
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"storage location is empty: {_OBJECT_STORE_HINT}")
    text = text.strip()
    if len(text) > _MAX_URI_LENGTH:
        raise UsageError(f"storage location is {len(text)} characters long; at most {_MAX_URI_LENGTH}")
    if "\x00" in text:
        raise UsageError("storage location contains a NUL character")
    scheme, sep, _ = text.partition("://")
    if not sep or "/" in scheme:  # a plain path, relative or absolute
        return _local(Path(os.path.abspath(os.path.expanduser(text))))
    scheme = scheme.lower()
    parts = urlsplit(text)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise UsageError(f"{text[:80]!r}: a file:// location must be absolute, like file:///data/export")
        if parts.query or parts.fragment:
            raise UsageError(f"{text[:80]!r}: a file:// location takes no ?query or #fragment")
        return _local(Path(os.path.abspath(parts.path or "/")))
    if scheme not in SCHEMES:
        raise UsageError(
            f"{text[:80]!r}: unsupported storage scheme {scheme + '://'!r}; {_OBJECT_STORE_HINT}"
        )
    if parts.query or parts.fragment:
        raise UsageError(
            f"{text[:80]!r}: options go in flags or the environment (e.g. --storage-endpoint), not in ?query"
        )
    if "@" in parts.netloc or ":" in parts.netloc:
        raise UsageError(
            f"{scheme}:// locations never carry credentials or a port: use the environment for keys and "
            "--storage-endpoint for the server"
        )
    bucket = parts.netloc
    if not bucket:
        raise UsageError(f"{text[:80]!r} names no bucket: use {scheme}://BUCKET/PREFIX")
    if not _BUCKET_RE.match(bucket):
        raise UsageError(
            f"bucket name {bucket[:80]!r} is not valid: 3-222 lower-case letters, digits, '.', '-' or '_'"
        )
    key = "/".join(_relative_parts(parts.path.lstrip("/")))
    return StorageUri("s3" if scheme == "s3" else "gs", bucket, key)


def _local(path: Path) -> StorageUri:
    return StorageUri("file", None, str(PurePosixPath(path.as_posix())).lstrip("/"))
