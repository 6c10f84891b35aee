"""The crash tools' end-state check finds what a broken resume would leave (fast, no processes)."""

from __future__ import annotations

import numpy as np

from benchmarks.chaos import export
from benchmarks.harness import datagen
from benchmarks.harness.spec import Dataset
from bulkops.models import Record

DATA = Dataset(records=50, target=50, dimension=8, metadata_bytes=200, metadata="realistic")


def _seeded() -> dict[str, Record]:
    return {
        record_id: Record(record_id, row, metadata=meta)
        for chunk in datagen.iter_chunks(DATA)
        for record_id, row, meta in zip(chunk.ids, chunk.values, chunk.metadata, strict=True)
    }


def test_identical_records_have_no_difference() -> None:
    assert export._differences(DATA, _seeded()) == []


def test_lost_extra_and_changed_records_are_differences() -> None:
    records = _seeded()
    first, second = sorted(records)[:2]
    del records[first]
    records["acme#ffffffffffff"] = records[second]
    changed = records[second]
    records[second] = Record(
        second, np.asarray(changed.values, dtype=np.float32) * 2, metadata=changed.metadata
    )
    problems = export._differences(DATA, records)
    assert problems[0] == "1 missing, 1 unexpected"
    assert f"{second}: values differ" in problems
