"""Smoke runs of the harness at toy size: servers and workers in their own processes, every scenario.

Not speed tests: they assert the structure of what the harness records and that each contender's record
counts are exact (verified on the server or in the output, independently of the contender), and that a
run which moves the wrong records fails.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks.harness import cli, report, seeding, suite
from benchmarks.harness.one_run import one_run
from benchmarks.harness.spec import Dataset, Point
from benchmarks.harness.summary import summarize

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TINY = Dataset(records=660, target=600, dimension=768, metadata_bytes=1000, metadata="realistic")
MANY = Dataset(records=60, target=60, dimension=768, metadata_bytes=1000, metadata="realistic", namespaces=12)
SDK = ("sdk-sync", "sdk-async")


def _run(tmp_path: Path, points: list[Point]) -> list[dict[str, Any]]:
    return suite.run_points(points, reps=1, work_dir=tmp_path / "work", log=lambda _: None)


def _point(scenario: str, dataset: Dataset, contenders: tuple[str, ...], **knobs: Any) -> Point:
    settings: dict[str, Any] = {"latency_ms": 0.0, "budget_s": 60.0, "baseline_budget_s": 60.0, **knobs}
    return Point(
        scenario,  # type: ignore[arg-type]
        dataset,
        contenders=contenders,  # type: ignore[arg-type]
        groups=("dimension",),
        **settings,
    )


def _assert_exact(rows: list[dict[str, Any]]) -> None:
    """Every run that could run finished with exactly the target records, verified, with its figures."""
    for row in rows:
        if row["unavailable"]:
            continue
        where = f"{row['scenario']}/{row['contender']}"
        assert row["error"] is None, (where, row["error"], row.get("log_tail"))
        assert row["processed"] == row["target"], where
        figures = ("rate", "wall_s", "cpu_ms_per_1k", "bound", "ratio_to_bound")
        assert all(row[name] > 0 for name in figures), (where, {name: row[name] for name in figures})
        assert row["peak_rss_mb"] > 10, where
        assert row["server_cpu_s"] >= 0, where


def test_purge_by_prefix_counts_on_the_server(tmp_path: Path) -> None:
    dataset = Dataset(records=1_500, target=700, dimension=4, metadata_bytes=8)
    groups = ("latency", "table")
    point = Point(
        "purge-prefix", dataset, latency_ms=0.0, budget_s=20.0, contenders=("sdk-sync",), groups=groups
    )
    (row,) = _run(tmp_path, [point])
    assert row["error"] is None
    assert (row["processed"], row["claimed"], row["bound"]) == (700, 700, 20_000)  # exactly the prefix
    assert row["requests"] >= 14  # 7 list pages + 7 deletes at 100 IDs per page
    summary = summarize([row])
    written = report.write_all(
        tmp_path / "out", rows=[row], summary=summary, meta={"command": "t", "reps": 1}
    )
    assert {p.name for p in written} == {"results.json", "results.md", "latency.png", "scenarios.png"}
    assert "| purge-prefix |" in (tmp_path / "out" / "results.md").read_text()


def test_exports_at_real_dimension_are_exact_for_every_contender(tmp_path: Path) -> None:
    contenders = ("bulkops-grpc", "bulkops-rest", "bulkops-cli", *SDK, "sdk-grpc")
    rows = _run(
        tmp_path,
        [
            _point("export-prefix", TINY, contenders, format="parquet"),
            _point("export-ids", TINY, ("bulkops-cli", "sdk-sync"), format="jsonl"),
        ],
    )
    _assert_exact([r for r in rows if r["contender"] != "sdk-grpc"])
    by = {(r["scenario"], r["contender"]): r for r in rows}
    cli_row = by[("export-prefix", "bulkops-cli")]
    assert cli_row["claimed"] == 600
    assert cli_row["requests"] > 0
    assert cli_row["export_lines"] == 600
    assert cli_row["sampled"] >= 5
    assert cli_row["peak_rss_mb"] > 20  # sampled beside the wait for the process
    grpc = by[("export-prefix", "sdk-grpc")]  # fails until the server speaks gRPC: a recorded result
    assert grpc["error"] is not None or grpc["processed"] == 600
    for name in ("bulkops-grpc", "bulkops-rest"):  # a row either way: unavailable, or exact
        row = by[("export-prefix", name)]
        assert row["unavailable"] == "transport option not available" or row["processed"] == 600
    assert not any(cli._broken(r) for r in rows if r["contender"] != "bulkops-grpc")


def test_import_and_copy_are_exact(tmp_path: Path) -> None:
    small = Dataset(records=400, target=400, dimension=768, metadata_bytes=1000, metadata="realistic")
    rows = _run(
        tmp_path,
        [
            _point("import", small, ("bulkops-cli", *SDK), format="parquet"),
            _point("import", small, ("sdk-sync",), format="jsonl"),
            _point("copy", TINY, ("bulkops", "bulkops-grpc", "bulkops-rest", "bulkops-cli", *SDK)),
        ],
    )
    _assert_exact(rows)
    copies = [r for r in rows if r["scenario"] == "copy"]
    assert all(r["unavailable"] or r["target_server_cpu_s"] > 0 for r in copies)
    assert {r["contender"] for r in copies if not r["unavailable"]} >= {
        *SDK,
        "bulkops",
        "bulkops-grpc",
        "bulkops-rest",
        "bulkops-cli",
    }


def test_many_namespaces_and_server_ceilings(tmp_path: Path) -> None:
    rows = _run(
        tmp_path,
        [
            _point("export-namespaces", MANY, ("bulkops-cli", *SDK), format="parquet"),
            _point("copy-namespaces", MANY, ("bulkops-grpc", "bulkops-cli", *SDK)),
            _point("server-fetch", TINY, ("raw-rest",), limits="none", budget_s=1.0),
            _point("server-list", TINY, ("raw-rest",), limits="none", budget_s=1.0),
        ],
    )
    _assert_exact([r for r in rows if not r["scenario"].startswith("server")])
    assert [r["bound"] for r in rows if r["scenario"] == "export-namespaces"] == [500.0] * 3  # 5 per request
    for row in (r for r in rows if r["scenario"].startswith("server")):
        assert row["error"] is None
        assert row["processed"] > 0
        assert row["requests"] > 0
        assert row["server_cpu_ms_per_request"] > 0
    table = report.markdown_table(summarize(rows), {"reps": 1})
    assert "| server-fetch | 768 | raw-rest |" in table


def test_a_run_that_moves_the_wrong_records_fails(tmp_path: Path) -> None:
    """The server holds one data set, the harness expects another (same shape, other seed)."""
    served = Point("export-prefix", TINY, latency_ms=0.0, budget_s=30.0, contenders=("sdk-sync",))
    template = seeding.ensure_template(served, tmp_path / "templates", log=lambda _: None)
    expected = replace(served, dataset=replace(TINY, seed=8))
    row = one_run(0, expected, "sdk-sync", 0, template, tmp_path / "runs" / "r")
    assert str(row["error"]).startswith("verification:"), row
    assert "not targets" in row["error"]
    assert cli._broken(row)
    doc = orjson.loads(orjson.dumps(row))  # a failed row is still a complete, JSON-able result
    assert doc["processed"] == 0


def test_copy_via_storage_is_exact_and_measured_beside_copy(tmp_path: Path) -> None:
    """Export for bulk import to ``file://`` in the run directory, then the second server's bulk import."""
    rows = _run(
        tmp_path,
        [
            _point("copy-via-storage", TINY, ("bulkops-grpc", "bulkops-cli"), format="parquet"),
            _point("copy", TINY, ("bulkops-grpc",)),
        ],
    )
    _assert_exact(rows)
    by = {(r["scenario"], r["contender"]): r for r in rows}
    via = by[("copy-via-storage", "bulkops-grpc")]
    assert via["target_server_cpu_s"] > 0  # the second server did the import
    assert via["bound"] == by[("copy", "bulkops-grpc")]["bound"] or via["bound"] >= 20_000  # export's
    assert "two commands" in by[("copy-via-storage", "bulkops-cli")]["unavailable"]
