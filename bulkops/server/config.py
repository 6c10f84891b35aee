"""Everything that shapes one run of the local server, as one frozen value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bulkops.errors import UsageError
from bulkops.limits.profiles import OPERATIONS, Profile
from bulkops.server.faults import FaultRule

__all__ = ["DEFAULT_LIST_PAGE_MAX", "Latency", "ServerConfig", "parse_latency"]

# Pinecone's list default page is 100 and no maximum is documented; we accept larger limits up to
# this cap (and clamp above it) so clients that ask for big pages still work.
DEFAULT_LIST_PAGE_MAX = 1000


@dataclass(frozen=True, slots=True)
class Latency:
    """Added delay per request: ``fixed_ms`` plus a uniform draw in ``[0, jitter_ms]``."""

    fixed_ms: float = 0.0
    jitter_ms: float = 0.0

    @property
    def active(self) -> bool:
        return self.fixed_ms > 0 or self.jitter_ms > 0


def parse_latency(text: str) -> tuple[Latency, dict[str, Latency]]:
    """``MS[:JITTER]`` for every operation, plus ``OP=MS[:JITTER]`` overrides, comma-separated."""
    base = Latency()
    per_op: dict[str, Latency] = {}
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        op, _, value = part.rpartition("=")
        try:
            fixed, _, jitter = value.partition(":")
            latency = Latency(float(fixed), float(jitter or 0))
        except ValueError:
            raise UsageError(
                f"latency {part!r} is not valid: use MS[:JITTER_MS], optionally OPERATION=MS[:JITTER_MS]"
            ) from None
        if latency.fixed_ms < 0 or latency.jitter_ms < 0:
            raise UsageError(f"latency {part!r}: milliseconds must not be negative")
        if op:
            if op not in OPERATIONS:
                raise UsageError(f"latency {part!r}: unknown operation {op!r} ({', '.join(OPERATIONS)})")
            per_op[op] = latency
        else:
            base = latency
    return base, per_op


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to run the local server. ``data_dir=None`` keeps everything in memory; ``limits=None``
    enforces no rate limits; ``port=0`` picks a free port for the control plane."""

    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path | None = None
    api_key: str | None = field(default=None, repr=False)
    limits: Profile | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    latency_per_operation: Mapping[str, Latency] = field(default_factory=dict)
    faults: tuple[FaultRule, ...] = ()
    consistency_lag_ms: float = 0.0
    list_page_max: int = DEFAULT_LIST_PAGE_MAX
    seed: int | None = None
    backup_ready_ms: float = 200.0  # how long a new backup reports Initializing
    restore_ms: float = 300.0  # how long a restore job takes to reach Completed
    import_pending_ms: float = 0.0  # how long a new bulk import reports Pending before it starts
    import_records_per_second: float | None = None  # a bulk import's pace (None: as fast as it reads)

    def latency_for(self, operation: str) -> Latency:
        return self.latency_per_operation.get(operation) or Latency(self.latency_ms, self.jitter_ms)
