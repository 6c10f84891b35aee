"""Delegation: fan-out for jobs that delete what they list (purge), at a fraction of carving's probes.

Carving (:mod:`bulkops.engine.fanout`) must hand out *every* sibling above the last ID, level after
level, because a chain can only move forward: one list request per sibling, most of them empty (for
``tenant-007#doc-000123#chunk-04`` under ``tenant-007#``, about 700 requests before enough chains run).

A purge deletes what it lists, and a list token is a keyset position, so a chain can *wait and walk
over* a range once it has been deleted: the walk skips it for the price of at most one page. So a
chain that listed up to ``L`` may hand out just the siblings that probably hold IDs: ``L[:k] + c``
for the characters ``c > L[k]`` of the *alphabet* the IDs are seen to use (the characters that vary
within listed pages: ``0-9a-f`` for hex counters, ``0-9`` for decimal ones), at the shallowest level
``k`` that has any. Each child's range ``[L[:k]+c, L[:k]+chr(c+1))`` is recorded in the chain's
``skips`` (adjacent ranges merged) and its ``bound`` becomes the lowest child. On reaching the bound
the chain waits until every descendant is done (all its IDs acknowledged, i.e. deleted), then lists
on from the same position to the end of its prefix, dropping IDs inside ``skips`` (still visible
within the consistency lag). So every ID under the prefix is listed by exactly one chain, whatever the
IDs look like: the siblings no one was handed (characters outside the alphabet, gaps between
children, shallower levels) are walked by the parent after the wait. The alphabet only decides which
siblings get their own chain, never what is covered.

From 735be5c until this alphabet rule, the siblings were those of ``L[k]``'s character class (digits first):
with hex IDs the ``a-f`` part of every range (3/8 of the IDs) waited for all the digit descendants
and was then walked by a few chains, so a purge ran at the bound until ~62% of the IDs were gone and
then at a sixth of it.

Without deletes (export), a waiting chain would walk the whole handed-out range again: export keeps
carving.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bulkops.engine.fanout import Chain

__all__ = ["Delegation", "delegate", "in_skips", "page_alphabet"]

# Characters a child prefix may end with: printable ASCII without the space (Pinecone's API reference
# refuses prefixes with spaces; control characters are never guessed as part of an alphabet).
_ALPHABET_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))


@dataclass(frozen=True, slots=True)
class Delegation:
    children: tuple[str, ...]
    skips: tuple[tuple[str, str], ...]  # the children's ranges, adjacent ones merged
    bound: str
    level: int


def in_skips(record_id: str, skips: tuple[tuple[str, str], ...]) -> bool:
    """Whether ``record_id`` lies in one of the (sorted, disjoint) ranges ``[lo, hi)``."""
    if not skips:
        return False
    index = bisect.bisect_right(skips, (record_id, chr(0x10FFFF))) - 1
    return index >= 0 and skips[index][0] <= record_id < skips[index][1]


def page_alphabet(ids: Sequence[str]) -> set[str]:
    """The characters that vary within a sorted page: those of its columns holding more than one.

    Constant parts (``tenant-007#doc-`` before the counter, ``#chunk-`` after it) are left out, so
    their letters are not guessed as siblings (each guess is a list request, likely empty).
    """
    if len(ids) < 2:
        return set()
    first, last = ids[0], ids[-1]
    common = 0
    limit = min(len(first), len(last))
    while common < limit and first[common] == last[common]:
        common += 1
    seen: set[str] = set()
    for column in itertools.zip_longest(*(record_id[common:] for record_id in ids), fillvalue=""):
        chars = set(column)
        chars.discard("")
        if len(chars) > 1:
            seen |= chars
    return seen & _ALPHABET_CHARS


def _merged(ranges: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for lo, hi in ranges:
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def delegate(chain: Chain, last_id: str, alphabet: Iterable[str]) -> Delegation | None:
    """The siblings of ``last_id`` in ``alphabet`` to hand out next (shallowest level first), or None.

    Levels are tried from ``chain.level`` (one past the last delegation) down the ID, never past a
    space after the chain's prefix (the child prefix would contain it). A child's range must end at
    or before the chain's bound and overlap no earlier delegation.
    """
    if not last_id.startswith(chain.prefix) or not last_id.isascii():
        return None
    chars = sorted(set(alphabet) & _ALPHABET_CHARS)
    if not chars:
        return None
    start = max(chain.level, len(chain.prefix))
    for level in range(start, len(last_id)):
        if " " in last_id[len(chain.prefix) : level]:
            return None  # this and every deeper stem contain a space the caller's prefix does not
        stem = last_id[:level]
        ranges: list[tuple[str, str]] = []
        for char in chars[bisect.bisect_right(chars, last_id[level]) :]:
            lo, hi = stem + char, stem + chr(ord(char) + 1)
            if chain.bound is not None and hi > chain.bound:
                break
            if any(a < hi and lo < b for a, b in chain.skips):
                continue
            ranges.append((lo, hi))
        if ranges:
            children = tuple(lo for lo, _ in ranges)
            return Delegation(children, _merged(ranges), ranges[0][0], level + 1)
    return None
