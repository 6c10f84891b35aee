"""What the purge's phases (count, delete, verify) share: the spec, where it runs, and small helpers.

The phases read this and return what they found or did; only :mod:`bulkops.jobs.purge.job` keeps the
running totals and writes the report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bulkops.api.protocols import DataPlane
from bulkops.clock import Clock
from bulkops.engine.checkpoint import Checkpoint
from bulkops.engine.concurrency import RateMeter
from bulkops.engine.fanout import Chain
from bulkops.engine.sources import ListSource, list_rate_meter
from bulkops.errors import NotFoundError
from bulkops.jobs.ids import IdsInput
from bulkops.jobs.namespaces import NAMESPACE_LANES
from bulkops.jobs.purge.lag import DeleteWatch
from bulkops.jobs.purge.report import PurgePhase, PurgeProgress
from bulkops.jobs.purge.spec import PurgeSpec
from bulkops.limits.profiles import Profile

__all__ = ["PurgeContext"]


@dataclass(frozen=True, slots=True)
class PurgeContext:
    """One run of a purge: its spec, the namespaces it resolved to, the data plane and the tuning.

    ``lanes``: namespaces worked on at once; ``watch``: the deletes of this run and the consistency lag
    seen (:mod:`bulkops.jobs.purge.lag`); the list sources of every namespace share one list-rate meter.
    """

    spec: PurgeSpec
    namespaces: tuple[str, ...]
    dp: DataPlane
    profile: Profile
    clock: Clock
    started: float
    watch: DeleteWatch
    ids: IdsInput | None = None
    progress: Callable[[PurgeProgress], None] | None = None
    sample_size: int = 10
    target_chains: int | None = None
    lanes: int = NAMESPACE_LANES
    list_meter: RateMeter = field(default_factory=lambda: list_rate_meter(delegate=True))

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

    def emit(self, phase: PurgePhase, deleted: int) -> None:
        """Tell the caller's progress callback where the purge is."""
        if self.progress is not None:
            self.progress(PurgeProgress(phase, deleted, self.clock.now() - self.started))

    def list_source(
        self,
        namespace: str,
        journal: Checkpoint | None,
        chains: list[Chain] | None,
        *,
        deleting: bool = False,
    ) -> ListSource:
        """Fan-out listing of every prefix; ``deleting``: every listed ID is deleted, so chains may
        delegate (cheaper)."""

        def persist(parent: Chain, children: list[Chain]) -> None:
            if journal is not None:
                with journal.step() as step:
                    step.save_chains(namespace, [parent, *children])

        return ListSource(
            self.dp,
            namespace=namespace,
            prefixes=self.spec.selection.prefixes,
            chains=chains,
            list_rate=self.profile.rate("list", "index", "requests"),
            target_chains=self.target_chains,
            delegate=deleting,
            on_carve=persist,
            achieved=self.list_meter,
            clock=self.clock,
        )

    async def delete_ids(self, ids: Sequence[str], namespace: str) -> None:
        with contextlib.suppress(NotFoundError):  # the namespace is gone: nothing left to delete
            await self.dp.delete_ids(ids, namespace=namespace)
        self.watch.deleted_ids(namespace, ids)
