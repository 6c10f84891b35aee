"""What an export is (:class:`ExportSpec`), checked before anything is sent, and its output's rules.

The identity is the index, the namespaces, the selection, the output (a local path or an ``s3://``,
``gs://`` URI), whether it is laid out for Pinecone's bulk import, and which fields are written;
``commit_every``, ``overwrite`` and the storage endpoint are options stored beside it. An existing
output is refused (or cleared with ``overwrite``) before the first record is written, so a refused
call changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from bulkops.errors import Param, UsageError
from bulkops.jobs.export.bulk_layout import check_bulk_import_request
from bulkops.jobs.ids import IdsInput, IdsSource
from bulkops.jobs.namespaces import NamespaceSelection
from bulkops.jobs.selection import IdsRef, Selection, build_selection
from bulkops.jobs.target import TargetSpec
from bulkops.sinks.location import ExportLocation, canonical_location, is_object_store

__all__ = [
    "ExportOptions",
    "ExportSpec",
    "OutputFormat",
    "build_export",
    "check_output",
    "clear_output",
    "output_format",
    "refuse_existing_output",
    "state_checkpoint",
]

SPEC_VERSION = 2
OutputFormat = Literal["jsonl", "parquet"]


def output_format(
    path: str | os.PathLike[str], *, strict: bool = False, param: str = "output"
) -> OutputFormat:
    """``*.parquet`` is a Parquet directory, anything else JSONL. ``strict`` (the CLI): the name must end
    in ``.jsonl`` or ``.parquet``, so the format is never a guess."""
    name = os.fspath(path).rstrip("/").rsplit("/", 1)[-1]
    suffix = Path(name).suffix.lower()
    if strict and suffix not in (".jsonl", ".parquet"):
        raise UsageError(
            Param(param, str(path)), ": the name must end in .jsonl or .parquet (that picks the format)"
        )
    return "parquet" if suffix == ".parquet" else "jsonl"


def state_checkpoint(kind: str, location: str) -> Path:
    """A checkpoint for a job whose data is in an object store (a checkpoint is a local SQLite file):
    ``$XDG_STATE_HOME/bulkops/<kind>-<bucket>-<hash>.checkpoint``, the same path for the same location,
    so the same call run again after a crash resumes."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "bulkops"
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    bucket = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in location.split("/")[2])[:40]
    return base / f"{kind}-{bucket}-{digest}.checkpoint"


def check_output(
    output: Path | str,
    given: str,
    *,
    param: str = "output",
    storage_endpoint: str | None = None,
    directory: bool | None = None,
) -> None:
    """The output's folder exists and takes a new file (a real probe: permission bits lie for root and
    read-only mounts); a JSONL output is not a directory. On an object store: the bucket exists and the
    credentials are accepted (nothing is written). ``param``: the argument that named it; ``directory``:
    the output is a directory (default: when its name ends in ``.parquet``)."""
    if isinstance(output, str) and is_object_store(output):
        ExportLocation.open(output, storage_endpoint=storage_endpoint).parent.check()
        return
    output = Path(output)
    parent = output.parent
    if not parent.exists():
        raise UsageError(
            Param(param, given), f": the folder {parent} does not exist; create it or choose another path"
        )
    if not parent.is_dir():
        raise UsageError(Param(param, given), f": {parent} is not a directory")
    try:
        fd, scratch = tempfile.mkstemp(prefix=".bulkops-probe-", dir=parent)
    except OSError as exc:
        raise UsageError(Param(param, given), f": cannot write in {parent} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(scratch)
    is_directory = directory if directory is not None else output_format(output) == "parquet"
    if not is_directory and output.is_dir():
        raise UsageError(
            Param(param, given), " is a directory; JSONL exports go to a file (or name it *.parquet)"
        )


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """How the export runs; not part of its identity. ``commit_every``: records between durable commits
    (Parquet: also the rows per part file)."""

    commit_every: int = 50_000
    overwrite: bool = False
    storage_endpoint: str | None = None  # an S3-compatible store's URL (None: the environment's)

    def to_json(self) -> dict[str, Any]:
        return {
            "commit_every": self.commit_every,
            "overwrite": self.overwrite,
            "storage_endpoint": self.storage_endpoint,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ExportOptions:
        return cls(
            int(doc.get("commit_every", 50_000)),
            bool(doc.get("overwrite", False)),
            doc.get("storage_endpoint"),
        )


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """An export: which index, namespaces and records, into which file, with which fields.

    ``output``: an absolute local path or an object store's URI. ``for_bulk_import``: Parquet in the
    layout Pinecone's bulk import reads, namespace directories named literally (names that would need
    encoding are refused).
    """

    kind: ClassVar[str] = "export"

    target: TargetSpec
    namespaces: NamespaceSelection
    selection: Selection
    output: str  # an absolute path, or s3:// / gs://
    include_values: bool = True
    include_metadata: bool = True
    options: ExportOptions = field(default_factory=ExportOptions)
    for_bulk_import: bool = False

    @property
    def format(self) -> OutputFormat:
        return "parquet" if self.for_bulk_import else output_format(self.output)

    @property
    def output_path(self) -> Path:
        """The local path of the output (a local export only)."""
        return Path(self.output)

    @property
    def is_local(self) -> bool:
        return not is_object_store(self.output)

    def location(self) -> ExportLocation:
        """Where the output is (opens the store's filesystem; no request)."""
        return ExportLocation.open(self.output, storage_endpoint=self.options.storage_endpoint)

    def default_checkpoint(self) -> Path:
        """``<output>.checkpoint`` (the checkpoint belongs with the file it describes), or for an object
        store a local file named after the URI (:func:`state_checkpoint`)."""
        if not self.is_local:
            return state_checkpoint("export", self.output)
        return self.output_path.with_name(self.output_path.name + ".checkpoint")

    def indexes(self) -> tuple[TargetSpec, ...]:
        return (self.target,)

    def identity(self) -> dict[str, Any]:
        return {
            "namespaces": self.namespaces.identity(),
            "selection": self.selection.identity(),
            "output": self.output,
            "include_values": self.include_values,
            "include_metadata": self.include_metadata,
            "for_bulk_import": self.for_bulk_import,
        }

    def describe(self) -> str:
        layout = " (laid out for bulk import)" if self.for_bulk_import else ""
        return (
            f"export {self.selection.describe()} in namespace(s) {self.namespaces.describe()} of "
            f"{self.target.describe()} to {self.output}{layout}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "target": self.target.to_json(),
            "namespaces": self.namespaces.to_json(),
            "selection": self.selection.to_json(),
            "output": self.output,
            "include_values": self.include_values,
            "include_metadata": self.include_metadata,
            "for_bulk_import": self.for_bulk_import,
            "options": self.options.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ExportSpec:
        if "version" not in doc:
            return _from_v1(doc)
        return cls(
            TargetSpec.from_json(doc["target"]),
            NamespaceSelection.from_json(doc["namespaces"]),
            Selection.from_json(doc["selection"]),
            str(doc["output"]),
            bool(doc.get("include_values", True)),
            bool(doc.get("include_metadata", True)),
            ExportOptions.from_json(doc.get("options") or {}),
            bool(doc.get("for_bulk_import", False)),
        )


def _from_v1(doc: Mapping[str, Any]) -> ExportSpec:
    """A checkpoint written before specs (index, host, namespaces, source, prefix, ids, filter, to...)."""
    source = doc.get("source")
    if source == "filter":
        selection = Selection("filter", filter=doc["filter"])
    elif source == "ids":
        ids = doc["ids"]
        path = str(ids.get("source") or "")
        selection = Selection(
            "ids", ids=IdsRef(path if path.startswith("/") else None, str(ids["sha256"]), 0)
        )
    elif doc.get("prefix"):
        selection = Selection("prefixes", prefixes=(str(doc["prefix"]),))
    else:
        selection = Selection("everything")
    all_namespaces = bool(doc.get("all_namespaces"))
    return ExportSpec(
        TargetSpec(index=doc.get("index"), host=doc.get("host")),
        NamespaceSelection(None if all_namespaces else tuple(doc.get("namespaces") or ("",))),
        selection,
        str(doc["to"]),
        bool(doc.get("include_values", True)),
        bool(doc.get("include_metadata", True)),
    )


def build_export(
    *,
    output: str | os.PathLike[str],
    target: TargetSpec,
    namespace: str | None = None,
    namespaces: Sequence[str] | None = None,
    all_namespaces: bool = False,
    allow_missing: bool = False,
    prefix: str | Sequence[str] | None = None,
    ids: IdsSource | IdsInput | None = None,
    filter: Mapping[str, Any] | None = None,
    include_values: bool = True,
    include_metadata: bool = True,
    commit_every: int = 50_000,
    overwrite: bool = False,
    strict_output: bool = False,
    for_bulk_import: bool = False,
    storage_endpoint: str | None = None,
) -> tuple[ExportSpec, IdsInput | None]:
    """Check an export's arguments and build its spec (nothing is sent to the index or written).

    ``prefix`` ``""`` means every record, as no prefix does. ``strict_output``: see :func:`output_format`.
    ``output`` on an object store: the bucket and the credentials are checked (one request).
    """
    if isinstance(commit_every, bool) or not isinstance(commit_every, int) or commit_every < 1:
        raise UsageError(Param("commit_every", commit_every), " must be at least 1")
    selection, prepared = build_selection(
        prefix=None if prefix == "" else prefix, ids=ids, filter=filter, everything=False, required=False
    )
    selected = NamespaceSelection.build(
        namespace=namespace, namespaces=namespaces, all_namespaces=all_namespaces, allow_missing=allow_missing
    )
    given = os.fspath(output)
    location = canonical_location(given)
    if for_bulk_import:
        check_bulk_import_request(location, namespaces=selected, include_values=include_values)
    else:
        output_format(location, strict=strict_output)
    check_output(
        location if is_object_store(location) else Path(location),
        given,
        storage_endpoint=storage_endpoint,
        directory=for_bulk_import or None,
    )
    spec = ExportSpec(
        target,
        selected,
        selection,
        location,
        include_values,
        include_metadata,
        ExportOptions(commit_every, overwrite, storage_endpoint),
        for_bulk_import,
    )
    return spec, prepared


def refuse_existing_output(spec: ExportSpec, checkpoint: Path, location: ExportLocation) -> None:
    """Before a checkpoint is even created: an output that no checkpoint describes is someone else's."""
    if not spec.options.overwrite and not checkpoint.exists() and location.exists():
        raise UsageError(
            f"{location} already exists and there is no checkpoint ({checkpoint}) of an export into it; "
            "remove it, choose another path, or pass ",
            Param("overwrite", True),
        )


def clear_output(spec: ExportSpec, checkpoint: Path, location: ExportLocation) -> None:
    """A fresh job starts from an empty output: refuse to clobber one unless asked to."""
    if location.exists() and not spec.options.overwrite:
        raise UsageError(
            f"{location} already exists and {checkpoint} holds no export into it; remove it, choose another "
            "path, or pass ",
            Param("overwrite", True),
        )
    location.clear()
