"""``bulkops.purge``: delete what the caller targets, as fast as the limits allow, resumably, verified.

Order of a purge (each phase is recorded in the checkpoint, so a rerun picks up where it stopped):

1. plan and validate (:mod:`bulkops.jobs.planner`; bad input raises UsageError, nothing is sent);
2. ``max_delete`` guard: count first, bounded by the guard itself (listing stops as soon as the count
   exceeds it), and refuse before the first delete. Counting up to the guard costs at most
   ``max_delete / 100`` list requests; stopping *at* the guard instead would leave a half-done purge.
   Deletes are also capped at the guard while they run, in case records appear after the count;
3. ``backup_first``: create a backup through the control plane and wait until it is Ready;
4. delete (:func:`bulkops.engine.pipeline.run_pipeline` for prefix and ID plans);
5. verify after the consistency lag: look again for what was targeted, delete leftovers, and report
   the final count (it must be 0; otherwise VerificationError carrying the report).

Dry run: count what would go (and a sample), delete nothing, write no checkpoint.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.errors import UsageError
from bulkops.jobs import purge_count
from bulkops.jobs.ids_input import prepare_ids
from bulkops.jobs.planner import plan_purge
from bulkops.jobs.purge_delete import FILTER_FANOUT
from bulkops.jobs.purge_job import PurgeJob
from bulkops.jobs.purge_report import PurgeProgress, PurgeReport
from bulkops.limits.profiles import PROFILES, Profile, load_profile

__all__ = ["FILTER_FANOUT", "purge"]


async def purge(
    *,
    index: str | None = None,
    host: str | None = None,
    namespace: str | None = None,
    namespaces: Sequence[str] | None = None,
    prefix: str | None = None,
    ids: Iterable[str] | str | os.PathLike[str] | None = None,
    filter: Mapping[str, Any] | None = None,
    everything: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    max_delete: int | None = None,
    backup_first: bool = False,
    verify: bool = True,
    verify_delay: float = 5.0,
    verify_rounds: int = 3,
    delete_namespace: bool = False,
    api_key: str | None = None,
    controller_host: str | None = None,
    limits: str | Profile | None = "default",
    progress: Callable[[PurgeProgress], None] | None = None,
    sample_size: int = 10,
    client: Any = None,
    dataplane: DataPlane | None = None,
    target_chains: int | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> PurgeReport:
    """Delete every record under ``prefix``, in ``ids``, matching ``filter``, or ``everything``.

    Target the index by ``index`` (name, looked up on the control plane) or ``host``; or pass an open
    ``client`` (a :class:`bulkops.api.Client`) or a ready ``dataplane``. ``checkpoint`` makes the purge
    resumable: rerun with the same path after a crash. ``verify_delay`` is the consistency lag to wait
    before the verification pass. Returns a :class:`PurgeReport`; raises VerificationError (with
    ``.report``) if targeted records remain after verification.
    """
    plan = plan_purge(
        namespace=namespace,
        namespaces=namespaces,
        prefix=prefix,
        has_ids=ids is not None,
        filter=filter,
        everything=everything,
        delete_namespace=delete_namespace,
    )
    if max_delete is not None and max_delete < 0:
        raise UsageError(f"max_delete must be 0 or more, not {max_delete}")
    if backup_first and not index:
        raise UsageError("backup_first=True needs index=<name> (backups are made through the control plane)")
    if dataplane is None and client is None and not index and not host:
        raise UsageError("say which index to purge: index=<name> or host=<URL>")
    ids_input = prepare_ids(ids) if ids is not None else None

    async with contextlib.AsyncExitStack() as stack:
        if dataplane is None:
            if client is None:
                from bulkops.api.client import Client

                client = await stack.enter_async_context(Client(api_key, controller_host, limits=limits))
            dataplane = await client.index(index, host=host)
        profile = client.config.limits if client is not None else _profile(limits)
        job = PurgeJob(
            plan,
            dataplane,
            client=client,
            index=index,
            profile=profile,
            ids_input=ids_input,
            max_delete=max_delete,
            backup_first=backup_first,
            verify=verify,
            verify_delay=verify_delay,
            verify_rounds=verify_rounds,
            progress=progress,
            sample_size=sample_size,
            target_chains=target_chains,
            clock=clock,
        )
        if dry_run:
            return await purge_count.dry_run(job)
        if checkpoint is None:
            return await job.run(None)
        with Checkpoint.open(Path(checkpoint), kind="purge", spec=job.spec()) as journal:
            return await job.run(journal)
    raise AssertionError("unreachable")  # pragma: no cover - the stack does not swallow exceptions


def _profile(limits: str | Profile | None) -> Profile:
    if isinstance(limits, Profile):
        return limits
    return PROFILES["none"] if limits is None else load_profile(limits)
