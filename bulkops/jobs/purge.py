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
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio

from bulkops.api.protocols import DataPlane
from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.fanout import Chain
from bulkops.engine.pipeline import Progress, run_pipeline
from bulkops.engine.sources import IdSource, IdsSource, ListSource
from bulkops.errors import ApiError, NotFoundError, UsageError, VerificationError
from bulkops.jobs.ids_input import IdsInput, prepare_ids
from bulkops.jobs.planner import PurgePlan, documented_bound, plan_purge
from bulkops.jobs.purge_report import PurgeProgress, PurgeReport, Verification
from bulkops.limits.profiles import PROFILES, Profile, load_profile
from bulkops.models import MAX_IDS_PER_REQUEST

__all__ = ["purge"]

FILTER_FANOUT = 8  # namespaces purged by filter at once; the client paces each at 5 req/s


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
        job = _PurgeJob(
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
            return await job.dry_run()
        if checkpoint is None:
            return await job.run(None)
        with Checkpoint.open(Path(checkpoint), kind="purge", spec=job.spec()) as journal:
            return await job.run(journal)
    raise AssertionError("unreachable")  # pragma: no cover - the stack does not swallow exceptions


def _profile(limits: str | Profile | None) -> Profile:
    if isinstance(limits, Profile):
        return limits
    return PROFILES["none"] if limits is None else load_profile(limits)


class _GuardTripped(Exception):
    """Internal: the count passed ``max_delete``; stops a counting pipeline early."""


class _PurgeJob:
    def __init__(
        self,
        plan: PurgePlan,
        dataplane: DataPlane,
        *,
        client: Any,
        index: str | None,
        profile: Profile,
        ids_input: IdsInput | None,
        max_delete: int | None,
        backup_first: bool,
        verify: bool,
        verify_delay: float,
        verify_rounds: int,
        progress: Callable[[PurgeProgress], None] | None,
        sample_size: int,
        target_chains: int | None,
        clock: Clock,
    ) -> None:
        self.plan = plan
        self.dp = dataplane
        self.client = client
        self.index = index
        self.profile = profile
        self.ids_input = ids_input
        self.max_delete = max_delete
        self.backup_first = backup_first
        self.verify = verify
        self.verify_delay = verify_delay
        self.verify_rounds = max(1, verify_rounds)
        self.progress = progress
        self.sample_size = sample_size
        self.target_chains = target_chains
        self.clock = clock
        self.started = clock.now()
        self.list_requests = 0
        self.other_requests = 0
        self.deleting_seconds = 0.0
        self.deleted_this_run = 0
        self.deleted_total = 0
        self.stats_before = client.stats if client is not None else None
        self.notes: list[str] = []

    # --- identity -------------------------------------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        """What makes two purges the same job (never the key)."""
        return {
            "host": self.dp.host,
            "plan": self.plan.kind,
            "namespaces": list(self.plan.namespaces),
            "prefix": self.plan.prefix,
            "filter": dict(self.plan.filter) if self.plan.filter is not None else None,
            "ids_sha256": self.ids_input.digest if self.ids_input else None,
        }

    # --- rates ------------------------------------------------------------------------------------------

    def _rate(self, operation: str, per: int = 1) -> float | None:
        """Requests/s allowed for ``operation`` (records limits divided by ``per`` records a request)."""
        rates: list[float] = []
        for scope in ("index", "namespace"):
            requests = self.profile.rate(operation, scope, "requests")
            if requests is not None:
                rates.append(requests)
            records = self.profile.rate(operation, scope, "records")
            if records is not None:
                rates.append(records / per)
        return min(rates) if rates else None

    # --- the run ----------------------------------------------------------------------------------------

    async def run(self, journal: Checkpoint | None) -> PurgeReport:
        phase = journal.get("phase", "new") if journal else "new"
        resumed = journal.resumed if journal else False
        if journal is not None:
            self.deleted_total = journal.counters().get("deleted", 0)
        would_delete = journal.get("would_delete") if journal else None
        if phase == "new":
            if self.max_delete is not None:
                would_delete = await self._guard()
            self._set(journal, would_delete=would_delete, phase="backup")
            phase = "backup"
        backup_id = journal.get("backup_id") if journal else None
        if phase == "backup":
            if self.backup_first:
                backup_id = await self._backup(journal, backup_id)
            self._set(journal, phase="deleting")
            phase = "deleting"
        if phase == "deleting":
            await self._delete(journal)
            self._set(journal, phase="verifying")
        verification = await self._verify() if self.verify else Verification(False, note="verify=False")
        self._set(journal, phase="done")
        if journal is not None:
            self.deleted_total = journal.counters().get("deleted", 0)
        report = self._report(
            dry_run=False,
            resumed=resumed,
            would_delete=would_delete,
            verification=verification,
            backup_id=backup_id,
        )
        if verification.checked and verification.remaining:
            error = VerificationError(
                f"{verification.remaining} targeted records remain after {verification.rounds} "
                "verification rounds; rerun the purge with the same checkpoint"
            )
            error.report = report  # type: ignore[attr-defined]
            raise error
        return report

    @staticmethod
    def _set(journal: Checkpoint | None, **values: Any) -> None:
        if journal is None:
            return
        with journal.step() as step:
            for key, value in values.items():
                step.set(key, value)

    # --- counting (dry run and guard) ------------------------------------------------------------------

    async def dry_run(self) -> PurgeReport:
        sample: list[str] = []
        count = await self._count(limit=None, sample=sample)
        return self._report(
            dry_run=True,
            resumed=False,
            would_delete=count,
            verification=Verification(False, note="dry run: nothing deleted"),
            sample=tuple(sample),
        )

    async def _guard(self) -> int | None:
        assert self.max_delete is not None
        self._emit("counting", 0)
        count = await self._count(limit=self.max_delete, sample=[])
        if count is not None and count > self.max_delete:
            raise UsageError(
                f"this purge would delete more than max_delete={self.max_delete} records "
                f"({self.plan.describe()}); nothing was deleted. Raise max_delete or narrow the target."
            )
        return count

    async def _count(self, *, limit: int | None, sample: list[str]) -> int | None:
        """Records the plan targets; stops once past ``limit``. None if it cannot be counted."""
        kind = self.plan.kind
        if kind == "delete_ids":
            assert self.ids_input is not None
            if limit is not None:
                return self.ids_input.count  # every listed ID counts: no request needed to refuse
            return await self._count_existing_ids(sample)
        if kind == "list_and_delete":
            return await self._count_listed(limit, sample)
        if kind == "delete_by_filter":
            return await self._count_filter(limit, sample)
        return await self._count_namespaces(sample)

    async def _count_listed(self, limit: int | None, sample: list[str]) -> int:
        found = 0

        async def tally(ids: Sequence[str]) -> None:
            nonlocal found
            found += len(ids)
            sample.extend(ids[: max(0, self.sample_size - len(sample))])
            if limit is not None and found > limit:
                raise _GuardTripped

        source = self._list_source(self.plan.namespaces[0], None, None)
        try:
            # Small buffers: the listing runs at most a few pages ahead of the count.
            await run_pipeline(
                source, tally, max_workers=1, batch_size=100, page_buffer=1, batch_buffer=1, clock=self.clock
            )
        except* _GuardTripped:
            pass
        self.list_requests += source.requests
        return found

    async def _count_existing_ids(self, sample: list[str]) -> int:
        assert self.ids_input is not None
        namespace = self.plan.namespaces[0]
        found = 0

        async def check(ids: Sequence[str]) -> None:
            nonlocal found
            present = await self.dp.fetch(ids, namespace=namespace)
            self.other_requests += 1
            found += len(present)
            sample.extend(i for i in ids if i in present and len(sample) < self.sample_size)

        source = IdsSource(self.ids_input.open(), page_size=MAX_IDS_PER_REQUEST)
        await run_pipeline(source, check, rate=self._rate("fetch"), clock=self.clock)
        return found

    async def _count_filter(self, limit: int | None, sample: list[str]) -> int | None:
        assert self.plan.filter is not None
        total = 0
        for namespace in self.plan.namespaces:
            token: str | None = None
            while True:
                try:
                    page = await self.dp.fetch_by_metadata(
                        self.plan.filter, namespace=namespace, limit=100, token=token
                    )
                except ApiError as exc:
                    if limit is not None:
                        raise UsageError(
                            "max_delete needs a count of the records matching the filter, and this index "
                            f"cannot count them (fetch_by_metadata: {exc.message}); nothing was deleted"
                        ) from exc
                    self.notes.append(f"records matching the filter could not be counted: {exc.message}")
                    return None
                self.other_requests += 1
                total += len(page.records)
                sample.extend(r.id for r in page.records[: max(0, self.sample_size - len(sample))])
                if limit is not None and total > limit:
                    return total
                if not page.next_token:
                    break
                token = page.next_token
        return total

    async def _count_namespaces(self, sample: list[str]) -> int:
        stats = await self.dp.describe_index_stats()
        self.other_requests += 1
        spaces = stats.get("namespaces") or {}
        total = 0
        for namespace in self.plan.namespaces:
            entry = spaces.get(namespace) or spaces.get("__default__" if namespace == "" else namespace) or {}
            total += int(entry.get("vectorCount", entry.get("vector_count", 0)) or 0)
            if len(sample) < self.sample_size:
                page = await self.dp.list_page(namespace=namespace, limit=self.sample_size)
                self.list_requests += 1
                sample.extend(page.ids[: self.sample_size - len(sample)])
        return total

    # --- backup -----------------------------------------------------------------------------------------

    async def _backup(self, journal: Checkpoint | None, known: str | None) -> str:
        if self.client is None:
            raise UsageError("backup_first=True needs a Client (index=<name>), not a bare dataplane")
        self._emit("backup", 0)
        control = self.client.control
        backup_id = known
        if backup_id is None:
            stamp = int(self.clock.wall())
            created = await control.create_backup(
                self.index, name=f"bulkops-purge-{stamp}", description=f"before: {self.plan.describe()}"[:200]
            )
            backup_id = str(created["backup_id"])
            self._set(journal, backup_id=backup_id)
        await control.wait_until_backup_ready(backup_id)
        return backup_id

    # --- deleting ---------------------------------------------------------------------------------------

    async def _delete(self, journal: Checkpoint | None) -> None:
        started = self.clock.now()
        kind = self.plan.kind
        if kind in ("list_and_delete", "delete_ids"):
            await self._delete_by_id(journal)
        elif kind == "delete_by_filter":
            await self._delete_by_filter(journal)
        else:
            await self._delete_namespaces(journal)
        self.deleting_seconds = self.clock.now() - started

    def _list_source(
        self,
        namespace: str,
        journal: Checkpoint | None,
        chains: list[Chain] | None,
        *,
        deleting: bool = False,
    ) -> ListSource:
        """Fan-out listing; ``deleting``: every listed ID is deleted, so chains may delegate (cheaper)."""

        def persist(parent: Chain, children: list[Chain]) -> None:
            if journal is not None:
                with journal.step() as step:
                    step.save_chains(namespace, [parent, *children])

        return ListSource(
            self.dp,
            namespace=namespace,
            prefix=self.plan.prefix or "",
            chains=chains,
            list_rate=self.profile.rate("list", "index", "requests"),
            target_chains=self.target_chains,
            delegate=deleting,
            on_carve=persist,
            clock=self.clock,
        )

    async def _delete_by_id(self, journal: Checkpoint | None) -> None:
        namespace = self.plan.namespaces[0]
        chains = journal.chains(namespace) if journal else None
        source: IdSource
        if self.plan.kind == "list_and_delete":
            source = self._list_source(namespace, journal, chains, deleting=True)
        else:
            assert self.ids_input is not None
            source = IdsSource(self.ids_input.open(), chains=chains, page_size=MAX_IDS_PER_REQUEST)

        async def delete(ids: Sequence[str]) -> None:
            if self.max_delete is not None and self.deleted_total + len(ids) > self.max_delete:
                raise UsageError(
                    f"stopped at max_delete={self.max_delete}: more records appeared under the target "
                    "after they were counted. Rerun with a higher max_delete to finish."
                )
            self.deleted_total += len(ids)
            await self._delete_ids(ids, namespace)
            self.deleted_this_run += len(ids)

        def on_progress(p: Progress) -> None:
            self._emit("deleting", p.processed)

        await run_pipeline(
            source,
            delete,
            checkpoint=journal,
            scope=namespace,
            counter="deleted",
            rate=self._rate("delete", MAX_IDS_PER_REQUEST),
            progress=on_progress,
            clock=self.clock,
        )
        if isinstance(source, ListSource):
            self.list_requests += source.requests

    async def _delete_ids(self, ids: Sequence[str], namespace: str) -> None:
        with contextlib.suppress(NotFoundError):  # the namespace is gone: nothing left to delete
            await self.dp.delete_ids(ids, namespace=namespace)
        self.other_requests += 1

    async def _delete_by_filter(self, journal: Checkpoint | None) -> None:
        assert self.plan.filter is not None
        filter_ = self.plan.filter
        slots = anyio.CapacityLimiter(FILTER_FANOUT)

        async def one(namespace: str) -> None:
            async with slots:
                with contextlib.suppress(NotFoundError):
                    await self.dp.delete_by_filter(filter_, namespace=namespace)
                self.other_requests += 1
                self._set(journal, **{f"done:{namespace}": True})

        async with anyio.create_task_group() as tg:
            for namespace in self.plan.namespaces:
                if journal is None or not journal.get(f"done:{namespace}", False):
                    tg.start_soon(one, namespace)

    async def _delete_namespaces(self, journal: Checkpoint | None) -> None:
        counted: dict[str, int] = {}
        stats = await self.dp.describe_index_stats()
        self.other_requests += 1
        for namespace, entry in (stats.get("namespaces") or {}).items():
            counted[namespace] = int(entry.get("vectorCount", entry.get("vector_count", 0)) or 0)
        for namespace in self.plan.namespaces:
            if journal is not None and journal.get(f"done:{namespace}", False):
                continue
            try:
                if self.plan.kind == "delete_namespace":
                    await self.dp.delete_namespace(namespace or "__default__")
                else:
                    await self.dp.delete_all(namespace=namespace)
            except NotFoundError:
                pass  # already gone
            self.other_requests += 1
            n = counted.get(namespace, counted.get("__default__", 0) if namespace == "" else 0)
            self.deleted_this_run += n
            if journal is not None:
                with journal.step() as step:
                    step.set(f"done:{namespace}", True)
                    step.count("deleted", n)
            else:
                self.deleted_total += n

    # --- verification -------------------------------------------------------------------------------

    async def _verify(self) -> Verification:
        """Look again after the consistency lag; delete what is left; the last look must find nothing."""
        leftovers = 0
        for round_number in range(1, self.verify_rounds + 1):
            self._emit("verifying", self.deleted_total)
            await self.clock.sleep(self.verify_delay)
            try:
                found = await self._find_leftovers(delete=True)
            except _CannotVerify as exc:
                return Verification(False, note=str(exc))
            if found == 0:
                return Verification(True, remaining=0, rounds=round_number, leftovers_deleted=leftovers)
            leftovers += found
        await self.clock.sleep(self.verify_delay)
        remaining = await self._find_leftovers(delete=False)
        return Verification(
            True, remaining=remaining, rounds=self.verify_rounds + 1, leftovers_deleted=leftovers
        )

    async def _find_leftovers(self, *, delete: bool) -> int:
        kind = self.plan.kind
        namespace = self.plan.namespaces[0]
        found = 0
        if kind in ("list_and_delete", "delete_ids"):

            async def handle(ids: Sequence[str]) -> None:
                nonlocal found
                if kind == "delete_ids":
                    present = await self.dp.fetch(ids, namespace=namespace)
                    self.other_requests += 1
                    ids = [i for i in ids if i in present]
                found += len(ids)
                if delete and ids:
                    await self._delete_ids(ids, namespace)

            source: IdSource
            if kind == "list_and_delete":
                source = self._list_source(namespace, None, None)
            else:
                assert self.ids_input is not None
                source = IdsSource(self.ids_input.open(), page_size=MAX_IDS_PER_REQUEST)
            rate = self._rate("fetch") if kind == "delete_ids" else self._rate("delete", MAX_IDS_PER_REQUEST)
            await run_pipeline(source, handle, rate=rate, clock=self.clock)
            if isinstance(source, ListSource):
                self.list_requests += source.requests
            return found
        if kind == "delete_by_filter":
            assert self.plan.filter is not None
            for ns in self.plan.namespaces:
                try:
                    page = await self.dp.fetch_by_metadata(self.plan.filter, namespace=ns, limit=100)
                except ApiError as exc:
                    raise _CannotVerify(f"fetch_by_metadata is not available: {exc.message}") from exc
                self.other_requests += 1
                if page.records:
                    found += len(page.records) if page.next_token is None else await self._count_filter_ns(ns)
                    if delete:
                        await self.dp.delete_by_filter(self.plan.filter, namespace=ns)
                        self.other_requests += 1
            return found
        for ns in self.plan.namespaces:
            listed = await self.dp.list_page(namespace=ns, limit=100)
            self.list_requests += 1
            if listed.ids:
                found += len(listed.ids)
                if delete:
                    with contextlib.suppress(NotFoundError):
                        await self.dp.delete_all(namespace=ns)
                    self.other_requests += 1
        return found

    async def _count_filter_ns(self, namespace: str) -> int:
        assert self.plan.filter is not None
        total, token = 0, None
        while True:
            page = await self.dp.fetch_by_metadata(
                self.plan.filter, namespace=namespace, limit=100, token=token
            )
            self.other_requests += 1
            total += len(page.records)
            if not page.next_token:
                return total
            token = page.next_token

    # --- reporting ----------------------------------------------------------------------------------

    def _emit(self, phase: Any, deleted: int) -> None:
        if self.progress is not None:
            self.progress(PurgeProgress(phase, deleted, self.clock.now() - self.started))

    def _report(
        self,
        *,
        dry_run: bool,
        resumed: bool,
        would_delete: int | None,
        verification: Verification,
        backup_id: str | None = None,
        sample: tuple[str, ...] = (),
    ) -> PurgeReport:
        elapsed = self.clock.now() - self.started
        requests = self.list_requests + self.other_requests
        rate_limited = retries = 0
        if self.client is not None and self.stats_before is not None:
            now, before = self.client.stats, self.stats_before
            requests = now.total_requests - before.total_requests
            rate_limited = now.total_rate_limited - before.total_rate_limited
            retries = now.total_retries - before.total_retries
        per_second = self.deleted_this_run / self.deleting_seconds if self.deleting_seconds > 0 else 0.0
        bound = documented_bound(self.plan, self.profile)
        deleted: int | None = 0 if dry_run else self.deleted_total
        if not dry_run and self.plan.kind == "delete_by_filter":
            deleted = None
        report = PurgeReport(
            plan=self.plan.describe(),
            kind=self.plan.kind,
            namespaces=self.plan.namespaces,
            dry_run=dry_run,
            deleted=deleted,
            listed=self.deleted_total if self.plan.kind == "list_and_delete" else 0,
            requests=requests,
            rate_limited=rate_limited,
            retries=retries,
            elapsed=elapsed,
            ids_per_second=per_second,
            bound=bound,
            rate_vs_bound=(per_second / bound) if bound and per_second else None,
            verification=verification,
            resumed=resumed,
            would_delete=would_delete,
            sample=sample,
            backup_id=backup_id,
            notes=tuple(self.notes),
        )
        return replace(report, listed=would_delete or 0) if dry_run else report


class _CannotVerify(Exception):
    """Internal: the verification pass has no way to look (e.g. fetch_by_metadata unsupported)."""
