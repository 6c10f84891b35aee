"""The import's resume point: the first input ordinal not yet finished, and where to re-read from.

Batches finish out of order; only spans finished together with everything before them move the
watermark, so a checkpoint never claims a record that is still in flight.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulkops.jobs.load.report import Rejection
from bulkops.sinks.base import SinkPosition

__all__ = ["FinishedSpan", "OrdinalWatermark"]


@dataclass(slots=True)
class FinishedSpan:
    """The input ordinals ``first..end-1`` are done: upserted, or rejected with a reason."""

    first: int
    end: int  # one past the last ordinal
    upserted: int
    namespace: str
    rejections: list[Rejection]


class OrdinalWatermark:
    """The first ordinal not yet finished, and a reader position at or before it to restart from."""

    def __init__(self, start: int, resume: SinkPosition | None) -> None:
        self.value = start
        self.resume = resume
        self._starts: dict[int, SinkPosition] = {}  # span start ordinal → reader position
        self._done: dict[int, FinishedSpan] = {}

    def started(self, first: int, resume: SinkPosition) -> None:
        self._starts[first] = resume

    def finished(self, done: FinishedSpan) -> list[FinishedSpan]:
        """Record ``done``; return the finished spans the watermark just passed, in order."""
        self._done[done.first] = done
        passed = []
        while self.value in self._done:
            span = self._done.pop(self.value)
            own = self._starts.pop(span.first, None)
            passed.append(span)
            self.value = span.end
            # When no span starts at the new watermark yet, restart at the span just passed:
            # re-reading it is cheap and ordinals below the watermark are skipped on resume.
            self.resume = self._starts.get(self.value, own if own is not None else self.resume)
        return passed
