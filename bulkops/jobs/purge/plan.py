"""The purge's plans: the cheapest way the API allows to delete what the caller asked, and its bound.

=====================  ==========================================================================
asked for              plan
=====================  ==========================================================================
``everything=True``    ``delete_all`` per namespace (one request), or ``delete_namespace`` when asked
``filter={...}``       ``delete_by_filter``: one delete-by-metadata request per namespace, several
                       namespaces at once (5 req/s per namespace, 500 per index: the client paces)
``prefix="..."``       ``list_and_delete``: fanned-out list chains (one root per prefix) feeding
                       delete-by-ID batches, one namespace after another
``ids=...``            ``delete_ids``: batches of ≤ 1000 IDs straight from the file or iterable
=====================  ==========================================================================

Pure: nothing here sends anything.
"""

from __future__ import annotations

import math
from typing import Literal

from bulkops.limits.profiles import Profile
from bulkops.models import LIST_PAGE_IDS, MAX_IDS_PER_REQUEST

__all__ = ["PlanKind", "documented_bound"]

PlanKind = Literal["delete_all", "delete_namespace", "delete_by_filter", "list_and_delete", "delete_ids"]


def documented_bound(
    plan: PlanKind,
    profile: Profile,
    *,
    batch_size: int = MAX_IDS_PER_REQUEST,
    per_namespace: float = math.inf,
) -> float | None:
    """The highest IDs/s the documented limits allow for this plan (None: no limit known / not per ID).

    list-and-delete: the list budget (requests/s × 100 IDs per page) and the delete limits, whichever is
    lower. delete-by-ID: the delete limits (requests/s × batch size, records/s). A request carries one
    namespace's IDs, so with ``per_namespace`` targeted IDs in each namespace (2,000 namespaces of 5:
    5) a page or a batch holds at most that many.
    """
    batch_size = int(min(batch_size, per_namespace))
    candidates: list[float] = []
    for scope in ("index", "namespace"):
        requests = profile.rate("delete", scope, "requests")
        if requests is not None:
            candidates.append(requests * batch_size)
        records = profile.rate("delete", scope, "records")
        if records is not None:
            candidates.append(records)
    if plan == "list_and_delete":
        list_rate = profile.rate("list", "index", "requests")
        if list_rate is not None:
            candidates.append(list_rate * min(LIST_PAGE_IDS, per_namespace))
    elif plan != "delete_ids":
        return None
    return min(candidates) if candidates else None
