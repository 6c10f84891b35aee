"""What a purge is (:class:`PurgeSpec`): checked before anything is sent, stored in its checkpoint.

The spec is the one record of the job: the checkpoint compares its identity on every run, ``bulkops
status`` shows it and :func:`bulkops.resume` reruns it. The identity is the index, the namespaces, the
selection and whether whole namespaces go; the options (``max_delete``, ``backup_first``, the
verification settings) are stored beside it, so a resume behaves as the first run did, but a rerun
may change them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bulkops.errors import Param, UsageError
from bulkops.jobs.export.spec import check_output, output_format
from bulkops.jobs.ids import IdsInput, IdsSource
from bulkops.jobs.namespaces import NamespaceSelection, label
from bulkops.jobs.purge.plan import PlanKind
from bulkops.jobs.selection import IdsRef, Selection, build_selection
from bulkops.jobs.target import TargetSpec

__all__ = ["PurgeOptions", "PurgeSpec", "build_purge"]

SPEC_VERSION = 2
_NAMES_SHOWN = 5  # namespaces named in the plan's words (the report lists them all)


@dataclass(frozen=True, slots=True)
class PurgeOptions:
    """How the purge runs; not part of its identity. ``confirmed``: someone agreed to it when it started
    (the CLI's prompt or ``--yes``), so resuming it from the CLI does not ask again. ``verify_delay``:
    the longest a delete may take to become visible (the wait itself is observed, see
    :mod:`bulkops.jobs.purge.lag`). ``export_first``: export exactly the targeted records there (an
    absolute ``*.jsonl`` / ``*.parquet`` path) before the first delete."""

    max_delete: int | None = None
    backup_first: bool = False
    verify: bool = True
    verify_delay: float = 5.0
    verify_rounds: int = 3
    confirmed: bool = False
    export_first: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "max_delete": self.max_delete,
            "backup_first": self.backup_first,
            "verify": self.verify,
            "verify_delay": self.verify_delay,
            "verify_rounds": self.verify_rounds,
            "confirmed": self.confirmed,
            "export_first": self.export_first,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PurgeOptions:
        return cls(
            max_delete=doc.get("max_delete"),
            backup_first=bool(doc.get("backup_first", False)),
            verify=bool(doc.get("verify", True)),
            verify_delay=float(doc.get("verify_delay", 5.0)),
            verify_rounds=int(doc.get("verify_rounds", 3)),
            confirmed=bool(doc.get("confirmed", False)),
            export_first=doc.get("export_first"),
        )


@dataclass(frozen=True, slots=True)
class PurgeSpec:
    """A purge: which index, namespaces and records, whether whole namespaces go, and its options."""

    kind: ClassVar[str] = "purge"

    target: TargetSpec
    namespaces: NamespaceSelection
    selection: Selection
    delete_namespace: bool = False
    options: PurgeOptions = field(default_factory=PurgeOptions)

    @property
    def plan(self) -> PlanKind:
        """The cheapest way the API allows to delete what the selection names (see :mod:`.plan`)."""
        kind = self.selection.kind
        if kind == "prefixes":
            return "list_and_delete"
        if kind == "ids":
            return "delete_ids"
        if kind == "filter":
            return "delete_by_filter"
        return "delete_namespace" if self.delete_namespace else "delete_all"

    def indexes(self) -> tuple[TargetSpec, ...]:
        return (self.target,)

    def identity(self) -> dict[str, Any]:
        return {
            "namespaces": self.namespaces.identity(),
            "selection": self.selection.identity(),
            "delete_namespace": self.delete_namespace,
        }

    def describe(self) -> str:
        where = self.namespaces.describe()
        if self.plan == "delete_namespace":
            return f"purge: delete namespace(s) {where} of {self.target.describe()}"
        return f"purge {self.selection.describe()} in namespace(s) {where} of {self.target.describe()}"

    def plan_text(self, namespaces: Sequence[str]) -> str:
        """The plan in words, for the report."""
        shown = ", ".join(repr(label(ns)) for ns in namespaces[:_NAMES_SHOWN]) or "(none)"
        more = len(namespaces) - _NAMES_SHOWN
        where = shown + (f" and {more:,} more" if more > 0 else "")
        kind = self.plan
        if kind == "list_and_delete":
            prefixes = ", ".join(repr(p) for p in self.selection.prefixes)
            return f"list IDs under prefix {prefixes} and delete them by ID in namespace {where}"
        if kind == "delete_ids":
            return f"delete the given IDs by ID in namespace {where}"
        if kind == "delete_by_filter":
            return f"delete by metadata filter {dict(self.selection.filter or {})} in namespace(s) {where}"
        if kind == "delete_namespace":
            return f"delete namespace(s) {where}"
        return f"delete every record (deleteAll) in namespace(s) {where}"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "target": self.target.to_json(),
            "namespaces": self.namespaces.to_json(),
            "selection": self.selection.to_json(),
            "delete_namespace": self.delete_namespace,
            "options": self.options.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PurgeSpec:
        if "version" not in doc:
            return _from_v1(doc)
        return cls(
            TargetSpec.from_json(doc["target"]),
            NamespaceSelection.from_json(doc["namespaces"]),
            Selection.from_json(doc["selection"]),
            bool(doc.get("delete_namespace", False)),
            PurgeOptions.from_json(doc.get("options") or {}),
        )


def _from_v1(doc: Mapping[str, Any]) -> PurgeSpec:
    """A checkpoint written before specs (host, plan, namespaces, prefix, filter, ids_sha256)."""
    plan = doc["plan"]
    selection = {
        "list_and_delete": lambda: Selection("prefixes", prefixes=(str(doc["prefix"]),)),
        "delete_ids": lambda: Selection("ids", ids=IdsRef(None, str(doc["ids_sha256"]), 0)),
        "delete_by_filter": lambda: Selection("filter", filter=doc["filter"]),
        "delete_all": lambda: Selection("everything"),
        "delete_namespace": lambda: Selection("everything"),
    }[plan]()
    return PurgeSpec(
        TargetSpec(host=doc.get("host")),
        NamespaceSelection(tuple(doc.get("namespaces") or ("",))),
        selection,
        delete_namespace=plan == "delete_namespace",
    )


def build_purge(
    *,
    target: TargetSpec,
    namespace: str | None = None,
    namespaces: Sequence[str] | None = None,
    all_namespaces: bool = False,
    allow_missing: bool = False,
    prefix: str | Sequence[str] | None = None,
    ids: IdsSource | IdsInput | None = None,
    filter: Mapping[str, Any] | None = None,
    everything: bool = False,
    delete_namespace: bool = False,
    max_delete: int | None = None,
    backup_first: bool = False,
    verify: bool = True,
    verify_delay: float = 5.0,
    verify_rounds: int = 3,
    confirmed: bool = False,
    export_first: str | os.PathLike[str] | None = None,
) -> tuple[PurgeSpec, IdsInput | None]:
    """Check a purge's arguments (the IDs are read, validated and fingerprinted once) and build its spec
    for ``target`` (:meth:`TargetSpec.build`). Raises UsageError naming the parameter; nothing is sent."""
    selection, prepared = build_selection(
        prefix=prefix, ids=ids, filter=filter, everything=everything, required=True
    )
    if delete_namespace and not everything:
        raise UsageError(
            Param("delete_namespace", True),
            " deletes whole namespaces: use it with ",
            Param("all", True),
        )
    if max_delete is not None and (
        isinstance(max_delete, bool) or not isinstance(max_delete, int) or max_delete < 0
    ):
        raise UsageError(Param("max_delete", max_delete), " must be a whole number, 0 or more")
    if not (isinstance(verify_delay, int | float) and math.isfinite(verify_delay) and verify_delay >= 0):
        raise UsageError(
            Param("verify_delay", verify_delay), " must be a finite number of seconds, 0 or more"
        )
    if not isinstance(verify_rounds, int) or verify_rounds < 1:
        raise UsageError(Param("verify_rounds", verify_rounds), " must be at least 1")
    if backup_first and not target.index:
        raise UsageError(
            Param("backup_first", True),
            " needs ",
            Param("index"),
            "=<name> (backups are made through the control plane)",
            param="backup_first",
        )
    exported = None
    if export_first is not None:
        exported = Path(export_first).absolute()
        output_format(exported, strict=True, param="export_first")
        check_output(exported, str(export_first), param="export_first")
    spec = PurgeSpec(
        target,
        NamespaceSelection.build(
            namespace=namespace,
            namespaces=namespaces,
            all_namespaces=all_namespaces,
            allow_missing=allow_missing,
        ),
        selection,
        delete_namespace,
        PurgeOptions(
            max_delete,
            backup_first,
            verify,
            float(verify_delay),
            verify_rounds,
            confirmed,
            str(exported) if exported is not None else None,
        ),
    )
    return spec, prepared
