"""Durable, private file primitives the sinks share: fsync a file and its directory, write a file
atomically, create files 0600 and directories 0700.

A rename is only durable once the directory that holds it has been fsynced, so every helper that
creates or renames a file also syncs the parent directory.

Exports hold the user's data, so every file bulkops creates is readable by its owner only, like the
checkpoints: files 0600, directories 0700. The mode is set with ``chmod`` after creation, because the
creation mode only loses bits to the umask (a umask of 0 would otherwise make them 0600 all the same,
but a umask of 0277 would leave the owner unable to write) and because a file that existed keeps its
old mode. Directories that existed before are the user's and are left alone.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = [
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "atomic_write_bytes",
    "fsync_dir",
    "make_private_dir",
    "open_private",
    "sha256_file",
    "sha256_of_prefix",
]

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

_HASH_CHUNK = 1 << 20


def fsync_dir(directory: Path) -> None:
    """Make creations, renames and deletions inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_private(path: Path, flags: int = os.O_WRONLY) -> int:
    """A descriptor of ``path`` (created if missing) whose mode is exactly 0600, whatever the umask."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def make_private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents, each exactly 0700; directories that exist are left as
    they are (they are the user's)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(directory, PRIVATE_DIR)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one, never half
    (mode 0600)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as fh:
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
