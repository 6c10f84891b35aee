"""``bulkops.copy``: copy records from one index to another (another project, region or cloud), resumably.

Backups stay in their index's project, cloud and region, so moving an index, changing its configuration,
or splitting and merging tenants goes through the data plane: list → fetch on the source, upsert into
the destination, streamed (no file in between), at the pace of whichever side's limits bind. Each side
is a :class:`~bulkops.jobs.target.TargetSpec` of its own, with its own key (never stored) and controller.

Modules: :mod:`.spec` (what a copy is; its checks), :mod:`.destination` (create or check the
destination), :mod:`.job` (one run: phases, report), :mod:`.run` (namespaces in lanes, the engine's
pipeline per namespace: crash safety), :mod:`.batches` (upsert requests by wire bytes),
:mod:`.verify` (counts, the sample), :mod:`.estimate` (the dry run's figures), :mod:`.report`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bulkops.api.protocols import DataPlane, TransportName
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.errors import Param, UsageError
from bulkops.jobs.arguments import ids_argument
from bulkops.jobs.copy.job import run_copy
from bulkops.jobs.copy.report import CopyProgress, CopyReport
from bulkops.jobs.copy.spec import CopyOptions, CopySpec, build_copy, parse_namespace_map
from bulkops.jobs.copy.verify import CopyVerification
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.namespaces import NAMESPACE_LANES
from bulkops.jobs.target import Access, Limits, TargetSpec

if TYPE_CHECKING:
    from bulkops.api.client import Client

__all__ = [
    "CopyOptions",
    "CopyProgress",
    "CopyReport",
    "CopySpec",
    "CopyVerification",
    "build_copy",
    "copy",
    "parse_namespace_map",
    "run_copy",
]


async def copy(
    *,
    index: str | None = None,
    host: str | None = None,
    to_index: str | None = None,
    to_host: str | None = None,
    namespace: str | None = None,
    namespaces: Sequence[str] | None = None,
    all_namespaces: bool = False,
    allow_missing: bool = False,
    namespace_map: Mapping[str, str] | None = None,
    prefix: str | Sequence[str] | None = None,
    ids: Iterable[str] | str | os.PathLike[str] | IdsInput | None = None,
    ids_file: str | os.PathLike[str] | None = None,
    filter: Mapping[str, Any] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    verify: bool = True,
    verify_sample: int = 0,
    verify_delay: float = 5.0,
    create: bool = True,
    to_cloud: str | None = None,
    to_region: str | None = None,
    api_key: str | None = None,
    to_api_key: str | None = None,
    controller_host: str | None = None,
    to_controller_host: str | None = None,
    limits: Limits = "default",
    transport: TransportName = "auto",
    progress: Callable[[CopyProgress], None] | None = None,
    client: Client | None = None,
    to_client: Client | None = None,
    dataplane: DataPlane | None = None,
    to_dataplane: DataPlane | None = None,
    client_options: Mapping[str, Any] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    target_chains: int | None = None,
    namespace_lanes: int = NAMESPACE_LANES,
) -> CopyReport:
    """Copy records from the source index (``index`` and/or ``host``) to the destination (``to_index``
    and/or ``to_host``), which may be in another project (``to_api_key``: its key, else
    ``PINECONE_TO_API_KEY``, else the source's; ``to_controller_host``) or region.

    Namespaces as for :func:`bulkops.export` (``namespace``, ``namespaces``, ``all_namespaces``; a missing
    one is refused unless ``allow_missing``), each copied to the namespace of the same name unless
    ``namespace_map`` (``{"src": "dst"}``) says otherwise; records by ``prefix`` (one or several), ``ids``
    (in memory), ``ids_file`` or ``filter``, or every record. A destination named by ``to_index`` that
    does not exist is created from the source's description (dimension, metric, vector type, tags;
    ``to_cloud`` / ``to_region`` override where) unless ``create=False``; one that exists must have the
    source's dimension and vector type (checked before anything is sent). ``checkpoint`` makes the copy
    resumable (kill it at any point, run the same call or :func:`bulkops.resume`: the destination ends
    with exactly the source's records). ``dry_run`` counts and estimates requests and time, writing
    nothing. ``verify``: compare counts per namespace at the end; ``verify_sample`` N: also compare N
    random records on both sides (values bit for bit, metadata equal). Raises VerificationError (with
    ``.report``) if they differ. Several namespaces are copied ``namespace_lanes`` at a time.
    """
    if to_index is None and to_host is None and to_client is None and to_dataplane is None:
        raise UsageError(
            "say where to copy to: ", Param("to_index"), "=<name> or ", Param("to_host"), "=<URL>",
            param="to_index",
        )  # fmt: skip
    access = Access(api_key, client, dataplane, client_options)
    to_access = Access(to_api_key, to_client, to_dataplane, client_options)
    source = TargetSpec.build(
        index=index, host=host, controller_host=controller_host, limits=limits, transport=transport,
        opened=access.opened,
    )  # fmt: skip
    destination = TargetSpec.build(
        index=to_index,
        host=to_host,
        controller_host=to_controller_host if to_controller_host is not None else controller_host,
        limits=limits,
        transport=transport,
        opened=True,
    )
    spec, prepared = build_copy(
        source=source,
        destination=destination,
        namespace=namespace,
        namespaces=namespaces,
        all_namespaces=all_namespaces,
        allow_missing=allow_missing,
        prefix=prefix,
        ids=ids_argument(ids, ids_file),
        filter=filter,
        namespace_map=namespace_map,
        verify=verify,
        verify_sample=verify_sample,
        verify_delay=verify_delay,
        create=create,
        cloud=to_cloud,
        region=to_region,
    )
    return await run_copy(
        spec,
        ids=prepared,
        checkpoint=checkpoint,
        dry_run=dry_run,
        access=access,
        to_access=to_access,
        progress=progress,
        clock=clock,
        target_chains=target_chains,
        namespace_lanes=namespace_lanes,
    )
