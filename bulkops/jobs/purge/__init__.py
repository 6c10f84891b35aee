"""``bulkops.purge``: delete what the caller targets, as fast as the limits allow, resumably, verified.

Modules: :mod:`.spec` (what a purge is; its checks), :mod:`.plan` (plans and their documented bound),
:mod:`.job` (the phases in order and the report), :mod:`.context` (what the phases share),
:mod:`.count` (dry run, ``max_delete`` guard), :mod:`.delete`, :mod:`.verify`, :mod:`.report`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bulkops.api.protocols import DataPlane, TransportName
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.jobs.arguments import ids_argument, renamed
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.namespaces import NAMESPACE_LANES
from bulkops.jobs.purge.job import run_purge
from bulkops.jobs.purge.report import PurgeProgress, PurgeReport, Verification
from bulkops.jobs.purge.spec import PurgeOptions, PurgeSpec, build_purge
from bulkops.jobs.target import Access, Limits, TargetSpec

if TYPE_CHECKING:
    from bulkops.api.client import Client

__all__ = [
    "PurgeOptions",
    "PurgeProgress",
    "PurgeReport",
    "PurgeSpec",
    "Verification",
    "build_purge",
    "purge",
    "run_purge",
]


async def purge(
    *,
    index: str | None = None,
    host: str | None = None,
    namespace: str | None = None,
    namespaces: Sequence[str] | None = None,
    all_namespaces: bool = False,
    allow_missing: bool = False,
    prefix: str | Sequence[str] | None = None,
    ids: Iterable[str] | str | os.PathLike[str] | IdsInput | None = None,
    ids_file: str | os.PathLike[str] | None = None,
    filter: Mapping[str, Any] | None = None,
    all: bool | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    max_delete: int | None = None,
    backup_first: bool = False,
    export_first: str | os.PathLike[str] | None = None,
    verify: bool = True,
    verify_delay: float = 5.0,
    verify_rounds: int = 3,
    delete_namespace: bool = False,
    api_key: str | None = None,
    controller_host: str | None = None,
    limits: Limits = "default",
    transport: TransportName = "auto",
    progress: Callable[[PurgeProgress], None] | None = None,
    sample_size: int = 10,
    client: Client | None = None,
    dataplane: DataPlane | None = None,
    client_options: Mapping[str, Any] | None = None,
    target_chains: int | None = None,
    namespace_lanes: int = NAMESPACE_LANES,
    clock: Clock = SYSTEM_CLOCK,
    everything: bool | None = None,
) -> PurgeReport:
    """Delete every record under ``prefix`` (one or several), in ``ids`` (in memory) or ``ids_file``
    (one ID per line), matching ``filter``, or ``all`` of them, in ``namespace`` (default: the default
    namespace), ``namespaces``, or ``all_namespaces``. Argument names are the CLI's options' names
    (``--ids-file``, ``--all``, ``--max-delete``...); ``everything=`` is the old name of ``all=``, and a
    path given as ``ids=`` still works, both with a DeprecationWarning.

    Target the index by ``index`` (name, looked up on the control plane) and/or ``host``; or pass an
    open ``client`` (a :class:`bulkops.api.Client`, whose limits are then in force) or a ready
    ``dataplane``. A namespace that does not exist is refused unless ``allow_missing``.
    ``checkpoint`` makes the purge resumable: rerun with the same path after a crash, or
    :func:`bulkops.resume` it. The verification looks again once the deletes are visible (the
    consistency lag is observed by re-fetching deleted records); ``verify_delay`` is the longest it
    waits for that. ``backup_first``: a backup through the control plane first (it may lack records
    written in the 15 minutes before it: the report says so when the counts show it);
    ``export_first``: a bulkops export of exactly the targeted records to this ``*.jsonl`` /
    ``*.parquet`` path first (resumable with the purge; no such window). Several namespaces are purged
    ``namespace_lanes`` at a time. ``limits``: a profile name, a JSON file of overrides, a Profile, or
    None for no pacing.
    Returns a :class:`PurgeReport`; raises VerificationError (with ``.report``) if targeted records
    remain after verification.
    """
    access = Access(api_key, client, dataplane, client_options)
    target = TargetSpec.build(
        index=index, host=host, controller_host=controller_host, limits=limits, transport=transport,
        opened=access.opened,
    )  # fmt: skip
    spec, prepared = build_purge(
        target=target,
        namespace=namespace,
        namespaces=namespaces,
        all_namespaces=all_namespaces,
        allow_missing=allow_missing,
        prefix=prefix,
        ids=ids_argument(ids, ids_file),
        filter=filter,
        everything=bool(renamed("all", all, "everything", everything)),
        delete_namespace=delete_namespace,
        max_delete=max_delete,
        backup_first=backup_first,
        export_first=export_first,
        verify=verify,
        verify_delay=verify_delay,
        verify_rounds=verify_rounds,
    )
    return await run_purge(
        spec,
        ids=prepared,
        checkpoint=checkpoint,
        dry_run=dry_run,
        access=access,
        progress=progress,
        sample_size=sample_size,
        target_chains=target_chains,
        namespace_lanes=namespace_lanes,
        clock=clock,
    )
