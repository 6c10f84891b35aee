"""A purge run: the phases in order, each recorded in the checkpoint, then the report.

1. plan and validate (:mod:`bulkops.jobs.purge.spec`; bad input raises UsageError, nothing is sent),
   then check the namespaces exist (:mod:`bulkops.jobs.namespaces`);
2. ``max_delete`` guard: count first, bounded by the guard itself (listing stops as soon as the count
   exceeds it), and refuse before the first delete. Counting up to the guard costs at most
   ``max_delete / 100`` list requests; stopping *at* the guard instead would leave a half-done purge.
   Deletes are also capped at the guard while they run, in case records appear after the count;
3. ``export_first``: export exactly the targeted records with :func:`bulkops.jobs.export.job.run_export`
   (its own checkpoint, ``<path>.checkpoint``, so a resumed purge resumes the export too);
4. ``backup_first``: create a backup through the control plane and wait until it is Ready. Pinecone's
   backups leave out records written in the 15 minutes before they are taken: the backup's record count
   is compared with the index's, and a backup that holds fewer records is reported (a note, and the CLI
   warns), since the newest records may be among the targeted ones and only ``export_first`` has them;
5. delete (:mod:`bulkops.jobs.purge.delete`);
6. verify once the deletes are visible (:mod:`bulkops.jobs.purge.verify`): look again for what was
   targeted, delete leftovers, and report the final count (it must be 0; otherwise VerificationError
   carrying the report).

Dry run: count what would go (and a sample), delete nothing, write no checkpoint.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bulkops.clock import SYSTEM_CLOCK, Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.errors import Param, UsageError, VerificationError
from bulkops.jobs.export.job import run_export
from bulkops.jobs.export.spec import ExportSpec
from bulkops.jobs.figures import FiguresMeter
from bulkops.jobs.groups import raises_single_errors
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.journal import moved_note, open_journal
from bulkops.jobs.namespaces import NAMESPACE_LANES, NamespaceSelection, resolve_namespaces
from bulkops.jobs.purge import count, delete, verify
from bulkops.jobs.purge.context import PurgeContext
from bulkops.jobs.purge.lag import DeleteWatch
from bulkops.jobs.purge.plan import documented_bound
from bulkops.jobs.purge.report import PurgeProgress, PurgeReport, Verification
from bulkops.jobs.purge.spec import PurgeSpec
from bulkops.jobs.selection import ids_for
from bulkops.jobs.target import NO_ACCESS, Access, Target, open_target

__all__ = ["run_purge"]


@raises_single_errors
async def run_purge(
    spec: PurgeSpec,
    *,
    ids: IdsInput | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    access: Access = NO_ACCESS,
    progress: Callable[[PurgeProgress], None] | None = None,
    sample_size: int = 10,
    target_chains: int | None = None,
    namespace_lanes: int = NAMESPACE_LANES,
    clock: Clock = SYSTEM_CLOCK,
    count_limit: int | None = None,
) -> PurgeReport:
    """Run the purge ``spec`` (built by :func:`bulkops.jobs.purge.spec.build_purge`); ``namespace_lanes``:
    namespaces worked on at once.

    ``count_limit``: a dry run stops counting once past it (``would_delete > count_limit`` then means
    "more than that"), as the max_delete guard does; a quick look before a confirmation. An IDs plan is
    then not counted against the index: ``would_delete`` is the IDs given times the namespaces."""
    prepared = ids_for(spec.selection, ids)
    async with open_target(spec.target, access) as target:
        spec = replace(spec, target=target.spec)
        run = _Run(spec, target, prepared, progress, sample_size, target_chains, clock, access)
        run.lanes = namespace_lanes
        if dry_run:
            return await run.dry_run(count_limit)
        if checkpoint is None:
            return await run.phases(None)
        with open_journal(Path(checkpoint), spec) as journal:
            return await run.phases(journal)
    raise AssertionError("unreachable")  # pragma: no cover - the context does not swallow exceptions


class _Run:
    """One run of a purge: resolves the namespaces, runs the phases, keeps the totals, writes the report."""

    def __init__(
        self,
        spec: PurgeSpec,
        target: Target,
        ids: IdsInput | None,
        progress: Callable[[PurgeProgress], None] | None,
        sample_size: int,
        target_chains: int | None,
        clock: Clock,
        access: Access,
    ) -> None:
        self.spec = spec
        self.access = access
        self.lanes = NAMESPACE_LANES
        self.target = target
        self.ids = ids
        self.progress = progress
        self.sample_size = sample_size
        self.target_chains = target_chains
        self.clock = clock
        self.meter = FiguresMeter(target, clock)

    def context(self, namespaces: list[str]) -> PurgeContext:
        return PurgeContext(
            self.spec,
            tuple(namespaces),
            self.target.dataplane,
            self.target.profile,
            self.clock,
            self.meter.started,
            DeleteWatch(
                self.target.dataplane,
                self.clock,
                upper=self.spec.options.verify_delay,
                filter=self.spec.selection.filter,
            ),
            ids=self.ids,
            progress=self.progress,
            sample_size=self.sample_size,
            target_chains=self.target_chains,
            lanes=self.lanes,
        )

    async def namespaces(self) -> list[str]:
        return await resolve_namespaces(
            self.target.dataplane, self.spec.namespaces, index=self.spec.target.describe()
        )

    async def dry_run(self, limit: int | None = None) -> PurgeReport:
        """Count what would go (with a sample of IDs), stopping once past ``limit``; delete nothing."""
        ctx = self.context(await self.namespaces())
        counted = await count.count_targets(ctx, limit=limit)
        note = "dry run: nothing deleted"
        return self.report(
            ctx,
            dry_run=True,
            deleted=0,
            listed=counted.found or 0,
            would_delete=counted.found,
            verification=Verification(False, note=note),
            sample=counted.sample,
            notes=(counted.note,) if counted.note else (),
        )

    async def phases(self, journal: Checkpoint | None) -> PurgeReport:
        phase = journal.get("phase", "new") if journal else "new"
        resumed = journal.resumed if journal else False
        notes = moved_note(journal, self.spec) if journal else ()
        names: list[str] | None = journal.get("namespaces") if journal else None
        if names is None:
            names = await self.namespaces() if phase == "new" else list(self.spec.namespaces.names or ())
        ctx = self.context(names)
        deleted_before = journal.counter("deleted") if journal else 0
        would_delete = journal.get("would_delete") if journal else None
        if phase == "new":
            if self.spec.options.max_delete is not None:
                would_delete = await count.guard(ctx)
            _record(journal, namespaces=names, would_delete=would_delete, phase="export")
            phase = "export"
        exported_first = journal.get("exported_first") if journal else None
        if phase == "export":
            if self.spec.options.export_first is not None:
                exported_first = await self.export_first(ctx)
            _record(journal, phase="backup", exported_first=exported_first)
            phase = "backup"
        backup_id = journal.get("backup_id") if journal else None
        backup_note = journal.get("backup_note") if journal else None
        if phase == "backup":
            if self.spec.options.backup_first:
                backup_id, backup_note = await self.backup(ctx, journal, backup_id)
            _record(journal, phase="deleting", backup_note=backup_note)
            phase = "deleting"
        if backup_note:
            notes = (*notes, backup_note)
        done = delete.Deleted()
        if phase == "deleting":
            done = await delete.delete_targets(ctx, journal, deleted_before=deleted_before)
            _record(journal, phase="verifying")
        deleted = journal.counter("deleted") if journal else done.ids
        verification = (
            await verify.verify(ctx, done.early, deleted=deleted)
            if self.spec.options.verify
            else Verification(False, note="verify=False")
        )
        _record(journal, phase="done")
        report = self.report(
            ctx,
            dry_run=False,
            deleted=None if self.spec.plan == "delete_by_filter" else deleted,
            listed=deleted if self.spec.plan == "list_and_delete" else 0,
            would_delete=would_delete,
            verification=verification,
            backup_id=backup_id,
            exported_first=exported_first,
            resumed=resumed,
            rate_of=(done.ids, done.seconds),
            notes=notes,
        )
        if verification.checked and verification.remaining:
            raise VerificationError(
                f"{verification.remaining} targeted records remain after {verification.rounds} "
                "verification rounds; rerun the purge with the same checkpoint",
                report=report,
            )
        return report

    async def export_first(self, ctx: PurgeContext) -> dict[str, Any]:
        """Export exactly the targeted records (its own checkpoint beside the output: resumable)."""
        path = self.spec.options.export_first
        assert path is not None
        ctx.emit("exporting", 0)
        spec = ExportSpec(
            self.spec.target,
            NamespaceSelection(tuple(ctx.namespaces), allow_missing=True),
            self.spec.selection,
            path,
        )
        report = await run_export(spec, ids=self.ids, access=self.access, clock=self.clock)
        return {"output": path, "exported": report.exported, "manifest": str(report.manifest)}

    async def backup(
        self, ctx: PurgeContext, journal: Checkpoint | None, known: str | None
    ) -> tuple[str, str | None]:
        """The backup's id, and a note when it holds fewer records than the index did (the newest
        records, written in the window Pinecone leaves out of backups, may be among the targeted)."""
        control = self.target.control
        index = self.spec.target.index
        if control is None or index is None:
            raise UsageError(
                Param("backup_first", True), " needs a client (index=<name>), not a bare data plane"
            )
        ctx.emit("backup", 0)
        backup_id = known
        held: int | None = journal.get("records_at_backup") if journal else None
        if backup_id is None:
            stats = await ctx.dp.describe_index_stats()
            held = int(stats.get("totalVectorCount", stats.get("total_vector_count", 0)) or 0)
            stamp = int(self.clock.wall())
            created = await control.create_backup(
                index,
                name=f"bulkops-purge-{stamp}",
                description=f"before: {self.spec.plan_text(ctx.namespaces)}"[:200],
            )
            backup_id = str(created["backup_id"])
            _record(journal, backup_id=backup_id, records_at_backup=held)
        ready = await control.wait_until_backup_ready(backup_id)
        exported = self.spec.options.export_first
        return backup_id, backup_gap_note(backup_id, ready.get("record_count"), held, exported)

    def report(
        self,
        ctx: PurgeContext,
        *,
        dry_run: bool,
        deleted: int | None,
        listed: int,
        would_delete: int | None,
        verification: Verification,
        sample: tuple[str, ...] = (),
        backup_id: str | None = None,
        exported_first: Mapping[str, Any] | None = None,
        resumed: bool = False,
        rate_of: tuple[int, float] = (0, 0.0),
        notes: tuple[str, ...] = (),
    ) -> PurgeReport:
        done, seconds = rate_of
        per_namespace = done / len(ctx.namespaces) if done and ctx.namespaces else math.inf
        return PurgeReport(
            plan=self.spec.plan_text(ctx.namespaces),
            kind=self.spec.plan,
            namespaces=ctx.namespaces,
            dry_run=dry_run,
            deleted=deleted,
            listed=listed,
            verification=verification,
            would_delete=would_delete,
            sample=sample,
            backup_id=backup_id,
            exported_first=exported_first,
            notes=notes,
            **self.meter.figures(
                done=done,
                seconds=seconds,
                bound=documented_bound(
                    self.spec.plan,
                    self.target.profile,
                    per_namespace=max(1.0, per_namespace),
                ),
                resumed=resumed,
            ),
        )


def backup_gap_note(
    backup_id: str, in_backup: Any, in_index: int | None, exported_to: str | None = None
) -> str | None:
    """Words for a backup that holds fewer records than the index held when it was taken (None: it
    holds as many, or either count is unknown)."""
    if not isinstance(in_backup, int) or in_index is None or in_backup >= in_index:
        return None
    remedy = (
        f"the export taken first ({exported_to}) holds every targeted record"
        if exported_to
        else "export them first (export_first=PATH, the CLI's --export-first PATH) for a copy without that "
        "window"
    )
    return (
        f"backup {backup_id} holds {in_backup:,} records but the index held {in_index:,} when it was "
        f"taken: backups leave out records written shortly before them (15 minutes on Pinecone), so the "
        f"{in_index - in_backup:,} newest records, which may be among those this purge deletes, are not "
        f"in it; {remedy}"
    )


def _record(journal: Checkpoint | None, **values: Any) -> None:
    """Store ``values`` in one checkpoint step (a purge without a checkpoint keeps nothing)."""
    if journal is None:
        return
    with journal.step() as step:
        for key, value in values.items():
            step.set(key, value)
