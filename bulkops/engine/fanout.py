"""Prefix fan-out: cut the rest of a list chain into child prefixes that other chains can walk.

One list chain is latency-bound (one page per round trip). To use the whole list budget, the ID space
under a prefix is split so several chains walk it at once (docs/decisions/0003). Record IDs are ASCII
without NUL (characters 1..127) and listed in bitwise order, so the IDs under ``P`` are ``P`` itself (if
it exists) followed by the IDs under ``P+chr(1)``, ``P+chr(2)``, ... ``P+chr(127)``, in that order.

A chain walks ``prefix`` and keeps only IDs below its exclusive ``bound``. After a page whose last ID is
``L`` the unseen rest of the chain is ``(L, bound)``. Carving at level ``k`` (``k`` = the chain's
``level``) hands every child ``L[:k] + c`` with ``c > L[k]`` to new chains; they are all above ``L``, so
nothing the parent already listed is listed twice. The parent keeps ``(L, L[:k] + chr(L[k] + 1))``,
i.e. the rest of ``L[:k+1]``. Levels are carved one after the other (``level`` only grows): carving a
deeper level first would strand the IDs between the end of ``L[:k+1]`` and the parent's old bound.
At ``k == len(L)`` every child ``L + c`` is handed out and the parent is finished.

A chain that resumes from a checkpoint may re-list IDs below the point where it was carved; it carves
again only once ``bound`` is the end of ``L[:level]`` (otherwise IDs up to the bound would be lost).

Children below ``L[k]`` need no chain: they sort before ``L`` and the parent has listed them already.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_CHAR", "MIN_CHAR", "Carve", "Chain", "carve", "in_bound"]

MIN_CHAR = 1  # NUL is not allowed in record IDs
MAX_CHAR = 127  # IDs are ASCII


@dataclass(slots=True)
class Chain:
    """One list walk: IDs under ``prefix`` that sort below ``bound`` (None: no bound).

    ``position`` is the list token to resume from (None: from the start), ``level`` the next level of
    :func:`carve`, ``done`` whether every page of it has been handled. ``skips`` and ``parent`` are
    used by delegation (:mod:`bulkops.engine.delegation`): ID ranges ``[lo, hi)`` handed to descendant
    chains, and the chain that handed this one out.
    """

    id: int
    prefix: str
    bound: str | None = None
    level: int = -1
    position: str | None = None
    done: bool = False
    skips: tuple[tuple[str, str], ...] = ()
    parent: int | None = None

    def __post_init__(self) -> None:
        if self.level < 0:
            self.level = len(self.prefix)


@dataclass(frozen=True, slots=True)
class Carve:
    """The result of carving one level: the child prefixes, the parent's new bound and level."""

    children: tuple[str, ...]
    bound: str | None
    level: int
    finished: bool  # the parent has nothing left to list


def in_bound(record_id: str, bound: str | None) -> bool:
    """Whether ``record_id`` belongs to a chain with this exclusive upper ``bound``.

    Python compares ``str`` by code point, which for ASCII is the bitwise order the API lists in.
    """
    return bound is None or record_id < bound


def _end(stem: str, prefix: str) -> str | None:
    """The smallest string above every ID under ``stem`` (None: the end of the chain's prefix)."""
    stripped = stem.rstrip(chr(MAX_CHAR))
    if len(stripped) <= len(prefix):
        return None
    return stripped[:-1] + chr(ord(stripped[-1]) + 1)


def carve(chain: Chain, last_id: str) -> Carve | None:
    """Carve the next level of ``chain`` after it listed ``last_id``; None if that is not possible.

    Not possible: ``last_id`` is not under the chain's prefix at that level, or the character at the
    level is not ASCII (then the chain simply walks on by itself, which is always correct).
    """
    level = chain.level
    if level < len(chain.prefix) or level > len(last_id) or not last_id.startswith(chain.prefix):
        return None
    if _end(last_id[:level], chain.prefix) != chain.bound:
        # The rest of the chain is not just the rest of last_id[:level]: a resumed chain re-listing
        # below the point where it was carved. Walk on; carving is possible again once past it.
        return None
    if level == len(last_id):
        children = tuple(last_id + chr(c) for c in range(MIN_CHAR, MAX_CHAR + 1))
        return Carve(children, last_id + chr(MIN_CHAR), level + 1, finished=True)
    code = ord(last_id[level])
    if code > MAX_CHAR or not last_id[:level].isascii():
        return None
    stem = last_id[:level]
    children = tuple(stem + chr(c) for c in range(code + 1, MAX_CHAR + 1))
    bound = stem + chr(code + 1) if code < MAX_CHAR else chain.bound
    return Carve(children, bound, level + 1, finished=False)
