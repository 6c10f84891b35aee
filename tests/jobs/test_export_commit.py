"""The export commit protocol's bookkeeping: watermarks and the beyond-watermark set."""

from __future__ import annotations

from bulkops.engine.fanout import Chain
from bulkops.engine.sources import Page
from bulkops.jobs.export.commits import CommitTracker


def test_watermark_waits_for_earlier_pages_and_beyond_set_holds_the_rest() -> None:
    tracker = CommitTracker([Chain(0, "p")], skip=[])
    pages = [Page(0, (f"p{i}a", f"p{i}b"), f"tok{i}", i == 3) for i in range(4)]
    slices = [tracker.assign(p) for p in pages]
    tracker.written(slices[2])
    tracker.written(slices[1])
    (chain,) = tracker.snapshot([Chain(0, "p")])
    assert chain.position is None  # page 0 not written yet: resume from the start
    assert not chain.done
    assert tracker.beyond_ids() == ["p1a", "p1b", "p2a", "p2b"]

    tracker.written(slices[0])
    (chain,) = tracker.snapshot([Chain(0, "p")])
    assert chain.position == "tok2"
    assert tracker.beyond_ids() == []
    tracker.written(slices[3])
    (chain,) = tracker.snapshot([Chain(0, "p")])
    assert chain.done


def test_resume_drops_ids_already_written_beyond_the_watermark() -> None:
    tracker = CommitTracker([Chain(0, "p", position="tok0")], skip=["p1b", "p2a"])
    piece = tracker.assign(Page(0, ("p1a", "p1b", "p2a", "p2b"), "tok2", False))
    assert piece.ids == ("p1a", "p2b")
    assert tracker.beyond_ids() == ["p1b", "p2a"]  # kept until the namespace is done


def test_chains_carved_in_this_run_are_saved_from_their_start() -> None:
    tracker = CommitTracker([Chain(0, "p")], skip=[])
    child = Chain(5, "px")
    piece = tracker.assign(Page(5, ("px1",), "t", False))
    assert tracker.snapshot([child])[0].position is None
    tracker.written(piece)
    assert tracker.snapshot([child])[0].position == "t"
