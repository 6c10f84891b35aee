"""A directory in an object store (or on the local disk), with the few operations bulkops needs.

:class:`Storage` is rooted at one location; every method takes a POSIX path relative to that root
(``ns/part-00000.parquet``). Calls block: async code runs them in a worker thread.

**Visible only when complete.** Object stores have no rename, so nothing may ever be written under its
final name before it is whole:

- :meth:`Storage.write_bytes` hands the whole object to one upload that the store publishes only when
  it completes (a local file is written beside its target, fsynced and renamed). pyarrow completes a
  multipart upload only after every part succeeded, and the data is complete before the first byte is
  sent, so a failure or a kill leaves the old object or none.
- :meth:`Storage.part_writer` (for parts a manifest lists, never trusted from a listing) streams to
  the final name on an object store: no staging, no copy; see its docstring for what an error leaves.
- :meth:`Storage.atomic_writer` streams into a hidden staging object (``.NAME.TOKEN.bulkops-tmp``),
  checks its size, then copies it to the final name on the server side (S3 CopyObject, GCS rewrite:
  atomic) and deletes the staging object. Streaming straight to the final key would not do: pyarrow's
  output streams complete the upload when closed, even after an error in the code writing them, which
  would publish a truncated object. Staging names never end in ``.parquet``, so neither Pinecone's import
  nor our readers take them for data; :meth:`Storage.delete_leftovers` removes those a crash left.
  The server-side copy costs one request and the store's copy time, not the client's bandwidth; S3
  copies at most 5 GiB in one request, so that is the largest object the writer takes.

**Private.** Local files are created 0600 and new directories 0700 whatever the umask
(:func:`open_private`, :func:`make_private_dir`); what a bucket shows is the bucket's policy.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkops.errors import UsageError
from bulkops.storage.diagnosis import describe_failure, unknown_bucket
from bulkops.storage.direct_io import DirectFileStream, open_direct
from bulkops.storage.filesystems import build_filesystem, pyarrow_fs
from bulkops.storage.settings import StorageSettings, resolve_settings
from bulkops.storage.uri import StorageUri, parse_uri

__all__ = [
    "MAX_STAGED_OBJECT_BYTES",
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "STAGING_SUFFIX",
    "ObjectInfo",
    "Storage",
    "fsync_directory",
    "make_private_dir",
    "open_private",
    "open_storage",
]

STAGING_SUFFIX = ".bulkops-tmp"
PRIVATE_FILE = 0o600  # every local file bulkops writes (exports hold the user's data)
PRIVATE_DIR = 0o700  # every local directory it creates
MAX_STAGED_OBJECT_BYTES = 5 * 1024**3  # S3's limit for one CopyObject request


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """A file (object) below the root: its relative POSIX path and size in bytes."""

    path: str
    size: int


def open_storage(
    location: str | StorageUri, *, storage_endpoint: str | None = None, region: str | None = None
) -> Storage:
    """:class:`Storage` rooted at ``location`` with settings from the arguments and the environment.

    No request is sent (except, for an S3 bucket with no region and no endpoint configured, one to
    learn its region); :meth:`Storage.check` probes the bucket and the credentials."""
    uri = parse_uri(location) if isinstance(location, str) else location
    settings = resolve_settings(uri.scheme, storage_endpoint=storage_endpoint, region=region)
    return Storage(uri, settings, build_filesystem(uri, settings))


class Storage:
    """One directory of one store; see the module docstring for what "visible" means."""

    def __init__(self, root: StorageUri, settings: StorageSettings, filesystem: Any) -> None:
        self.root = root
        self.settings = settings
        self._fs = filesystem

    def __repr__(self) -> str:  # what a log may show: no credentials are ever held here
        endpoint = f", endpoint={self.settings.endpoint}" if self.settings.endpoint else ""
        return f"Storage({self.root}{endpoint})"

    def uri(self, relative: str = "") -> StorageUri:
        return self.root.join(relative)

    @property
    def is_local(self) -> bool:
        return self.root.is_local

    def below(self, relative: str) -> Storage:
        """The storage rooted at ``relative`` below this one, on the same filesystem (no request)."""
        return Storage(self.root.join(relative), self.settings, self._fs)

    def local_path(self, relative: str = "") -> Path:
        """The local path of ``relative`` (a :class:`UsageError` on an object store)."""
        uri = self.uri(relative)
        if not uri.is_local:
            raise UsageError(f"{uri} is in an object store, not on the local disk")
        return Path("/" + uri.key)

    # -- probes ---------------------------------------------------------------------------------
    def check(self) -> None:
        """One cheap request that fails clearly for an unknown bucket or unusable credentials."""
        if self.root.bucket is None:
            return
        bucket = StorageUri(self.root.scheme, self.root.bucket, "")
        info = self._call("opening", bucket, self._fs.get_file_info, self.root.bucket)
        if info.type == pyarrow_fs().FileType.NotFound:
            raise unknown_bucket(self.root, self.settings)

    def info(self, relative: str) -> ObjectInfo | None:
        """The file at ``relative``, or None when there is none (a directory is not a file)."""
        uri = self.uri(relative)
        found = self._call("reading", uri, self._fs.get_file_info, uri.fs_path)
        if found.type != pyarrow_fs().FileType.File:
            return None
        return ObjectInfo(uri.relative_to(self.root), int(found.size))

    def list_files(self, relative: str = "") -> list[ObjectInfo]:
        """Every file below ``relative`` (recursively), sorted by path; [] when there is none."""
        fs = pyarrow_fs()
        uri = self.uri(relative)
        selector = fs.FileSelector(uri.fs_path, recursive=True, allow_not_found=True)
        found = self._call("listing", uri, self._fs.get_file_info, selector)
        if not found and self.root.bucket is not None:
            self.check()  # an empty listing of a missing bucket must not pass for an empty directory
        base = self.root.fs_path.rstrip("/") + "/"
        return sorted(
            (
                ObjectInfo(item.path[len(base) :], int(item.size))
                for item in found
                if item.type == fs.FileType.File
            ),
            key=lambda item: item.path,
        )

    # -- reads ----------------------------------------------------------------------------------
    def read_bytes(self, relative: str) -> bytes:
        uri = self.uri(relative)
        with self._call("reading", uri, self._fs.open_input_stream, uri.fs_path) as stream:
            data: bytes = self._call("reading", uri, stream.read)
        return data

    def open_input(self, relative: str) -> Any:
        """A seekable pyarrow file for ``relative`` (what ``pyarrow.parquet.ParquetFile`` reads)."""
        uri = self.uri(relative)
        return self._call("reading", uri, self._fs.open_input_file, uri.fs_path)

    # -- writes ---------------------------------------------------------------------------------
    def write_bytes(self, relative: str, data: bytes) -> None:
        """Store ``data`` at ``relative``: readers see the old object (or none) until it is whole."""
        uri = self.uri(relative)
        if uri.is_local:
            with self._local_staging(uri) as stream:
                stream.write(data)
            return
        with self._call("writing", uri, self._fs.open_output_stream, uri.fs_path) as stream:
            self._call("writing", uri, stream.write, data)

    @contextlib.contextmanager
    def atomic_writer(self, relative: str) -> Iterator[Any]:
        """A writable pyarrow stream whose bytes appear at ``relative`` only once the ``with`` block
        ends without an error; on an error nothing appears and the staging object is removed."""
        uri = self.uri(relative)
        if uri.is_local:
            with self._local_staging(uri) as stream:
                yield stream
            return
        staging = self._staging_uri(uri)
        stream = self._call("writing", staging, self._fs.open_output_stream, staging.fs_path)
        try:
            yield stream
            written = int(stream.tell())
            self._call("writing", staging, stream.close)
        except BaseException:
            with contextlib.suppress(Exception):
                stream.close()  # pyarrow publishes what it has: a partial staging object, deleted next
            with contextlib.suppress(Exception):
                self._fs.delete_file(staging.fs_path)
            raise
        try:
            self._publish(staging, uri, written)
        finally:
            with contextlib.suppress(Exception):
                self._fs.delete_file(staging.fs_path)

    @contextlib.contextmanager
    def part_writer(self, relative: str) -> Iterator[Any]:
        """A writable stream for a part that readers find only through a manifest (an export's part).

        Locally it is :meth:`atomic_writer` (a rename costs nothing). On an object store the bytes stream
        to ``relative`` itself, with no staging object and no server-side copy (a copy of a 512 MiB part
        stalls the writer for seconds, and doubles what the store writes): a kill leaves an incomplete
        multipart upload (invisible), but an error in this process publishes what was written (pyarrow
        completes an upload when its stream closes, and cannot abort it), so the partial object is
        deleted at once (best effort: the job that wrote it deletes it on resume, as every part its
        checkpoint does not list). Use it only for objects a listing never makes data on its own."""
        uri = self.uri(relative)
        if uri.is_local:
            with self._local_staging(uri, direct=True) as stream:
                yield stream
            return
        stream = self._call("writing", uri, self._fs.open_output_stream, uri.fs_path)
        try:
            yield stream
            self._call("writing", uri, stream.close)
        except BaseException:
            with contextlib.suppress(Exception):
                stream.close()  # publishes what it has: a partial object, deleted next
            with contextlib.suppress(Exception):
                self._fs.delete_file(uri.fs_path)
            raise

    def _publish(self, staging: StorageUri, uri: StorageUri, written: int) -> None:
        found = self._call("writing", staging, self._fs.get_file_info, staging.fs_path)
        if found.type != pyarrow_fs().FileType.File or int(found.size) != written:
            raise UsageError(
                f"the object store kept {found.size} of the {written} bytes written for {uri}; nothing was "
                "published: retry"
            )
        if written > MAX_STAGED_OBJECT_BYTES:
            raise UsageError(
                f"{uri} would be {written} bytes; an object store copies at most "
                f"{MAX_STAGED_OBJECT_BYTES} in one request, so write smaller parts"
            )
        self._call("publishing", uri, self._fs.copy_file, staging.fs_path, uri.fs_path)

    def _staging_uri(self, uri: StorageUri) -> StorageUri:
        parent, _, name = uri.key.rpartition("/")
        staged = f".{name}.{uuid.uuid4().hex[:12]}{STAGING_SUFFIX}"
        return StorageUri(uri.scheme, uri.bucket, f"{parent}/{staged}" if parent else staged)

    @contextlib.contextmanager
    def _local_staging(self, uri: StorageUri, *, direct: bool = False) -> Iterator[Any]:
        """Write beside the target, fsync, rename, fsync the directory (a crash leaves old or new).

        ``direct``: a large file written once and not read back (an export's part) goes past the page
        cache where the filesystem allows (:mod:`.direct_io`); other files are written through it."""
        target = Path("/" + uri.key)
        staging = Path("/" + self._staging_uri(uri).key)
        try:
            make_private_dir(target.parent)
        except OSError as exc:
            raise describe_failure(exc, action="writing", uri=uri, settings=self.settings) from None
        fd = open_private(staging, os.O_WRONLY | os.O_TRUNC)  # 0600 before any byte is written
        stream: Any = None  # a DirectFileStream, or pyarrow's stream
        try:
            stream = open_direct(fd) if direct else None
            if stream is None:
                stream = self._call("writing", uri, self._fs.open_output_stream, str(staging))
                yield _EarlyWriteback(stream, fd) if _CAN_START_WRITEBACK else stream
            else:
                yield stream
            stream.close()
            os.fsync(fd)
            os.replace(staging, target)
            fsync_directory(target.parent)
        except BaseException:
            if isinstance(stream, DirectFileStream):
                stream.abort()  # the file is deleted next: nothing buffered is worth writing
            elif stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
            staging.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)

    # -- deletes --------------------------------------------------------------------------------
    def delete(self, relative: str) -> bool:
        """Delete the file at ``relative``; False if there was none."""
        uri = self.uri(relative)
        try:
            self._call("deleting", uri, self._fs.delete_file, uri.fs_path)
        except FileNotFoundError:
            return False
        if uri.is_local:  # a deletion is durable once its directory is synced
            fsync_directory(Path("/" + uri.key).parent)
        return True

    def delete_tree(self, relative: str = "") -> int:
        """Delete every file below ``relative`` (and, locally, the directories left empty); how many."""
        files = self.list_files(relative)
        for item in files:
            self.delete(item.path)
        if self.is_local:
            directory = self.local_path(relative)
            if directory.is_dir():
                for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                    if path.is_dir():
                        path.rmdir()
                directory.rmdir()
        return len(files)

    def delete_leftovers(self, relative: str = "") -> list[str]:
        """Delete the staging objects that interrupted writers left below ``relative``; their paths."""
        removed = []
        for item in self.list_files(relative):
            if item.path.rsplit("/", 1)[-1].endswith(STAGING_SUFFIX) and self.delete(item.path):
                removed.append(item.path)
        return removed

    # -- errors ---------------------------------------------------------------------------------
    def _call(self, action: str, uri: StorageUri, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` with pyarrow's errors turned into bulkops errors (missing files stay
        ``FileNotFoundError``, with the location in the message)."""
        try:
            return fn(*args)
        except FileNotFoundError:
            raise FileNotFoundError(f"{uri} does not exist") from None
        except OSError as exc:
            raise describe_failure(exc, action=action, uri=uri, settings=self.settings) from None


WRITEBACK_BYTES = 64 * 1024 * 1024
_CAN_START_WRITEBACK = hasattr(os, "posix_fadvise")


class _EarlyWriteback:
    """A local staging file's stream that has the kernel start writing it to disk every
    ``WRITEBACK_BYTES``, so the fsync that publishes the file waits for the last stretch only.

    Without it a whole part (~350 MB at dimension 1536) sat dirty in the page cache until its fsync:
    the export's final commit waited ~0.2 s for it, with listing over. ``POSIX_FADV_DONTNEED`` is
    how Python reaches Linux's writeback: it starts writing the dirty pages without waiting for them
    and drops the pages already on disk (the writer never reads them back). Elsewhere it is a hint."""

    def __init__(self, stream: Any, fd: int) -> None:
        self._stream = stream
        self._fd = fd
        self._dirty = 0

    def write(self, data: bytes | memoryview) -> int:
        written = int(self._stream.write(data))
        self._dirty += len(data)
        if self._dirty >= WRITEBACK_BYTES:
            self._dirty = 0
            os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return written

    def __getattr__(self, name: str) -> Any:  # tell, flush, close, closed: the stream's own
        return getattr(self._stream, name)


def fsync_directory(directory: Path) -> None:
    """Make creations, renames and deletions inside ``directory`` durable (local disks only)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_private(path: Path, flags: int = os.O_WRONLY) -> int:
    """A descriptor of ``path`` (created if missing) whose mode is exactly 0600, whatever the umask.

    Exports hold the user's data, so every local file bulkops writes is its owner's only, like the
    checkpoints. The mode is set after opening: the creation mode only loses bits to the umask (0277
    would leave the owner unable to write) and a file that existed keeps its old mode."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def make_private_dir(directory: Path) -> None:
    """``mkdir -p`` whose new directories are exactly 0700 (directories that exist are the user's and
    are left alone), each synced into its parent so a file published inside one survives a power loss
    together with the path to it."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # made meanwhile by another writer
            continue
        os.chmod(created, PRIVATE_DIR)
        fsync_directory(created.parent)
