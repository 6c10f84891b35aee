"""``bulkops.resume``: rerun any job from its checkpoint alone.

The checkpoint holds the job's spec (what it is, and the options it ran with), so nothing else is
needed but the API key, which is never stored, and the IDs of a job that was given them in memory.
An index named in the spec is looked up again by name: if its host changed (a local server restarted
on new ports), the job goes on there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.errors import CheckpointError
from bulkops.jobs.arguments import ids_argument
from bulkops.jobs.bulk_import.job import run_bulk_import
from bulkops.jobs.bulk_import.report import BulkImportReport
from bulkops.jobs.bulk_import.spec import BulkImportSpec
from bulkops.jobs.copy.job import run_copy
from bulkops.jobs.copy.report import CopyReport
from bulkops.jobs.copy.spec import CopySpec
from bulkops.jobs.export.job import run_export
from bulkops.jobs.export.report import ExportReport
from bulkops.jobs.export.spec import ExportSpec
from bulkops.jobs.ids import IdsInput, prepare_ids
from bulkops.jobs.journal import JobSpec, normalize_kind
from bulkops.jobs.load.job import run_load
from bulkops.jobs.load.report import LoadReport
from bulkops.jobs.load.spec import LoadSpec
from bulkops.jobs.purge.job import run_purge
from bulkops.jobs.purge.report import PurgeReport
from bulkops.jobs.purge.spec import PurgeSpec
from bulkops.jobs.target import Access, Limits, TargetSpec
from bulkops.limits.profiles import Profile

if TYPE_CHECKING:
    from bulkops.api.client import Client

__all__ = ["KINDS", "read_spec", "resume", "spec_from_json"]

JobReport = PurgeReport | ExportReport | LoadReport | CopyReport | BulkImportReport
KINDS: Mapping[str, type[JobSpec]] = {
    "purge": PurgeSpec,
    "export": ExportSpec,
    "load": LoadSpec,
    "copy": CopySpec,
    "bulk_import": BulkImportSpec,
}


def spec_from_json(kind: str, doc: Mapping[str, Any]) -> JobSpec:
    """The spec a checkpoint recorded (``"import"``, the import job's old kind, included)."""
    spec_type = KINDS.get(normalize_kind(kind))
    if spec_type is None:
        raise CheckpointError(
            f"the checkpoint holds a {kind!r} job, which this version of bulkops does not know"
        )
    try:
        return spec_type.from_json(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"the checkpoint's {kind} job cannot be read ({exc!r})") from exc


def read_spec(checkpoint: str | os.PathLike[str]) -> JobSpec:
    """The spec recorded in ``checkpoint`` (read-only)."""
    view = Checkpoint.inspect(checkpoint)
    return spec_from_json(view.kind, view.spec)


def _target(
    spec: TargetSpec, controller_host: str | None, limits: Limits | EllipsisType, transport: str | None
) -> TargetSpec:
    """The recorded target with the caller's overrides; an index named in a project is looked up again,
    as its host may have changed since the last run."""
    if isinstance(limits, Profile):
        spec = replace(spec, limits=limits.name, profile=limits)
    elif limits is not ...:
        spec = replace(spec, limits=limits or "none", profile=None)
    if controller_host is not None:
        spec = replace(spec, controller_host=controller_host)
    if transport is not None:
        wire = TargetSpec.build(index=spec.index, host=spec.host, transport=transport, opened=True).transport
        spec = replace(spec, transport=wire)
    return replace(spec, host=None) if spec.index else spec


async def resume(
    checkpoint: str | os.PathLike[str],
    *,
    api_key: str | None = None,
    to_api_key: str | None = None,
    controller_host: str | None = None,
    to_controller_host: str | None = None,
    limits: Limits | EllipsisType = ...,
    transport: str | None = None,
    client: Client | None = None,
    dataplane: DataPlane | None = None,
    client_options: Mapping[str, Any] | None = None,
    ids: Iterable[str] | str | os.PathLike[str] | IdsInput | None = None,
    ids_file: str | os.PathLike[str] | None = None,
    progress: Callable[[Any], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> JobReport:
    """Rerun the job recorded in ``checkpoint`` (purge, export, load, copy or bulk import) where it
    stopped (a bulk import: following the import it started, never a second one).

    ``controller_host``, ``limits`` and ``transport`` override what the checkpoint recorded; ``client``
    or ``dataplane`` work as for the job itself. A copy's destination: ``to_api_key`` (else
    ``PINECONE_TO_API_KEY``, else the source's key) and ``to_controller_host``. ``ids`` (or
    ``ids_file``): the IDs of a job that was given them in memory (or a file that moved); they must be
    the same IDs. A finished export or import returns its stored report without sending anything; a
    finished purge or copy verifies again.
    """
    spec = read_spec(checkpoint)
    target = _target(spec.target, controller_host, limits, transport)
    common: dict[str, Any] = {
        "checkpoint": checkpoint,
        "access": Access(api_key, client, dataplane, client_options),
        "progress": progress,
        "clock": clock,
    }
    given = ids_argument(ids, ids_file)
    prepared = prepare_ids(given) if given is not None else None
    if isinstance(spec, PurgeSpec):
        return await run_purge(replace(spec, target=target), ids=prepared, **common)
    if isinstance(spec, ExportSpec):
        return await run_export(replace(spec, target=target), ids=prepared, **common)
    if isinstance(spec, LoadSpec):
        return await run_load(replace(spec, target=target), **common)
    if isinstance(spec, BulkImportSpec):
        return await run_bulk_import(replace(spec, target=target), **common)
    if isinstance(spec, CopySpec):
        destination = _target(spec.destination, to_controller_host, limits, transport)
        return await run_copy(
            replace(spec, source=target, destination=destination),
            ids=prepared,
            to_access=Access(to_api_key),
            **common,
        )
    raise CheckpointError(f"{checkpoint} holds a {spec.kind} job, which cannot be resumed here")
