"""What an import is (:class:`LoadSpec`): an export (a local path or an ``s3://``, ``gs://`` URI), the
index it goes into, and its options.

The identity is the index, the input and the namespace override; how records are batched, what happens
to a rejected record and the storage endpoint are options stored beside it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from bulkops.errors import Param, UsageError
from bulkops.jobs.export.spec import state_checkpoint
from bulkops.jobs.namespaces import NamespaceSelection, label
from bulkops.jobs.target import TargetSpec
from bulkops.models import MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES
from bulkops.sinks.formats import open_reader
from bulkops.sinks.location import canonical_location, is_object_store

__all__ = ["LoadOptions", "LoadSpec", "OnError", "build_load"]

SPEC_VERSION = 2
OnError = Literal["stop", "skip"]
_MIN_BATCH_BYTES = 4096


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How the import runs; not part of its identity.

    ``on_error``: ``"stop"`` at the first record the index refuses (nothing after it is written), or
    ``"skip"`` it and go on. ``commit_every``: input records between checkpoint commits (also every 2 s).
    """

    on_error: OnError = "stop"
    batch_size: int = MAX_IDS_PER_REQUEST
    max_batch_bytes: int = MAX_UPSERT_BYTES
    commit_every: int = 10_000
    storage_endpoint: str | None = None  # an S3-compatible store's URL (None: the environment's)

    def to_json(self) -> dict[str, Any]:
        return {
            "on_error": self.on_error,
            "batch_size": self.batch_size,
            "max_batch_bytes": self.max_batch_bytes,
            "commit_every": self.commit_every,
            "storage_endpoint": self.storage_endpoint,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> LoadOptions:
        on_error = doc.get("on_error", "stop")
        if on_error not in ("stop", "skip"):
            raise ValueError(f"unknown on_error {on_error!r}")
        return cls(
            on_error,
            int(doc.get("batch_size", MAX_IDS_PER_REQUEST)),
            int(doc.get("max_batch_bytes", MAX_UPSERT_BYTES)),
            int(doc.get("commit_every", 10_000)),
            doc.get("storage_endpoint"),
        )


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """An import: which file (a bulkops export), into which index, and to which namespace.

    ``namespace`` None: each record goes to the namespace the export recorded for it.
    """

    kind: ClassVar[str] = "load"

    target: TargetSpec
    input: str  # an absolute path, or s3:// / gs://
    namespace: str | None = None
    options: LoadOptions = field(default_factory=LoadOptions)

    @property
    def input_path(self) -> Path:
        """The local path of the input (a local input only)."""
        return Path(self.input)

    @property
    def source(self) -> Path | str:
        """The input as a report shows it: a path, or the object store's URI."""
        return self.input if is_object_store(self.input) else self.input_path

    def default_checkpoint(self) -> Path:
        """``<input>.load-checkpoint``, next to the file it reads; for an object store, a local file
        named after the URI (``state_checkpoint``)."""
        if is_object_store(self.input):
            return state_checkpoint("load", self.input)
        return self.input_path.with_name(self.input_path.name + ".load-checkpoint")

    def indexes(self) -> tuple[TargetSpec, ...]:
        return (self.target,)

    def identity(self) -> dict[str, Any]:
        return {"input": self.input, "namespace": self.namespace}

    def describe(self) -> str:
        where = (
            "the namespaces it records" if self.namespace is None else f"namespace {label(self.namespace)!r}"
        )
        return f"load {self.input} into {where} of {self.target.describe()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "target": self.target.to_json(),
            "input": self.input,
            "namespace": self.namespace,
            "options": self.options.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> LoadSpec:
        if "version" not in doc:  # a checkpoint of the import job before specs (kind "import")
            return cls(
                TargetSpec(index=doc.get("index"), host=doc.get("host")),
                str(doc["from"]),
                doc.get("namespace"),
                LoadOptions(
                    batch_size=int(doc.get("batch_size", MAX_IDS_PER_REQUEST)),
                    max_batch_bytes=int(doc.get("max_batch_bytes", MAX_UPSERT_BYTES)),
                ),
            )
        return cls(
            TargetSpec.from_json(doc["target"]),
            str(doc["input"]),
            doc.get("namespace"),
            LoadOptions.from_json(doc.get("options") or {}),
        )


def build_load(
    *,
    input: str | os.PathLike[str],
    target: TargetSpec,
    namespace: str | None = None,
    on_error: str = "stop",
    batch_size: int = MAX_IDS_PER_REQUEST,
    max_batch_bytes: int = MAX_UPSERT_BYTES,
    commit_every: int = 10_000,
    storage_endpoint: str | None = None,
) -> LoadSpec:
    """Check an import's arguments and build its spec (nothing is sent to the index). The input is
    opened: its manifest read (an unfinished export is refused) and its parts checked; on an object
    store that is a few requests."""
    if on_error not in ("stop", "skip"):
        raise UsageError(Param("on_error", on_error), " must be 'stop' or 'skip'")
    if not 1 <= batch_size <= MAX_IDS_PER_REQUEST:
        raise UsageError(
            Param("batch_size", batch_size),
            f" must be between 1 and {MAX_IDS_PER_REQUEST} (Pinecone's upsert limit)",
        )
    if not _MIN_BATCH_BYTES <= max_batch_bytes <= MAX_UPSERT_BYTES:
        raise UsageError(
            Param("max_batch_bytes", max_batch_bytes),
            f" must be between {_MIN_BATCH_BYTES} and {MAX_UPSERT_BYTES} (2 MB, Pinecone's limit)",
        )
    given = os.fspath(input)
    location = canonical_location(given)
    if not is_object_store(location):
        path = Path(location)
        if not path.exists():
            raise UsageError(
                Param("input", given),
                ": no such file or directory; give a JSONL file or a Parquet export directory",
            )
        if not os.access(path, os.R_OK):
            raise UsageError(Param("input", given), ": not readable")
    open_reader(location, storage_endpoint=storage_endpoint)  # the manifest, its parts: refused now
    if namespace is not None:
        (namespace,) = NamespaceSelection.build(namespace=namespace).names or ("",)
    mode: OnError = "skip" if on_error == "skip" else "stop"
    options = LoadOptions(mode, batch_size, max_batch_bytes, max(1, commit_every), storage_endpoint)
    return LoadSpec(target, location, namespace, options)
