"""The export's pen: every namespace's records are written, each namespace's together, whatever order
fetches arrive and the pen is taken in (bulkops.jobs.export.pen)."""

from __future__ import annotations

from bulkops.jobs.export.pen import Output, Pen
from bulkops.models import Record


def _output(namespace: str, count: int, start: int = 0) -> Output:
    records = [Record(f"{namespace}-{i}", (1.0,)) for i in range(start, start + count)]
    return Output(namespace, records, lambda: None)


class _Writer:
    """What ExportRun's writer does with the pen's answers: write outputs in order, note finishes."""

    def __init__(self, pen: Pen) -> None:
        self.pen = pen
        self.written: list[str] = []  # record IDs, in write order
        self.finished: list[str] = []

    def arrived(self, output: Output) -> None:
        for ready in self.pen.arrived(output):
            self.written.extend(r.id for r in ready.records)

    def fetched(self, namespace: str) -> None:
        for step in self.pen.fetched(namespace):
            for output in step.outputs:
                self.written.extend(r.id for r in output.records)
            if step.finished:
                self.finished.append(step.namespace)


def test_a_namespace_whose_records_wait_before_it_takes_the_pen_is_written_whole() -> None:
    # Seen in a three-namespace export: after "b" finished nobody held the pen; records of "" and "t"
    # arrived and waited; a fetch of "" then took the pen through admit(). When "" finished, its early
    # records were handed the pen again as an unfinished namespace, so "" held it for ever and "t"'s
    # 200 records were never written (the export reported t: 0).
    pen = Pen(10_000)
    writer = _Writer(pen)
    assert pen.admit("b", 60) == 0
    writer.arrived(_output("b", 60))
    writer.fetched("b")
    writer.arrived(_output("", 200))
    writer.arrived(_output("t", 100))
    pen.admit("", 50)
    writer.arrived(_output("", 50, start=200))
    writer.fetched("")
    writer.arrived(_output("t", 100, start=100))
    writer.fetched("t")
    expected = [f"b-{i}" for i in range(60)] + [f"-{i}" for i in range(250)] + [f"t-{i}" for i in range(200)]
    assert sorted(writer.written) == sorted(expected)
    assert len(writer.written) == len(set(writer.written))
    assert writer.finished == ["b", "", "t"]
    for namespace in ("b", "", "t"):  # each namespace's records contiguous
        positions = [i for i, record_id in enumerate(writer.written) if record_id.startswith(f"{namespace}-")]
        assert positions == list(range(positions[0], positions[0] + len(positions)))
    assert pen.holder is None
