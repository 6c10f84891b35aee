"""What a purge reports: counts, request figures, rate against the documented bound, verification."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["PurgeProgress", "PurgeReport", "Verification"]


@dataclass(frozen=True, slots=True)
class Verification:
    """The pass after the consistency lag: ``remaining`` targeted records found at the end (must be 0).

    ``checked`` False means verification was switched off or impossible (``note`` says why).
    """

    checked: bool
    remaining: int | None = None
    rounds: int = 0
    leftovers_deleted: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.checked and self.remaining == 0


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """The outcome of :func:`bulkops.purge`. Counts are cumulative over resumed runs of one checkpoint.

    ``deleted``: IDs sent in acknowledged delete requests (a re-sent in-flight batch counts again; for
    deleteAll / delete-by-filter plans, the records counted beforehand, or None if not counted).
    ``rate_vs_bound``: this run's IDs/s ÷ the documented bound for the plan (None if no bound applies).
    """

    plan: str
    kind: str
    namespaces: tuple[str, ...]
    dry_run: bool
    deleted: int | None
    listed: int
    requests: int
    rate_limited: int
    retries: int
    elapsed: float
    ids_per_second: float
    bound: float | None
    rate_vs_bound: float | None
    verification: Verification
    resumed: bool = False
    would_delete: int | None = None
    sample: tuple[str, ...] = ()
    backup_id: str | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PurgeProgress:
    """Passed to the ``progress`` callback: ``phase`` and cumulative counts so far."""

    phase: Literal["counting", "backup", "deleting", "verifying"]
    deleted: int
    elapsed: float
