"""What an export is (:class:`ExportSpec`), checked before anything is sent, and its output's rules.

The identity is the index, the namespaces, the selection, the output path and which fields are
written; ``commit_every`` and ``overwrite`` are options stored beside it. An existing output is
refused (or cleared with ``overwrite``) before the first record is written, so a refused call changes
nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from bulkops.errors import Param, UsageError
from bulkops.jobs.ids import IdsInput, IdsSource
from bulkops.jobs.namespaces import NamespaceSelection
from bulkops.jobs.selection import IdsRef, Selection, build_selection
from bulkops.jobs.target import TargetSpec
from bulkops.sinks.manifest import manifest_path

__all__ = [
    "ExportOptions",
    "ExportSpec",
    "OutputFormat",
    "build_export",
    "check_output",
    "clear_output",
    "output_format",
    "refuse_existing_output",
]

SPEC_VERSION = 2
OutputFormat = Literal["jsonl", "parquet"]


def output_format(
    path: str | os.PathLike[str], *, strict: bool = False, param: str = "output"
) -> OutputFormat:
    """``*.parquet`` is a Parquet directory, anything else one JSONL file. ``strict`` (the CLI): the name
    must end in ``.jsonl`` or ``.parquet``, so the format is never a guess."""
    suffix = Path(path).suffix.lower()
    if strict and suffix not in (".jsonl", ".parquet"):
        raise UsageError(
            Param(param, str(path)), ": the name must end in .jsonl or .parquet (that picks the format)"
        )
    return "parquet" if suffix == ".parquet" else "jsonl"


def check_output(output: Path, given: str, *, param: str = "output") -> None:
    """The output's folder exists and takes a new file (a real probe: permission bits lie for root and
    read-only mounts); a JSONL output is not a directory. ``param``: the argument that named it."""
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
    if output_format(output) == "jsonl" and output.is_dir():
        raise UsageError(
            Param(param, given), " is a directory; JSONL exports go to a file (or name it *.parquet)"
        )


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """How the export runs; not part of its identity. ``commit_every``: records between durable commits
    (Parquet: also the rows per part file)."""

    commit_every: int = 50_000
    overwrite: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"commit_every": self.commit_every, "overwrite": self.overwrite}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ExportOptions:
        return cls(int(doc.get("commit_every", 50_000)), bool(doc.get("overwrite", False)))


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """An export: which index, namespaces and records, into which file, with which fields."""

    kind: ClassVar[str] = "export"

    target: TargetSpec
    namespaces: NamespaceSelection
    selection: Selection
    output: str  # absolute
    include_values: bool = True
    include_metadata: bool = True
    options: ExportOptions = field(default_factory=ExportOptions)

    @property
    def format(self) -> OutputFormat:
        return output_format(self.output)

    @property
    def output_path(self) -> Path:
        return Path(self.output)

    def default_checkpoint(self) -> Path:
        """``<output>.checkpoint``: the checkpoint belongs with the file it describes."""
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
        }

    def describe(self) -> str:
        return (
            f"export {self.selection.describe()} in namespace(s) {self.namespaces.describe()} of "
            f"{self.target.describe()} to {self.output}"
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
) -> tuple[ExportSpec, IdsInput | None]:
    """Check an export's arguments and build its spec (nothing is sent or written).

    ``prefix`` ``""`` means every record, as no prefix does. ``strict_output``: see :func:`output_format`.
    """
    if isinstance(commit_every, bool) or not isinstance(commit_every, int) or commit_every < 1:
        raise UsageError(Param("commit_every", commit_every), " must be at least 1")
    selection, prepared = build_selection(
        prefix=None if prefix == "" else prefix, ids=ids, filter=filter, everything=False, required=False
    )
    selected = NamespaceSelection.build(
        namespace=namespace, namespaces=namespaces, all_namespaces=all_namespaces, allow_missing=allow_missing
    )
    given = str(output)
    path = Path(output).absolute()
    output_format(path, strict=strict_output)
    check_output(path, given)
    spec = ExportSpec(
        target,
        selected,
        selection,
        str(path),
        include_values,
        include_metadata,
        ExportOptions(commit_every, overwrite),
    )
    return spec, prepared


def refuse_existing_output(spec: ExportSpec, checkpoint: Path) -> None:
    """Before a checkpoint is even created: an output that no checkpoint describes is someone else's."""
    output = spec.output_path
    if not spec.options.overwrite and output.exists() and not checkpoint.exists():
        raise UsageError(
            f"{output} already exists and there is no checkpoint ({checkpoint}) of an export into it; "
            "remove it, choose another path, or pass ",
            Param("overwrite", True),
        )


def clear_output(spec: ExportSpec, checkpoint: Path) -> None:
    """A fresh job starts from an empty output: refuse to clobber one unless asked to."""
    output = spec.output_path
    if not output.exists():
        manifest_path(output).unlink(missing_ok=True)
        return
    if not spec.options.overwrite:
        raise UsageError(
            f"{output} already exists and {checkpoint} holds no export into it; remove it, choose another "
            "path, or pass ",
            Param("overwrite", True),
        )
    if output.is_dir():
        shutil.rmtree(output)
    else:
        output.unlink()
    manifest_path(output).unlink(missing_ok=True)
