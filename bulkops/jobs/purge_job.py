"""A purge in progress: the phases in order, each recorded in the checkpoint, and its report."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.fanout import Chain
from bulkops.engine.sources import ListSource
from bulkops.errors import NotFoundError, UsageError, VerificationError
from bulkops.jobs import purge_count, purge_delete, purge_verify
from bulkops.jobs.ids_input import IdsInput
from bulkops.jobs.planner import PurgePlan, documented_bound
from bulkops.jobs.purge_report import PurgeProgress, PurgeReport, Verification
from bulkops.limits.profiles import Profile

__all__ = ["PurgeJob"]


class PurgeJob:
    """One purge run: its plan, target, settings and counters; the phases are in purge_* modules."""

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
        self.early_check: purge_verify.EarlyCheck | None = None  # set by an IDs purge's delete phase

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

    def rate(self, operation: str, per: int = 1) -> float | None:
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

    async def run(self, journal: Checkpoint | None) -> PurgeReport:
        phase = journal.get("phase", "new") if journal else "new"
        resumed = journal.resumed if journal else False
        if journal is not None:
            self.deleted_total = journal.counters().get("deleted", 0)
        would_delete = journal.get("would_delete") if journal else None
        if phase == "new":
            if self.max_delete is not None:
                would_delete = await purge_count.guard(self)
            self.record(journal, would_delete=would_delete, phase="backup")
            phase = "backup"
        backup_id = journal.get("backup_id") if journal else None
        if phase == "backup":
            if self.backup_first:
                backup_id = await self.backup(journal, backup_id)
            self.record(journal, phase="deleting")
            phase = "deleting"
        if phase == "deleting":
            await purge_delete.delete_targets(self, journal)
            self.record(journal, phase="verifying")
        verification = (
            await purge_verify.verify(self, self.early_check)
            if self.verify
            else Verification(False, note="verify=False")
        )
        self.record(journal, phase="done")
        if journal is not None:
            self.deleted_total = journal.counters().get("deleted", 0)
        report = self.report(
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
    def record(journal: Checkpoint | None, **values: Any) -> None:
        """Store ``values`` in one checkpoint step (a purge without a checkpoint keeps nothing)."""
        if journal is None:
            return
        with journal.step() as step:
            for key, value in values.items():
                step.set(key, value)

    async def backup(self, journal: Checkpoint | None, known: str | None) -> str:
        if self.client is None:
            raise UsageError("backup_first=True needs a Client (index=<name>), not a bare dataplane")
        self.emit("backup", 0)
        control = self.client.control
        backup_id = known
        if backup_id is None:
            stamp = int(self.clock.wall())
            created = await control.create_backup(
                self.index, name=f"bulkops-purge-{stamp}", description=f"before: {self.plan.describe()}"[:200]
            )
            backup_id = str(created["backup_id"])
            self.record(journal, backup_id=backup_id)
        await control.wait_until_backup_ready(backup_id)
        return backup_id

    def list_source(
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

    async def delete_ids(self, ids: Sequence[str], namespace: str) -> None:
        with contextlib.suppress(NotFoundError):  # the namespace is gone: nothing left to delete
            await self.dp.delete_ids(ids, namespace=namespace)
        self.other_requests += 1

    def emit(self, phase: Any, deleted: int) -> None:
        """Tell the caller's progress callback where the purge is."""
        if self.progress is not None:
            self.progress(PurgeProgress(phase, deleted, self.clock.now() - self.started))

    def report(
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
