"""Smoke test of the benchmark harness at toy size: the pieces fit, the numbers it records are right.

Not a speed test: it asserts counts (what was deleted, what was written), never rates.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from benchmarks.harness import datagen, report, suite
from benchmarks.harness.bounds import bound_for
from benchmarks.harness.spec import Dataset, Point


def test_bounds_follow_the_profiles() -> None:
    assert bound_for("purge-prefix", "default").rate == 200 * 100
    assert bound_for("export-prefix", "default").rate == 200 * 100
    assert bound_for("export-ids", "default").rate == 100 * 1000
    assert bound_for("purge-ids", "strict").rate == 5000  # the per-namespace deleted-records row
    assert bound_for("import", "default", bytes_per_record=500).rate == 50_000_000 / 500
    assert bound_for("purge-prefix", "none").rate is None


def test_data_is_deterministic_and_targets_the_prefix() -> None:
    dataset = Dataset(records=300, target=120, dimension=4, metadata_bytes=8, seed=3)
    first = [doc for batch in datagen.iter_batches(dataset) for doc in batch]
    again = [doc for batch in datagen.iter_batches(dataset) for doc in batch]
    assert first == again
    assert len({doc["id"] for doc in first}) == 300
    targets = datagen.target_ids(dataset)
    assert len(targets) == 120
    assert all(t.startswith("acme#") for t in targets)
    assert sum(doc["id"].startswith("acme#") for doc in first) == 120
    other = Dataset(records=300, target=120, dimension=4, metadata_bytes=8, seed=4)
    assert datagen.target_ids(other) != targets


@pytest.mark.timeout(120)
@pytest.mark.integration  # the harness starts bulkops serve and workers as processes
def test_end_to_end_run_counts_on_the_server(tmp_path: Path) -> None:
    dataset = Dataset(records=1_500, target=700, dimension=4, metadata_bytes=8)
    point = Point(
        "purge-prefix",
        dataset,
        latency_ms=0.0,
        budget_s=20.0,
        contenders=("sdk-sync",),
        groups=("latency", "table"),
    )
    rows = suite.run_points([point], reps=1, work_dir=tmp_path / "work", log=lambda _: None)
    assert [row["error"] for row in rows] == [None]
    (row,) = rows
    assert row["processed"] == 700  # verified on the server: exactly the prefix is gone
    assert row["claimed"] == 700
    assert row["requests"] >= 14  # 7 list pages + 7 deletes at 100 IDs per page
    assert row["peak_rss_mb"] > 10
    assert row["bound"] == 20_000

    summary = suite.summarize(rows)
    out = tmp_path / "results"
    written = report.write_all(out, rows=rows, summary=summary, meta={"command": "test", "reps": 1})
    names = {path.name for path in written}
    assert names == {"results.json", "results.md", "latency.png", "scenarios.png"}
    assert (out / "latency.png").read_bytes().startswith(b"\x89PNG")
    doc = orjson.loads((out / "results.json").read_bytes())
    assert doc["summary"][0]["processed"] == 700
    assert "| purge-prefix |" in (out / "results.md").read_text()
