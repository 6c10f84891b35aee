"""What an export for Pinecone's bulk import must be, checked before anything is written.

Pinecone imports every ``.parquet`` file below ``<import dir>/<namespace>/`` into that namespace and reads
the directory name literally (``__default__`` is the default namespace). So an export with
``for_bulk_import`` writes Parquet (``id``, ``values``, ``sparse_values``, ``metadata``), names each
namespace directory after the namespace itself and refuses what the import would reject or
misread: a namespace whose name the layout would have to encode (it would be imported under the encoded
name), an export without values, more namespaces or records than one import takes, more files than
one import reads. The limits are :mod:`bulkops.storage.import_layout`'s (Pinecone's documented ones).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bulkops.errors import Param, UsageError
from bulkops.jobs.namespaces import NamespaceSelection, label
from bulkops.sinks.parquet import namespace_to_dir
from bulkops.storage.import_layout import MAX_FILES, MAX_NAMESPACES, MAX_RECORDS

__all__ = ["check_bulk_import_namespaces", "check_bulk_import_request", "check_bulk_import_size"]


def check_bulk_import_request(location: str, *, namespaces: NamespaceSelection, include_values: bool) -> None:
    """What can be checked from the arguments alone (nothing sent)."""
    if location.rstrip("/").lower().endswith(".jsonl"):
        raise UsageError(
            Param("output", location),
            ": Pinecone's bulk import reads Parquet; drop the .jsonl name (the export is a directory of "
            "namespace directories with .parquet files)",
            param="output",
        )
    if not include_values:
        raise UsageError(
            Param("for_bulk_import", True),
            " needs the values (Pinecone's import requires them); do not pass ",
            Param("include_values", False),
            param="for_bulk_import",
        )
    if namespaces.names is not None:
        check_bulk_import_namespaces(namespaces.names)


def check_bulk_import_namespaces(names: Sequence[str]) -> None:
    """Every namespace can be a directory Pinecone reads literally, and one import takes them all."""
    for name in names:
        if name and namespace_to_dir(name) != name:
            raise UsageError(
                f"namespace {label(name)!r} cannot be a bulk-import directory: Pinecone reads directory "
                f"names literally and this name would have to be written as {namespace_to_dir(name)!r}; "
                "export it without ",
                Param("for_bulk_import", True),
                " (and use bulkops import or bulkops copy), or leave it out",
                param="for_bulk_import",
            )
    if len(names) > MAX_NAMESPACES:
        raise UsageError(
            f"{len(names)} namespaces: one bulk import takes at most {MAX_NAMESPACES}; export them in groups "
            "of at most that many (one output each), each imported on its own",
            param="for_bulk_import",
        )


def check_bulk_import_size(records: int, namespaces: int, commit_every: int) -> None:
    """The records the export will write fit one import (``records``: what the index stats count)."""
    if records > MAX_RECORDS:
        raise UsageError(
            f"the export would hold {records:,} records; one bulk import takes at most {MAX_RECORDS:,}: "
            "export the namespaces (or prefixes) in several parts, one output each",
            param="for_bulk_import",
        )
    files = math.ceil(records / max(1, commit_every)) + namespaces
    if files > MAX_FILES:
        raise UsageError(
            f"the export would write about {files:,} Parquet files at ",
            Param("commit_every", commit_every),
            f" records each; one bulk import reads at most {MAX_FILES:,}: raise it",
            param="commit_every",
        )
