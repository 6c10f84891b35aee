"""Durable file primitives the sinks share: fsync a file and its directory, write a file atomically.

A rename is only durable once the directory that holds it has been fsynced, so every helper that
creates or renames a file also syncs the parent directory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["atomic_write_bytes", "fsync_dir", "sha256_file", "sha256_of_prefix"]

_HASH_CHUNK = 1 << 20


def fsync_dir(directory: Path) -> None:
    """Make creations, renames and deletions inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def sha256_file(path: Path, *, limit: int | None = None) -> str:
    """Hex SHA-256 of the file's first ``limit`` bytes (all of it when None)."""
    return sha256_of_prefix(path, limit).hexdigest()


def sha256_of_prefix(path: Path, limit: int | None = None) -> hashlib._Hash:
    """A SHA-256 object fed the file's first ``limit`` bytes (all when None), to go on feeding."""
    digest = hashlib.sha256()
    remaining = limit
    with open(path, "rb") as fh:
        while remaining is None or remaining > 0:
            want = _HASH_CHUNK if remaining is None else min(_HASH_CHUNK, remaining)
            chunk = fh.read(want)
            if not chunk:
                break
            digest.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return digest
