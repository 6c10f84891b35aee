"""What an export call asks for, checked before anything is sent or written, and its output's state.

Bad arguments raise UsageError here; an existing output is refused (or cleared with ``overwrite``)
before the first record is written, so a refused call changes nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkops.errors import UsageError
from bulkops.jobs.ids_input import IdsInput, prepare_ids
from bulkops.jobs.session import (
    checkpoint_path_for,
)
from bulkops.sinks.manifest import manifest_path

__all__ = ["ExportSpec", "clear_output", "refuse_existing_output", "validate_export"]


@dataclass(slots=True)
class ExportSpec:
    """The checked arguments of one export: which namespaces, which records, which fields."""

    namespaces: list[str] | None
    all_namespaces: bool
    prefix: str | None
    ids: IdsInput | None
    filter: Mapping[str, Any] | None
    include_values: bool
    include_metadata: bool

    @property
    def kind(self) -> str:
        if self.filter is not None:
            return "filter"
        if self.ids is not None:
            return "ids"
        return "prefix"


def _check_filter(filter: Mapping[str, Any]) -> None:
    if not isinstance(filter, Mapping) or not filter:
        raise UsageError("filter= must be a non-empty metadata filter, e.g. {'genre': {'$eq': 'drama'}}")


def validate_export(
    *,
    to: str | Path,
    namespace: str | None,
    namespaces: Sequence[str] | None,
    all_namespaces: bool,
    prefix: str | None,
    ids: Iterable[str] | str | Path | None,
    filter: Mapping[str, Any] | None,
    checkpoint: str | Path | None,
    include_values: bool,
    include_metadata: bool,
    commit_every: int,
) -> tuple[ExportSpec, Path, str, Path]:
    """Check the arguments (nothing is sent or written before this passes)."""
    selectors = [x for x in (prefix, ids, filter) if x is not None]
    if len(selectors) > 1:
        raise UsageError("give at most one of prefix=, ids= or filter=")
    if sum((namespace is not None, namespaces is not None, all_namespaces)) > 1:
        raise UsageError("give at most one of namespace=, namespaces= or all_namespaces=True")
    if filter is not None:
        _check_filter(filter)
    if namespaces is not None and (isinstance(namespaces, str) or not list(namespaces)):
        raise UsageError("namespaces= must be a non-empty list of namespace names")
    if commit_every < 1:
        raise UsageError("commit_every must be at least 1")
    output = Path(to).absolute()
    fmt = "parquet" if output.suffix == ".parquet" else "jsonl"
    if not output.parent.is_dir():
        raise UsageError(f"the folder of {output} does not exist; create it or choose another path")
    if fmt == "jsonl" and output.is_dir():
        raise UsageError(f"{output} is a directory; JSONL exports go to a file (or name it *.parquet)")
    # Validated in full before anything is sent, re-readable for each namespace, fingerprinted so
    # that a checkpoint is tied to exactly these IDs.
    ids_input = (
        prepare_ids(Path(ids).absolute() if isinstance(ids, str | Path) else ids) if ids is not None else None
    )
    spec = ExportSpec(
        namespaces=[namespace] if namespace is not None else (list(namespaces) if namespaces else None),
        all_namespaces=all_namespaces,
        prefix=prefix,
        ids=ids_input,
        filter=dict(filter) if filter is not None else None,
        include_values=include_values,
        include_metadata=include_metadata,
    )
    if spec.namespaces is None and not all_namespaces:
        spec.namespaces = [""]
    checkpoint_path = checkpoint_path_for(output, checkpoint, ".checkpoint")

    return spec, output, fmt, checkpoint_path


def refuse_existing_output(output: Path, checkpoint_path: Path, *, overwrite: bool) -> None:
    if not overwrite and output.exists() and not checkpoint_path.exists():
        raise UsageError(
            f"{output} already exists and there is no checkpoint ({checkpoint_path}) of an export into "
            "it; remove it, choose another path, or pass overwrite=True"
        )


def clear_output(output: Path, checkpoint_path: Path, *, overwrite: bool) -> None:
    """A fresh job starts from an empty output: refuse to clobber one unless asked to."""
    if not output.exists():
        manifest_path(output).unlink(missing_ok=True)
        return
    if not overwrite:
        raise UsageError(
            f"{output} already exists and {checkpoint_path} holds no export into it; "
            "remove it, choose another path, or pass overwrite=True"
        )
    if output.is_dir():
        shutil.rmtree(output)
    else:
        output.unlink()
    manifest_path(output).unlink(missing_ok=True)
