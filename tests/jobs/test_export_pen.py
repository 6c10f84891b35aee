"""The export's pen: every namespace's records are written, each namespace's together, whatever order
fetches arrive and the pen is taken in (bulkops.jobs.export.pen); and the writer's check under it
(bulkops.jobs.export.run): records lost on the way make the export fail, never finish short."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

import bulkops
from bulkops.clock import FakeClock
from bulkops.errors import BulkopsError
from bulkops.jobs.export.pen import Output, Pen, WriteStep
from bulkops.models import Record
from bulkops.sinks import JsonlReader
from bulkops.testing import FakeDataPlane

_RUN = importlib.import_module("bulkops.jobs.export.run")  # the package's name ``run`` is its job function


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


# -- the writer's safety net under the pen (bulkops.jobs.export.run) -----------------------------------


class _LosingPen(Pen):
    """A pen with a bug: the first records of ``tenant-1`` that reach it are dropped."""

    dropped = False

    def arrived(self, output: Output) -> list[Output]:
        if output.namespace == "tenant-1" and not self.dropped:
            self.dropped = True
            return []
        return super().arrived(output)


class _StuckPen(Pen):
    """A pen with another bug: ``tenant-1`` never hears that all its records arrived."""

    def fetched(self, namespace: str) -> list[WriteStep]:
        return [] if namespace == "tenant-1" else super().fetched(namespace)


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        (_LosingPen, r"namespace 'tenant-1' was about to be marked done with \d+ of its \d+ fetched records"),
        (_StuckPen, r"namespace 'tenant-\d' \(and \d+ more namespaces\) was never completed"),
    ],
)
async def test_an_export_whose_records_go_missing_in_the_writer_fails_and_a_rerun_completes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: type[Pen], error: str
) -> None:
    records = {f"tenant-{n}": [f"doc-{n}-{i:03d}" for i in range(300)] for n in range(3)}
    clock = FakeClock(autojump=True)
    output = tmp_path / "out.jsonl"

    async def export() -> Any:
        dp = FakeDataPlane(records, clock=clock)
        return await bulkops.export(dataplane=dp, all_namespaces=True, output=output, clock=clock)

    monkeypatch.setattr(_RUN, "Pen", broken)
    with pytest.raises(BulkopsError, match=error):
        await export()
    manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
    assert manifest["format"] == "bulkops-export-unfinished/1"  # never reported as a finished export

    monkeypatch.setattr(_RUN, "Pen", Pen)
    report = await export()
    assert dict(report.namespaces) == dict.fromkeys(records, 300)
    written = sorted(item.record.id for item in JsonlReader(report.output) if item.record is not None)
    assert written == sorted(i for ids in records.values() for i in ids)
