"""Delegation: fan-out for jobs that delete what they list (purge), at a fraction of carving's probes.

Carving (:mod:`bulkops.engine.fanout`) must hand out *every* sibling above the last ID, level after
level, because a chain can only move forward: one list request per sibling, most of them empty (for
``tenant-007#doc-000123#chunk-04`` under ``tenant-007#``, about 700 requests before enough chains run).

A purge deletes what it lists, and a list token is a keyset position, so a chain can *wait and walk
over* a range once it has been deleted: the walk skips it for the price of at most one page. So a
chain that listed up to ``L`` may hand out just the siblings that probably hold IDs: ``L[:k] + c`` for
``c`` from ``L[k] + 1`` to the top of ``L[k]``'s character class (``9``, ``z`` or ``Z``), at any level
``k`` (digits first: counters live there). The handed-out range ``[lo, hi)`` is recorded in the
chain's ``skips`` and its ``bound`` becomes ``lo``. On reaching the bound the chain waits until every
descendant is done (all its IDs acknowledged, i.e. deleted), then lists on from the same position to
the end of its prefix, dropping IDs inside ``skips`` (still visible within the consistency lag). So
every ID under the prefix is listed by exactly one chain, whatever the IDs look like: the siblings no
one was handed (other classes, shallower levels) are walked by the parent after the wait.

Without deletes (export), a waiting chain would walk the whole handed-out range again: export keeps
carving.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from bulkops.engine.fanout import Chain

__all__ = ["Delegation", "delegate", "in_skips"]

_CLASSES = (("0", "9"), ("a", "z"), ("A", "Z"))


@dataclass(frozen=True, slots=True)
class Delegation:
    children: tuple[str, ...]
    skip: tuple[str, str]
    bound: str
    level: int


def in_skips(record_id: str, skips: tuple[tuple[str, str], ...]) -> bool:
    """Whether ``record_id`` lies in one of the (sorted, disjoint) ranges ``[lo, hi)``."""
    if not skips:
        return False
    index = bisect.bisect_right(skips, (record_id, chr(0x10FFFF))) - 1
    return index >= 0 and skips[index][0] <= record_id < skips[index][1]


def delegate(chain: Chain, last_id: str) -> Delegation | None:
    """The siblings of ``last_id`` to hand out next (digit levels first), or None.

    Levels are tried from ``chain.level`` (one past the last delegation) down the ID. The range must
    end at or before the chain's bound and overlap no earlier delegation.
    """
    if not last_id.startswith(chain.prefix) or not last_id.isascii():
        return None
    start = max(chain.level, len(chain.prefix))
    for classes in (_CLASSES[:1], _CLASSES[1:]):
        for level in range(start, len(last_id)):
            char = last_id[level]
            top = next((hi for lo, hi in classes if lo <= char < hi), None)
            if top is None:
                continue
            stem = last_id[:level]
            lo, hi = stem + chr(ord(char) + 1), stem + chr(ord(top) + 1)
            if chain.bound is not None and hi > chain.bound:
                continue
            if any(a < hi and lo < b for a, b in chain.skips):
                continue
            children = tuple(stem + chr(c) for c in range(ord(char) + 1, ord(top) + 1))
            return Delegation(children, (lo, hi), lo, level + 1)
    return None
