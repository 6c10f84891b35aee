"""Everything that shapes one run of the local server, as one frozen value."""

from __future__ import annotations

import math
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
        if not _finite_non_negative(latency.fixed_ms) or not _finite_non_negative(latency.jitter_ms):
            raise UsageError(f"latency {part!r}: milliseconds must be finite and not negative")
        if op:
            if op not in OPERATIONS:
                raise UsageError(f"latency {part!r}: unknown operation {op!r} ({', '.join(OPERATIONS)})")
            per_op[op] = latency
        else:
            base = latency
    return base, per_op


def _finite_non_negative(value: float) -> bool:
    return math.isfinite(value) and value >= 0


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to run the local server. ``data_dir=None`` keeps everything in memory; ``limits=None``
    enforces no rate limits; ``port=0`` picks a free port for the control plane.

    Index ports: kept across restarts on the same ``data_dir`` (:mod:`bulkops.server.ports`); new
    indexes take the lowest free port from :attr:`new_index_ports_from`. ``tls_cert`` and
    ``tls_key`` (PEM) serve everything over TLS: REST over https and gRPC over TLS, same ports.
    Every value is checked on construction (a :class:`UsageError` names the wrong one).
    """

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
    backup_freshness_s: float = 0.0  # a backup leaves out records upserted this recently (Pinecone: 900)
    restore_ms: float = 300.0  # how long a restore job takes to reach Completed
    import_pending_ms: float = 0.0  # how long a new bulk import reports Pending before it starts
    import_records_per_second: float | None = None  # a bulk import's pace (None: as fast as it reads)
    index_port_base: int | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def new_index_ports_from(self) -> int | None:
        """Where a new index looks for a port: ``index_port_base``; else, with a fixed control port,
        the ports after it, as Pinecone Local lays them out (5080, then 5081, 5082, ...); else None,
        any free port. A control port below the kernel's ephemeral range (5080 is) keeps its indexes
        out of it too, where an outgoing connection could hold a kept port when the server restarts."""
        if self.index_port_base is not None:
            return self.index_port_base
        return self.port + 1 if 0 < self.port < 65_535 else None

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65_535:
            raise UsageError(f"port must be from 0 to 65535 (0 = any free port), not {self.port}")
        if self.index_port_base is not None and not 1 <= self.index_port_base <= 65_535:
            raise UsageError(f"index port base must be from 1 to 65535, not {self.index_port_base}")
        for name, value in (
            ("latency", self.latency_ms),
            ("jitter", self.jitter_ms),
            ("consistency lag", self.consistency_lag_ms),
            ("backup ready time", self.backup_ready_ms),
            ("backup freshness", self.backup_freshness_s),
            ("restore time", self.restore_ms),
            ("import pending time", self.import_pending_ms),
        ):
            if not _finite_non_negative(value):
                unit = "seconds" if name == "backup freshness" else "milliseconds"
                raise UsageError(f"{name} must be a finite number of {unit} >= 0, not {value}")
        pace = self.import_records_per_second
        if pace is not None and not (_finite_non_negative(pace) and pace > 0):
            raise UsageError(f"import pace must be a finite number of records per second > 0, not {pace}")
        if self.list_page_max < 1:
            raise UsageError(f"list page max must be at least 1, not {self.list_page_max}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise UsageError("TLS needs both a certificate and its key (--tls-cert and --tls-key)")

    @property
    def scheme(self) -> str:
        """``https`` with TLS, else ``http``: the scheme of every URL the server hands out."""
        return "https" if self.tls_cert is not None else "http"

    def latency_for(self, operation: str) -> Latency:
        return self.latency_per_operation.get(operation) or Latency(self.latency_ms, self.jitter_ms)
