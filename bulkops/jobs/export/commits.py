"""The export's commit bookkeeping: per chain, which pages are written, its watermark and beyond-set.

Fetches finish out of order, so a chain's *watermark* (the resume position a checkpoint may record)
only moves over pages that are written together with every earlier page; pages written past it are
*beyond* it, and their IDs go into the checkpoint so a resume does not write them twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bulkops.engine.fanout import Chain
from bulkops.engine.sources import Page

__all__ = ["ChainMark", "CommitTracker", "PageSlice"]


@dataclass(slots=True)
class ChainMark:
    """One chain's pages in this run: how many were handed out, how many are written in order."""

    start: str | None  # resume position before any page of this run
    done_before: bool
    next_seq: int = 0  # pages of this chain handed out so far
    written_upto: int = 0  # pages 0..written_upto-1 are all written
    watermark: str | None = None
    done: bool = False
    beyond: dict[int, tuple[Page, tuple[str, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.watermark = self.start
        self.done = self.done_before


@dataclass(frozen=True, slots=True)
class PageSlice:
    """One page inside a fetch batch: the IDs to fetch (already-written ones dropped)."""

    page: Page
    seq: int
    ids: tuple[str, ...]


class CommitTracker:
    """Which pages of which chain are written; the watermark and beyond-set of the commit protocol."""

    def __init__(self, chains: Iterable[Chain], skip: Iterable[str]) -> None:
        self.marks: dict[int, ChainMark] = {}
        for chain in chains:
            self.marks[chain.id] = ChainMark(chain.position, chain.done)
        self.skip = set(skip)  # IDs written beyond a watermark by an earlier run

    def assign(self, page: Page) -> PageSlice:
        mark = self.marks.get(page.chain)
        if mark is None:  # a chain carved in this run
            mark = self.marks[page.chain] = ChainMark(None, False)
        seq = mark.next_seq
        mark.next_seq += 1
        ids = tuple(i for i in page.ids if i not in self.skip) if self.skip else page.ids
        return PageSlice(page, seq, ids)

    def written(self, piece: PageSlice) -> None:
        mark = self.marks[piece.page.chain]
        mark.beyond[piece.seq] = (piece.page, piece.ids)
        while mark.written_upto in mark.beyond:
            page, _ = mark.beyond.pop(mark.written_upto)
            mark.written_upto += 1
            mark.watermark = page.position
            if page.last:
                mark.done = True

    def snapshot(self, chains: Iterable[Chain]) -> list[Chain]:
        out = []
        for chain in chains:
            mark = self.marks.get(chain.id)
            if mark is None:
                out.append(replace(chain, position=None, done=False))
            else:
                out.append(replace(chain, position=mark.watermark, done=mark.done))
        return out

    def beyond_ids(self) -> list[str]:
        ids = set(self.skip)
        for mark in self.marks.values():
            for _, written in mark.beyond.values():
                ids.update(written)
        return sorted(ids)
