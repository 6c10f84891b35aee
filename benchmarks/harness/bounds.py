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

Copy adds the target's upsert stage to export by prefix. Copy via storage is bound by its export half
only: Pinecone's bulk import is not paced by the upsert limits and documents no rate (on the local
server it runs as fast as the server writes SQLite, which says nothing about Pinecone's).

The many-namespace scenarios carry at most ``records per namespace`` records per list page and fetch
(2,000 namespaces × 5 records: list 200 × 5, fetch 100 × 5 = 500 records/s), and a namespace-scoped
row applies to every namespace at once (× the number of namespaces). Bytes per record depend on the
wire: JSON for REST, protobuf for gRPC, so the upsert bound of import and copy is per transport
(``bytes_per_record`` is the caller's choice).

The server-ceiling scenarios have no documented bound of their own; their reference line is the bound
they must exceed for export by prefix not to be server-limited (20,000 records/s: a fetch ceiling in
records/s, a list ceiling in IDs/s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.harness import datagen
from benchmarks.harness.spec import SERVER_SCENARIOS, Point, Scenario
from bulkops.limits.profiles import Profile, load_profile
from bulkops.models import MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES

__all__ = ["LIST_PAGE_IDS", "Bound", "bound_for", "bound_of_point", "upsert_batch_size"]

LIST_PAGE_IDS = 100

_STAGES: dict[Scenario, tuple[str, ...]] = {
    "purge-prefix": ("list", "delete"),
    "purge-ids": ("delete",),
    "export-prefix": ("list", "fetch"),
    "export-ids": ("fetch",),
    "import": ("upsert",),
    "copy": ("list", "fetch", "upsert"),
    "copy-via-storage": ("list", "fetch"),
    "export-namespaces": ("list", "fetch"),
    "copy-namespaces": ("list", "fetch", "upsert"),
}


@dataclass(frozen=True, slots=True)
class Bound:
    """``rate`` records/s (``None``: no documented limit applies) and the formula that gave it."""

    rate: float | None
    formula: str


def upsert_batch_size(bytes_per_record: int) -> int:
    """Records per upsert: ≤ 1000 and ≤ 2 MB of request body."""
    return max(1, min(MAX_IDS_PER_REQUEST, MAX_UPSERT_BYTES // max(1, bytes_per_record)))


def _per_request(operation: str, bytes_per_record: int, per_namespace: int | None) -> int:
    if operation == "list":
        carried = LIST_PAGE_IDS
    elif operation == "upsert":
        carried = upsert_batch_size(bytes_per_record)
    else:
        carried = MAX_IDS_PER_REQUEST
    return carried if per_namespace is None else max(1, min(carried, per_namespace))


def bound_for(
    scenario: Scenario,
    limits: str | Profile,
    *,
    bytes_per_record: int = 0,
    namespaces: int = 1,
    per_namespace: int | None = None,
) -> Bound:
    """The scenario's bound under ``limits`` (a profile name, file path or :class:`Profile`).

    ``namespaces``/``per_namespace``: a many-namespace data set (each request carries at most one
    namespace's records; namespace-scoped rows apply to each namespace).
    """
    profile = limits if isinstance(limits, Profile) else load_profile(limits)
    best = math.inf
    terms: list[str] = []
    for operation in _STAGES[scenario]:
        per_request = _per_request(operation, bytes_per_record, per_namespace if namespaces > 1 else None)
        for limit in profile.limits_for(operation):
            spread = namespaces if limit.scope == "namespace" and namespaces > 1 else 1
            times = f" × {spread} namespaces" if spread > 1 else ""
            if limit.unit == "requests":
                value = limit.rate * per_request * spread
                text = f"{operation} {limit.rate:g} req/s/{limit.scope} × {per_request}{times}"
            elif limit.unit == "records":
                value = limit.rate * spread
                text = f"{operation} {limit.rate:g} rec/s/{limit.scope}{times}"
            else:
                if bytes_per_record <= 0:
                    continue
                value = limit.rate / bytes_per_record * spread
                text = f"{operation} {limit.rate:g} B/s/{limit.scope} ÷ {bytes_per_record} B/rec{times}"
            terms.append(f"{text} = {value:,.0f}/s")
            best = min(best, value)
    if math.isinf(best):
        return Bound(None, f"no {'/'.join(_STAGES[scenario])} limit in profile {profile.name}")
    return Bound(best, "min(" + "; ".join(terms) + ")")


def bound_of_point(point: Point, *, wire: str) -> Bound:
    """The bound of ``point`` for a contender speaking ``wire`` (``rest`` or ``grpc``: bytes per record).

    ``auto`` (a contender that did not say which wire it used): the higher of the two, so a ratio to the
    bound is never flattered by guessing the slower wire. A server-ceiling point gets the reference it
    must exceed: export by prefix's bound, default limits.
    """
    if wire == "auto":
        rest, grpc = bound_of_point(point, wire="rest"), bound_of_point(point, wire="grpc")
        return grpc if (grpc.rate or 0) >= (rest.rate or 0) else rest
    if point.scenario in SERVER_SCENARIOS:
        reference = bound_for("export-prefix", "default")
        return Bound(reference.rate, "reference, export by prefix at default limits: " + reference.formula)
    dataset = point.dataset
    per_record = (
        datagen.protobuf_bytes_per_record(dataset) if wire == "grpc" else datagen.bytes_per_record(dataset)
    )
    return bound_for(
        point.scenario,
        point.limits,
        bytes_per_record=per_record,
        namespaces=dataset.namespaces,
        per_namespace=dataset.per_namespace,
    )
