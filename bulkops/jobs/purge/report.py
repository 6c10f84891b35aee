"""What a purge reports: counts, this run's figures against the documented bound, verification."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bulkops.jobs.figures import RunFigures

__all__ = ["PurgePhase", "PurgeProgress", "PurgeReport", "Verification"]

PurgePhase = Literal["counting", "exporting", "backup", "deleting", "verifying"]


@dataclass(frozen=True, slots=True)
class Verification:
    """The pass after the consistency lag: ``remaining`` targeted records found at the end (must be 0).

    ``checked`` False means verification was switched off or impossible (``note`` says why).
    ``waited``: seconds spent waiting for the deletes to become visible (observed, at most
    ``verify_delay`` a round); ``lag``: the longest time after a delete at which a deleted record was
    still seen (None: none was).
    """

    checked: bool
    remaining: int | None = None
    rounds: int = 0
    leftovers_deleted: int = 0
    note: str = ""
    waited: float = 0.0
    lag: float | None = None

    @property
    def ok(self) -> bool:
        return self.checked and self.remaining == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "remaining": self.remaining,
            "rounds": self.rounds,
            "leftovers_deleted": self.leftovers_deleted,
            "note": self.note,
            "waited": self.waited,
            "lag": self.lag,
            "ok": self.ok,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeReport(RunFigures):
    """The outcome of :func:`bulkops.purge`. Counts are cumulative over resumed runs of one checkpoint.

    ``deleted``: IDs sent in acknowledged delete requests (a re-sent in-flight batch counts again; for
    deleteAll / delete-by-filter plans, the records counted beforehand, or None if not counted).
    ``rate``: this run's IDs deleted per second of its delete phase.
    """

    plan: str
    kind: str
    namespaces: tuple[str, ...]
    dry_run: bool
    deleted: int | None
    listed: int
    verification: Verification = field(default_factory=lambda: Verification(False))
    would_delete: int | None = None
    sample: tuple[str, ...] = ()
    backup_id: str | None = None
    exported_first: Mapping[str, Any] | None = None  # export_first: the export's output and record count

    @property
    def ids_per_second(self) -> float:
        """This run's IDs/s over the delete phase (the name before reports shared :attr:`rate`)."""
        return self.rate


@dataclass(frozen=True, slots=True)
class PurgeProgress:
    """Passed to the ``progress`` callback: ``phase`` and cumulative counts so far."""

    phase: PurgePhase
    deleted: int
    elapsed: float
