"""The documented bound of each scenario: the fastest rate Pinecone's limits allow, in records/s.

Computed from the limit profile (``bulkops.limits.profiles``), never hard-coded, so a stricter profile
or a JSON override moves the bound with it. A scenario is a pipeline of operations; its bound is the
smallest stage bound. A stage bound is, for each limit row that applies (index and namespace scope):

- a *requests* row:  rate (req/s) × records carried per request
- a *records* row:   rate (records/s)
- a *bytes* row:     rate (bytes/s) ÷ bytes per record on the wire

Records per request: list 100 IDs per page (the API's maximum page), delete and fetch 1000 IDs,
upsert min(1000, 2 MB ÷ bytes per record). So with the ``default`` profile:

- purge by prefix   = min(list 200 req/s × 100, delete 5000 req/s × 1000)          = 20,000 IDs/s
- purge by IDs      = delete 5000 req/s × 1000                                      = 5,000,000 IDs/s
- export by prefix  = min(list 200 req/s × 100, fetch 100 req/s × 1000)            = 20,000 rec/s
- export by IDs     = fetch 100 req/s × 1000                                        = 100,000 rec/s
- import            = upsert 50 MB/s ÷ bytes per record (no request-rate row)

``strict`` adds per-namespace delete records (5000/s) and request rows (100 req/s), which lowers purge
by IDs to 5,000 IDs/s and caps import at 100 req/s × batch. A profile with no row for any stage (``none``)
has no bound: the ratio is then not reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.harness.spec import Scenario
from bulkops.limits.profiles import Profile, load_profile
from bulkops.models import MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES

__all__ = ["LIST_PAGE_IDS", "Bound", "bound_for", "upsert_batch_size"]

LIST_PAGE_IDS = 100

_STAGES: dict[Scenario, tuple[str, ...]] = {
    "purge-prefix": ("list", "delete"),
    "purge-ids": ("delete",),
    "export-prefix": ("list", "fetch"),
    "export-ids": ("fetch",),
    "import": ("upsert",),
}


@dataclass(frozen=True, slots=True)
class Bound:
    """``rate`` records/s (``None``: no documented limit applies) and the formula that gave it."""

    rate: float | None
    formula: str


def upsert_batch_size(bytes_per_record: int) -> int:
    """Records per upsert: ≤ 1000 and ≤ 2 MB of request body."""
    return max(1, min(MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES // max(1, bytes_per_record)))


def _per_request(operation: str, bytes_per_record: int) -> int:
    if operation == "list":
        return LIST_PAGE_IDS
    if operation == "upsert":
        return upsert_batch_size(bytes_per_record)
    return MAX_IDS_PER_REQUEST


def bound_for(scenario: Scenario, limits: str | Profile, *, bytes_per_record: int = 0) -> Bound:
    """The scenario's bound under ``limits`` (a profile name, file path or :class:`Profile`)."""
    profile = limits if isinstance(limits, Profile) else load_profile(limits)
    best = math.inf
    terms: list[str] = []
    for operation in _STAGES[scenario]:
        per_request = _per_request(operation, bytes_per_record)
        for limit in profile.limits_for(operation):
            if limit.unit == "requests":
                value = limit.rate * per_request
                text = f"{operation} {limit.rate:g} req/s/{limit.scope} × {per_request}"
            elif limit.unit == "records":
                value = limit.rate
                text = f"{operation} {limit.rate:g} rec/s/{limit.scope}"
            else:
                if bytes_per_record <= 0:
                    continue
                value = limit.rate / bytes_per_record
                text = f"{operation} {limit.rate:g} B/s/{limit.scope} ÷ {bytes_per_record} B/rec"
            terms.append(f"{text} = {value:,.0f}/s")
            best = min(best, value)
    if math.isinf(best):
        return Bound(None, f"no {'/'.join(_STAGES[scenario])} limit in profile {profile.name}")
    return Bound(best, "min(" + "; ".join(terms) + ")")
