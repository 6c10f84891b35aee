"""The purge planner: pick the cheapest plan the API allows for what the caller asked, or say why not.

=====================  ==========================================================================
asked for              plan
=====================  ==========================================================================
``everything=True``    ``delete_all`` per namespace (one request), or ``delete_namespace`` when asked
``filter={...}``       ``delete_by_filter``: one delete-by-metadata request per namespace, several
                       namespaces at once (5 req/s per namespace, 500 per index: the client paces)
``prefix="..."``       ``list_and_delete``: fanned-out list chains feeding delete-by-ID batches
``ids=...``            ``delete_ids``: batches of ≤ 1000 IDs straight from the file or iterable
=====================  ==========================================================================

Planning is pure: it validates the request and computes the documented bound, and sends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bulkops.errors import UsageError
from bulkops.limits.profiles import Profile
from bulkops.models import LIST_PAGE_IDS, MAX_IDS_PER_REQUEST, validate_record_id

__all__ = ["LIST_PAGE_IDS", "PlanKind", "PurgePlan", "documented_bound", "plan_purge"]

PlanKind = Literal["delete_all", "delete_namespace", "delete_by_filter", "list_and_delete", "delete_ids"]


@dataclass(frozen=True, slots=True)
class PurgePlan:
    kind: PlanKind
    namespaces: tuple[str, ...]
    prefix: str | None = None
    filter: Mapping[str, Any] | None = field(default=None)

    def describe(self) -> str:
        where = ", ".join(repr(ns) for ns in self.namespaces)
        if self.kind == "list_and_delete":
            return f"list IDs under prefix {self.prefix!r} and delete them by ID in namespace {where}"
        if self.kind == "delete_ids":
            return f"delete the given IDs by ID in namespace {where}"
        if self.kind == "delete_by_filter":
            return f"delete by metadata filter {dict(self.filter or {})} in namespace(s) {where}"
        if self.kind == "delete_namespace":
            return f"delete namespace(s) {where}"
        return f"delete every record (deleteAll) in namespace(s) {where}"


def plan_purge(
    *,
    namespace: str | None,
    namespaces: Sequence[str] | None,
    prefix: str | None,
    has_ids: bool,
    filter: Mapping[str, Any] | None,
    everything: bool,
    delete_namespace: bool,
) -> PurgePlan:
    """Validate the purge request and choose its plan. Raises UsageError naming what is wrong."""
    chosen = [
        name
        for name, given in (
            ("prefix", prefix is not None),
            ("ids", has_ids),
            ("filter", filter is not None),
            ("everything", everything),
        )
        if given
    ]
    if len(chosen) != 1:
        raise UsageError(
            "say what to purge with exactly one of prefix=..., ids=..., filter=... or everything=True"
            + (f" (got {', '.join(chosen)})" if chosen else "")
        )
    if delete_namespace and not everything:
        raise UsageError("delete_namespace=True deletes whole namespaces: use it with everything=True")
    if namespaces is not None and namespace is not None:
        raise UsageError("pass either namespace=... or namespaces=[...], not both")
    targets = tuple(namespaces) if namespaces is not None else (namespace if namespace is not None else "",)
    if not targets:
        raise UsageError("namespaces=[] names no namespace; pass at least one")
    if len(set(targets)) != len(targets):
        raise UsageError("namespaces=[...] lists a namespace twice")
    if len(targets) > 1 and not (filter is not None or everything):
        raise UsageError("several namespaces are supported for filter=... and everything=True purges")
    for ns in targets:
        if not isinstance(ns, str) or len(ns) > 512 or not ns.isascii() or "\x00" in ns:
            raise UsageError(f"namespace {ns!r} is not valid: ASCII without NUL, at most 512 characters")
    if prefix is not None:
        if prefix == "":
            raise UsageError(
                "prefix='' would target the whole namespace; use everything=True for that (deleteAll)"
            )
        problem = validate_record_id(prefix)
        if problem is not None:
            raise UsageError(f"prefix is not valid: {problem.replace('record ID', 'prefix')}")
        return PurgePlan("list_and_delete", targets, prefix=prefix)
    if has_ids:
        return PurgePlan("delete_ids", targets)
    if filter is not None:
        if not isinstance(filter, Mapping) or not filter:
            raise UsageError('filter must be a non-empty metadata filter, e.g. {"source": {"$eq": "crm"}}')
        return PurgePlan("delete_by_filter", targets, filter=dict(filter))
    return PurgePlan("delete_namespace" if delete_namespace else "delete_all", targets)


def documented_bound(
    plan: PurgePlan, profile: Profile, *, batch_size: int = MAX_IDS_PER_REQUEST
) -> float | None:
    """The highest IDs/s the documented limits allow for this plan (None: no limit known / not per ID).

    list-and-delete: the list budget (requests/s × 100 IDs per page) and the delete limits, whichever is
    lower. delete-by-ID: the delete limits (requests/s × batch size, records/s).
    """
    candidates: list[float] = []
    for scope in ("index", "namespace"):
        requests = profile.rate("delete", scope, "requests")
        if requests is not None:
            candidates.append(requests * batch_size)
        records = profile.rate("delete", scope, "records")
        if records is not None:
            candidates.append(records)
    if plan.kind == "list_and_delete":
        list_rate = profile.rate("list", "index", "requests")
        if list_rate is not None:
            candidates.append(list_rate * LIST_PAGE_IDS)
    elif plan.kind != "delete_ids":
        return None
    return min(candidates) if candidates else None
