"""What a directory must hold for Pinecone's bulk import, checked the same way by the client (before it
starts an import) and by the local server (before it imports one).

Layout (Pinecone's "Import records" guide): the URI names a directory holding one subdirectory per
target namespace (``__default__`` for the default namespace); every ``.parquet`` file below a
namespace's subdirectory is imported into it, other files are ignored. Per import, Pinecone's
documented limits: at most ``MAX_NAMESPACES`` namespaces, ``MAX_FILES`` files, ``MAX_FILE_BYTES`` per
file and ``MAX_IMPORT_BYTES`` in all (``MAX_RECORDS`` records, which only reading can count).
Namespace directories are taken literally, as Pinecone does: ``a%2Fb`` is the namespace ``a%2Fb``.

Blocks (it lists the store): async callers run it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bulkops.errors import UsageError
from bulkops.storage.store import Storage

__all__ = [
    "DEFAULT_NAMESPACE_DIR",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_IMPORT_BYTES",
    "MAX_NAMESPACES",
    "MAX_RECORDS",
    "PARQUET_SUFFIX",
    "ImportFile",
    "ImportPlan",
    "check_import_limits",
    "scan_import_layout",
]

MAX_NAMESPACES = 100
MAX_FILES = 100_000
MAX_FILE_BYTES = 10 * 1000**3
MAX_IMPORT_BYTES = 1000**4
MAX_RECORDS = 100_000_000
PARQUET_SUFFIX = ".parquet"
DEFAULT_NAMESPACE_DIR = "__default__"
_LAYOUT_HINT = (
    "an import directory holds one subdirectory per namespace with .parquet files in it, "
    "e.g. {root}/__default__/part-00000.parquet (__default__ is the default namespace)"
)


@dataclass(frozen=True, slots=True)
class ImportFile:
    """One Parquet file: its path below the import directory, its namespace ("" = default), its size."""

    path: str
    namespace: str
    size: int


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """Every file to import, in the order they are read (namespace directory, then path)."""

    files: tuple[ImportFile, ...]

    @property
    def namespaces(self) -> list[str]:
        return list(dict.fromkeys(f.namespace for f in self.files))

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def _literal_namespace(directory: str) -> str:
    return "" if directory == DEFAULT_NAMESPACE_DIR else directory


def scan_import_layout(
    storage: Storage, *, namespace_of: Callable[[str], str] = _literal_namespace
) -> ImportPlan:
    """List the import directory and check it against the layout and the limits; a
    :class:`UsageError` says what is wrong (storage errors pass through: unknown bucket, credentials).

    ``namespace_of`` maps a directory name to its namespace (and may refuse it with a UsageError)."""
    root = storage.root
    listed = storage.list_files()
    hint = _LAYOUT_HINT.format(root=root)
    if not listed:
        raise UsageError(f"{root} is empty or does not exist: {hint}")
    files: list[ImportFile] = []
    for item in listed:
        if not item.path.endswith(PARQUET_SUFFIX):
            continue
        directory, _, rest = item.path.partition("/")
        if not rest:
            raise UsageError(f"{root.join(item.path)} is not in a namespace directory: {hint}")
        files.append(ImportFile(item.path, namespace_of(directory), item.size))
    if not files:
        raise UsageError(f"{root} holds no .parquet files: {hint}")
    plan = ImportPlan(tuple(files))
    check_import_limits(plan, str(root))
    return plan


def check_import_limits(plan: ImportPlan, root: str) -> None:
    """Pinecone's per-import limits on namespaces, files and bytes."""
    namespaces = len(plan.namespaces)
    if namespaces > MAX_NAMESPACES:
        raise UsageError(
            f"{root} has {namespaces} namespace directories; one import takes at most {MAX_NAMESPACES}: "
            "split it into several imports"
        )
    if len(plan.files) > MAX_FILES:
        raise UsageError(
            f"{root} has {len(plan.files)} .parquet files; one import takes at most {MAX_FILES}: "
            "write fewer, larger files or split the import"
        )
    for item in plan.files:
        if item.size > MAX_FILE_BYTES:
            raise UsageError(
                f"{root}/{item.path} is {item.size} bytes; one file may hold at most {MAX_FILE_BYTES}: "
                "write smaller files"
            )
    if plan.total_bytes > MAX_IMPORT_BYTES:
        raise UsageError(
            f"{root} holds {plan.total_bytes} bytes of Parquet; one import takes at most "
            f"{MAX_IMPORT_BYTES}: split it into several imports"
        )
