"""What an import directory holds, checked against Pinecone's rules before anything is written.

Layout (Pinecone's "Import records" guide): the URI names a directory holding one subdirectory per
target namespace (``__default__`` for the default namespace); every ``.parquet`` file below a
namespace's subdirectory is imported into it, other files are ignored. Per import, Pinecone's
documented limits: at most ``MAX_NAMESPACES`` namespaces, ``MAX_FILES`` files, ``MAX_FILE_BYTES`` per
file and ``MAX_IMPORT_BYTES`` in all (``MAX_RECORDS`` records is checked while reading). Namespace
directories are taken literally, as Pinecone does: ``a%2Fb`` is the namespace ``a%2Fb``.

Runs in a worker thread (it lists the store).
"""

from __future__ import annotations

from dataclasses import dataclass

from bulkops.errors import BulkopsError
from bulkops.server.bulk_import.failure import ImportFailure
from bulkops.server.context import DEFAULT_ALIAS, namespace_of
from bulkops.server.problems import ApiProblem
from bulkops.storage import Storage

__all__ = [
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_IMPORT_BYTES",
    "MAX_NAMESPACES",
    "MAX_RECORDS",
    "ImportFile",
    "ImportPlan",
    "scan_layout",
]

MAX_NAMESPACES = 100
MAX_FILES = 100_000
MAX_FILE_BYTES = 10 * 1000**3
MAX_IMPORT_BYTES = 1000**4
MAX_RECORDS = 100_000_000
PARQUET_SUFFIX = ".parquet"
_LAYOUT_HINT = (
    "an import directory holds one subdirectory per namespace with .parquet files in it, "
    "e.g. {root}/__default__/part-00000.parquet (__default__ is the default namespace)"
)


@dataclass(frozen=True, slots=True)
class ImportFile:
    """One Parquet file: its path below the import directory, its namespace (storage key), its size."""

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


def scan_layout(storage: Storage) -> ImportPlan:
    """List the import directory and check it; an :class:`ImportFailure` says what is wrong."""
    root = storage.root
    try:
        listed = storage.list_files()
    except BulkopsError as exc:  # unknown bucket, refused or missing credentials, unreachable store
        raise ImportFailure(str(exc)) from None
    hint = _LAYOUT_HINT.format(root=root)
    if not listed:
        raise ImportFailure(f"{root} is empty or does not exist: {hint}")
    files: list[ImportFile] = []
    for item in listed:
        if not item.path.endswith(PARQUET_SUFFIX):
            continue
        directory, _, rest = item.path.partition("/")
        if not rest:
            raise ImportFailure(f"{root.join(item.path)} is not in a namespace directory: {hint}")
        files.append(ImportFile(item.path, _namespace(directory, root.join(directory)), item.size))
    if not files:
        raise ImportFailure(f"{root} holds no .parquet files: {hint}")
    plan = ImportPlan(tuple(files))
    _check_limits(plan, str(root))
    return plan


def _namespace(directory: str, where: object) -> str:
    if directory == DEFAULT_ALIAS:
        return ""
    try:
        return namespace_of(directory, "2025-10")[0]
    except ApiProblem as problem:
        raise ImportFailure(f"{where}: {problem.message}") from None


def _check_limits(plan: ImportPlan, root: str) -> None:
    namespaces = len(plan.namespaces)
    if namespaces > MAX_NAMESPACES:
        raise ImportFailure(
            f"{root} has {namespaces} namespace directories; one import takes at most {MAX_NAMESPACES}: "
            "split it into several imports"
        )
    if len(plan.files) > MAX_FILES:
        raise ImportFailure(
            f"{root} has {len(plan.files)} .parquet files; one import takes at most {MAX_FILES}: "
            "write fewer, larger files or split the import"
        )
    for item in plan.files:
        if item.size > MAX_FILE_BYTES:
            raise ImportFailure(
                f"{root}/{item.path} is {item.size} bytes; one file may hold at most {MAX_FILE_BYTES}: "
                "write smaller files"
            )
    if plan.total_bytes > MAX_IMPORT_BYTES:
        raise ImportFailure(
            f"{root} holds {plan.total_bytes} bytes of Parquet; one import takes at most "
            f"{MAX_IMPORT_BYTES}: split it into several imports"
        )
