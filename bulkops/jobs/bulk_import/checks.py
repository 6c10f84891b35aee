"""What bulkops checks before it asks Pinecone to import a directory, so a mistake costs nothing.

- **The layout** (:mod:`bulkops.storage.import_layout`, listed with this machine's credentials): one
  directory per namespace with ``.parquet`` files, within Pinecone's per-import limits.
- **The manifest beside it**, when the directory is a bulkops export (``<dir>.manifest.json``): an
  unfinished export is refused (its parts may include one uploaded and never committed, which Pinecone
  would import); every ``.parquet`` file must be one the manifest lists, at its size (Pinecone imports
  every ``.parquet`` file it finds, so a stray part would be imported twice over); each namespace's
  directory must be named after the namespace (a Parquet export made without ``for_bulk_import``
  percent-encodes some names, which Pinecone would take literally); the dimension must be the index's.
- **The target namespaces** must not exist yet, and the default namespace must be empty (Pinecone
  refuses otherwise, after the import has started).

Listing and reading block: the job runs :func:`inspect_directory` in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulkops.api.protocols import DataPlane
from bulkops.errors import UsageError
from bulkops.jobs.load.checks import IndexShape, check_manifest
from bulkops.jobs.namespaces import existing_namespaces, label
from bulkops.sinks.location import ExportLocation
from bulkops.sinks.manifest import Manifest, read_manifest
from bulkops.storage import open_storage
from bulkops.storage.import_layout import DEFAULT_NAMESPACE_DIR, MAX_RECORDS, ImportPlan, scan_import_layout

__all__ = ["Directory", "check_namespaces_free", "inspect_directory"]


@dataclass(frozen=True, slots=True)
class Directory:
    """What an import directory holds: its files by namespace, and the manifest if bulkops wrote it."""

    plan: ImportPlan
    manifest: Manifest | None

    @property
    def namespaces(self) -> list[str]:
        return self.plan.namespaces

    def expected(self) -> dict[str, int] | None:
        """Records per namespace the manifest promises (None: not a bulkops export)."""
        if self.manifest is None:
            return None
        return {ns.name: ns.count for ns in self.manifest.namespaces if ns.count}


def inspect_directory(uri: str, *, storage_endpoint: str | None, shape: IndexShape) -> Directory:
    """List and check the directory at ``uri``; a :class:`UsageError` says what is wrong."""
    storage = open_storage(uri, storage_endpoint=storage_endpoint)
    plan = scan_import_layout(storage)
    if not storage.root.key:  # a bucket's root: no manifest can be beside it
        return Directory(plan, None)
    location = ExportLocation.open(uri, storage_endpoint=storage_endpoint)
    manifest = read_manifest(location)  # an unfinished export raises here
    if manifest is not None:
        _match_manifest(uri, plan, manifest, location)
        check_manifest(manifest, shape, uri)
    return Directory(plan, manifest)


def _match_manifest(uri: str, plan: ImportPlan, manifest: Manifest, location: ExportLocation) -> None:
    if manifest.output_format != "parquet":
        raise UsageError(
            f"{location.manifest} describes a {manifest.output_format} export; Pinecone's bulk import "
            "reads Parquet: export with --for-bulk-import (for_bulk_import=True)"
        )
    listed = {item.path: item.size for item in plan.files}
    parts = {part.path: part for part in manifest.parts}
    stray = sorted(set(listed) - set(parts))
    if stray:
        raise UsageError(
            f"{uri} holds {len(stray)} .parquet file(s) its manifest does not list ({stray[0]}"
            f"{', …' if len(stray) > 1 else ''}): Pinecone would import them too; remove them, or export "
            "again into an empty location"
        )
    for path, part in parts.items():
        if listed.get(path) != part.bytes:
            state = "missing" if path not in listed else f"{listed[path]} bytes, not {part.bytes}"
            raise UsageError(
                f"{uri}{path} is {state} (the manifest {location.manifest} lists it): the export was changed "
                "after it finished; export it again"
            )
        directory = path.partition("/")[0]
        imported_as = "" if directory == DEFAULT_NAMESPACE_DIR else directory  # Pinecone reads it literally
        if part.namespace is not None and imported_as != part.namespace:
            raise UsageError(
                f"namespace {label(part.namespace)!r} is in the directory {directory!r}, which Pinecone "
                "would import as a namespace of that name: export with --for-bulk-import "
                "(for_bulk_import=True)"
            )
    if manifest.total > MAX_RECORDS:
        raise UsageError(
            f"{uri} holds {manifest.total:,} records; one bulk import takes at most {MAX_RECORDS:,}: split "
            "the export"
        )


async def check_namespaces_free(dp: DataPlane, namespaces: list[str], *, index: str) -> None:
    """Pinecone imports only into namespaces that do not exist yet (the default one: empty)."""
    existing = await existing_namespaces(dp)
    taken = [ns for ns in namespaces if (existing.get(ns, 0) > 0 if ns == "" else ns in existing)]
    if taken:
        names = ", ".join(repr(label(ns)) for ns in taken[:5]) + (" …" if len(taken) > 5 else "")
        raise UsageError(
            f"namespace(s) {names} already exist in {index} (the default namespace must be empty); a bulk "
            "import only creates new namespaces: delete them first, import into another index, or use "
            "bulkops import --input (upserts, into existing namespaces)"
        )
