"""Which namespace writes to the export now: one at a time, so each namespace's records stay together.

Many namespaces are exported at once (their listing and fetches overlap, under the index's shared
budgets), but a JSONL export keeps each namespace's lines contiguous (the manifest gives each namespace
one line range, and an import reads namespaces from it) and a Parquet export closes a part file whenever
the namespace changes. So one namespace *holds the pen*: its records go to the sink as they arrive; the
records of the others wait in memory until the pen passes to them. The wait is bounded: a fetch for a
namespace without the pen is admitted only while the records waiting (and being fetched) for such
namespaces stay under ``capacity``; the pen holder's fetches always pass, so the pen always moves on.

When the pen holder has all its records written, the pen passes: first to namespaces whose records
have all arrived (written at once, one after the other), then to the one with the most records waiting,
which writes them and holds the pen from then on. A namespace that wrote nothing needs no pen. At any
commit, only the pen holder can be partly written: the checkpoint records it (``pen``), and a resumed
export gives it the pen first, so its records stay contiguous across runs too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import anyio

from bulkops.models import Record

__all__ = ["Output", "Pen", "WriteStep"]


@dataclass(slots=True)
class Output:
    """Records fetched for one namespace, and what writing them means for its resume position.

    ``written`` marks the pages they came from written (the commit tracker), or moves a filter export's
    position; ``reserved``: the buffer room their fetch took (0 when fetched for the pen holder);
    ``missing``: listed IDs the fetch did not return.
    """

    namespace: str
    records: Sequence[Record]
    written: Callable[[], None]
    reserved: int = 0
    missing: int = 0


@dataclass(slots=True)
class WriteStep:
    """What the writer does next: write ``outputs`` of ``namespace`` in order; then, if ``finished``,
    the namespace is complete (done at the next commit)."""

    namespace: str
    outputs: list[Output]
    finished: bool


@dataclass(slots=True)
class _Waiting:
    outputs: list[Output] = field(default_factory=list)
    records: int = 0
    complete: bool = False


class Pen:
    """The pen and the records waiting for it (see the module docstring)."""

    def __init__(self, capacity: int, *, holder: str | None = None) -> None:
        self.capacity = capacity
        self.holder = holder
        self.held = 0  # IDs fetched (or being fetched) for namespaces without the pen, not yet written
        self._waiting: dict[str, _Waiting] = {}
        self._changed = anyio.Event()

    def holds(self, namespace: str) -> bool:
        return self.holder == namespace

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def changed(self) -> None:
        await self._changed.wait()

    def admit(self, namespace: str, ids: int) -> int | None:
        """May ``ids`` IDs of ``namespace`` be fetched now? The room they take (0 for the pen holder,
        which takes the pen when nobody holds it), or None: not until records are written."""
        if self.holder is None:
            self.holder = namespace
            self._notify()
        if self.holder == namespace:
            return 0
        if self.held and self.held + ids > self.capacity:
            return None
        self.held += ids
        return ids

    async def wait_admit(self, namespace: str, ids: int) -> int:
        """:meth:`admit`, waiting for room."""
        while True:
            reserved = self.admit(namespace, ids)
            if reserved is not None:
                return reserved
            await self.changed()

    def written(self, output: Output) -> None:
        """``output`` is in the sink: its room is free again."""
        if output.reserved:
            self.held -= output.reserved
            self._notify()

    def arrived(self, output: Output) -> list[Output]:
        """What to write now: the pen holder's records at once; anybody else's wait.

        Nobody holding the pen, the namespace takes it, as :meth:`admit` does: so while nobody holds
        it nothing waits. (Records left waiting then were stranded: their namespace could take the pen
        through ``admit`` and finish, and its early records came back as an unfinished namespace that
        held the pen for ever, and nobody else's were written.)"""
        if self.holder is None:
            self.holder = output.namespace
            self._notify()
        if output.namespace == self.holder:
            return [output]
        waiting = self._waiting.setdefault(output.namespace, _Waiting())
        waiting.outputs.append(output)
        waiting.records += len(output.records)
        return []

    def fetched(self, namespace: str) -> list[WriteStep]:
        """Every record of ``namespace`` has arrived: what to write and finish now, in order."""
        steps: list[WriteStep] = []
        if namespace == self.holder:
            steps.append(WriteStep(namespace, [], True))
            self.holder = None
        else:
            waiting = self._waiting.get(namespace)
            if waiting is None or not waiting.records:
                self._waiting.pop(namespace, None)
                outputs = waiting.outputs if waiting is not None else []
                return [WriteStep(namespace, outputs, True)]  # it writes nothing: no pen needed
            waiting.complete = True
        while self.holder is None and self._waiting:
            name = next((n for n, w in self._waiting.items() if w.complete), None)
            if name is None:
                name = max(self._waiting, key=lambda n: self._waiting[n].records)
            waiting = self._waiting.pop(name)
            if not waiting.complete:
                self.holder = name
            steps.append(WriteStep(name, waiting.outputs, waiting.complete))
        self._notify()
        return steps
