"""The harness's pure pieces, in process and fast: bounds, data, verification, summary, report, suites, CLI.

No speed is asserted anywhere; what is asserted is what the harness would report (a bound, a count, a
verdict on wrong records), each of which a bug would change.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from benchmarks.harness import cli, datagen, report, verify
from benchmarks.harness.bounds import bound_for, bound_of_point
from benchmarks.harness.contenders import bulkops_api
from benchmarks.harness.contenders.outcome import Unavailable
from benchmarks.harness.parquet_out import ParquetOut
from benchmarks.harness.spec import Dataset, Point
from benchmarks.harness.suites import build_suite
from benchmarks.harness.summary import summarize

REAL = Dataset(records=330, target=300, dimension=1536, metadata_bytes=1000, metadata="realistic")


def test_bounds_follow_the_profiles() -> None:
    assert bound_for("purge-prefix", "default").rate == 200 * 100
    assert bound_for("export-prefix", "default").rate == 200 * 100
    assert bound_for("export-ids", "default").rate == 100 * 1000
    assert bound_for("purge-ids", "strict").rate == 5000  # the per-namespace deleted-records row
    assert bound_for("import", "default", bytes_per_record=500).rate == 50_000_000 / 500
    assert bound_for("purge-prefix", "none").rate is None


def test_copy_is_bound_by_the_upsert_bytes_of_its_wire() -> None:
    point = Point("copy", REAL)
    rest, grpc = bound_of_point(point, wire="rest"), bound_of_point(point, wire="grpc")
    assert rest.rate == pytest.approx(50_000_000 / datagen.bytes_per_record(REAL))
    assert grpc.rate == pytest.approx(50_000_000 / datagen.protobuf_bytes_per_record(REAL))
    assert rest.rate is not None
    assert grpc.rate is not None
    assert grpc.rate > 2 * rest.rate


def test_many_small_namespaces_are_bound_by_requests_per_namespace() -> None:
    many = Dataset(records=10_000, target=10_000, dimension=8, namespaces=2000)
    bound = bound_of_point(Point("export-namespaces", many), wire="rest")
    assert bound.rate == 500  # fetch 100 req/s × 5 records; list 200 × 5 = 1000
    copy = bound_of_point(Point("copy-namespaces", many), wire="rest")
    assert copy.rate == 500  # the per-namespace upsert bytes row applies to each of the 2,000
    ceiling = bound_of_point(Point("server-fetch", REAL, limits="none"), wire="grpc")
    assert ceiling.rate == 20_000
    assert ceiling.formula.startswith("reference")


def test_data_is_deterministic_and_targets_the_prefix() -> None:
    dataset = Dataset(records=2_300, target=1_200, dimension=4, metadata_bytes=8, seed=3)
    first = [doc["id"] for chunk in datagen.iter_chunks(dataset) for doc in chunk.docs()]
    again = [doc["id"] for chunk in datagen.iter_chunks(dataset) for doc in chunk.docs()]
    assert first == again
    assert len(set(first)) == 2_300
    targets = datagen.target_ids(dataset)
    assert len(targets) == 1_200
    assert all(t.startswith("acme#") for t in targets)
    assert sum(i.startswith("acme#") for i in first) == 1_200
    assert (
        datagen.target_ids(Dataset(records=2_300, target=1_200, dimension=4, metadata_bytes=8, seed=4))
        != targets
    )


def test_any_record_regenerates_on_its_own() -> None:
    chunks = list(datagen.iter_chunks(REAL))
    wanted = {chunks[0].ids[5]: 5, chunks[-1].ids[-1]: -1}
    expected = datagen.expected_records(REAL, [*wanted, "not-an-id"])
    assert set(expected) == set(wanted)
    for record_id, row in wanted.items():
        chunk = chunks[0] if row == 5 else chunks[-1]
        assert np.array_equal(expected[record_id][0], chunk.values[row])
        assert expected[record_id][1] == chunk.metadata[row]


def test_realistic_metadata_is_about_a_kilobyte_and_varied() -> None:
    metadata = [m for chunk in datagen.iter_chunks(REAL) for m in chunk.metadata]
    sizes = [len(orjson.dumps(m)) for m in metadata]
    assert 850 <= sum(sizes) / len(sizes) <= 1150
    assert max(sizes) - min(sizes) > 400  # lengths vary from record to record
    assert len({m["text"] for m in metadata}) == len(metadata)
    assert {"text", "source", "page", "score", "tags", "public"} <= set(metadata[0])
    assert all(isinstance(m["tags"], list) and isinstance(m["public"], bool) for m in metadata)


def test_many_namespace_data_spreads_records_evenly() -> None:
    many = Dataset(records=40, target=40, dimension=4, namespaces=8)
    chunks = list(datagen.iter_chunks(many))
    assert [c.namespace for c in chunks] == many.namespace_names()
    assert all(len(c.ids) == 5 for c in chunks)
    assert datagen.namespace_of(many, chunks[3].ids[0]) == chunks[3].namespace
    with pytest.raises(ValueError, match="targets all its records"):
        Dataset(records=40, target=30, namespaces=8)


# -- verification ------------------------------------------------------------------------------------


def _write_jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(d, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n" for d in docs))
    return path


def _target_docs(dataset: Dataset) -> list[dict[str, Any]]:
    return [doc for chunk in datagen.iter_chunks(dataset, only_targets=True) for doc in chunk.docs()]


def test_a_right_export_counts_every_target(tmp_path: Path) -> None:
    check = verify.check_export(
        _write_jsonl(tmp_path / "x.jsonl", _target_docs(REAL)), "jsonl", REAL, prefix="acme#"
    )
    assert (check.processed, check.problems) == (300, [])
    assert check.extra["sampled"] >= 5


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("foreign", "not targets"),
        ("twice", "more than once"),
        ("values", "values differ"),
        ("metadata", "metadata differs"),
    ],
)
def test_a_wrong_export_is_a_problem(tmp_path: Path, damage: str, says: str) -> None:
    docs = _target_docs(REAL)
    if damage == "foreign":
        docs.append({**docs[0], "id": "t001#000000000000"})
    elif damage == "twice":
        docs.append(docs[7])
    elif damage == "values":
        docs[0] = {**docs[0], "values": docs[0]["values"] + np.float32(1e-3)}
    else:
        docs[0] = {**docs[0], "metadata": {**docs[0]["metadata"], "page": -1}}
    check = verify.check_export(_write_jsonl(tmp_path / "x.jsonl", docs), "jsonl", REAL, prefix="acme#")
    assert any(says in problem for problem in check.problems), check.problems


def test_parquet_export_checks_namespace_directories(tmp_path: Path) -> None:
    many = Dataset(records=40, target=40, dimension=8, metadata_bytes=100, namespaces=4, metadata="realistic")
    chunks = list(datagen.iter_chunks(many))
    with ParquetOut(tmp_path / "ok.parquet") as out:
        for c in chunks:
            out.write(c.namespace, c.ids, c.values, c.metadata)
    good = verify.check_export(tmp_path / "ok.parquet", "parquet", many, prefix=None)
    assert (good.processed, good.problems) == (40, [])
    with ParquetOut(tmp_path / "bad.parquet") as out:
        for c in chunks:  # every namespace's records in the next namespace's directory
            out.write(chunks[(chunks.index(c) + 1) % 4].namespace, c.ids, c.values, c.metadata)
    bad = verify.check_export(tmp_path / "bad.parquet", "parquet", many, prefix=None)
    assert any("wrong namespace" in p for p in bad.problems), bad.problems


# -- availability of bulkops features --------------------------------------------------------------


def test_transport_is_passed_to_a_job_that_takes_it() -> None:
    async def job(*, host: str, transport: str = "auto") -> None: ...

    assert bulkops_api.transport_kwargs(job, "grpc") == {"transport": "grpc"}


def test_no_transport_option_makes_the_contender_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    async def job(*, host: str, client_options: dict[str, Any] | None = None) -> None: ...

    monkeypatch.setattr(bulkops_api, "_client_names_transports", lambda: False)
    with pytest.raises(Unavailable, match="transport option not available"):
        bulkops_api.transport_kwargs(job, "rest")
    monkeypatch.setattr(bulkops_api, "_client_names_transports", lambda: True)
    assert bulkops_api.transport_kwargs(job, "rest") == {"client_options": {"transport": "rest"}}


def test_unavailability_follows_the_checkout() -> None:
    import bulkops
    from bulkops.cli.main import COMMANDS

    has_copy = hasattr(bulkops, "copy")
    assert (bulkops_api.unavailable_reason("bulkops", "copy") is None) == has_copy
    assert (bulkops_api.unavailable_reason("bulkops-cli", "copy") is None) == ("copy" in COMMANDS)
    takes = (
        "transport" in inspect.signature(bulkops.export).parameters or bulkops_api._client_names_transports()
    )
    assert (bulkops_api.unavailable_reason("bulkops-grpc", "export-prefix") is None) == takes
    assert bulkops_api.unavailable_reason("sdk-grpc", "copy") is None  # the SDK's failures are results


# -- summary, report, suites, command line ---------------------------------------------------------


def _row(contender: str, rate: float | None, **more: Any) -> dict[str, Any]:
    base = {
        "point": 0, "scenario": "export-prefix", "label": "export-prefix → parquet", "format": "parquet",
        "contender": contender, "latency_ms": 25.0, "limits": "default", "concurrency": None,
        "records": 330, "target": 300, "dimension": 1536, "namespaces": 1, "groups": ["dimension"],
        "bound": 20_000.0, "error": None, "unavailable": None, "rate": rate, "cpu_ms_per_1k": 40.0,
    }  # fmt: skip
    row = {**base, **more}
    row["ratio_to_bound"] = row["rate"] / row["bound"] if row["rate"] is not None else None
    return row


def test_summary_gives_each_bulkops_contender_its_ratio_to_each_sdk() -> None:
    rows = [
        _row("bulkops-cli", 9000.0),
        _row("bulkops-cli", 11000.0),
        _row("sdk-sync", 1000.0),
        _row("sdk-async", 2000.0),
        _row("sdk-grpc", None, error="ServiceError: h2 protocol error"),
        _row("bulkops-grpc", None, unavailable="transport option not available"),
    ]
    summary = {s["contender"]: s for s in summarize(rows)}
    assert summary["bulkops-cli"]["rate"] == 10000.0
    assert summary["bulkops-cli"]["vs_sdk"] == {"sdk-sync": 10.0, "sdk-async": 5.0}
    assert summary["sdk-grpc"]["ok_runs"] == 0
    assert "h2 protocol" in summary["sdk-grpc"]["errors"][0]
    assert summary["bulkops-grpc"]["unavailable"] == "transport option not available"
    table = report.markdown_table(list(summary.values()), {"reps": 2})
    assert "| bulkops-cli | 10,000 | 50% |" in table
    assert "10.0× / 5.0× / —" in table
    assert "- bulkops-grpc: transport option not available" in table


def test_report_draws_the_dimension_and_cpu_plots(tmp_path: Path) -> None:
    rows = [
        _row(c, rate, point=i, dimension=d)
        for i, d in enumerate((768, 1536))
        for c, rate in (("bulkops-cli", 5000.0), ("sdk-sync", 900.0))
    ]
    written = report.write_all(tmp_path, rows=rows, summary=summarize(rows), meta={"command": "t", "reps": 1})
    assert {p.name for p in written} == {"results.json", "results.md", "dimension.png", "cpu.png"}
    assert (tmp_path / "dimension.png").read_bytes().startswith(b"\x89PNG")


def test_the_real_suite_covers_every_size_and_scenario() -> None:
    real = build_suite(suite="real")
    assert {p.dataset.dimension for p in real.points} == {768, 1536, 3072}
    kinds = {(p.scenario, p.format) for p in real.points}
    assert {("export-prefix", "jsonl"), ("export-prefix", "parquet"), ("export-ids", "parquet")} <= kinds
    assert {("import", "parquet"), ("import", "jsonl"), ("copy", "jsonl")} <= kinds
    assert {"export-namespaces", "copy-namespaces", "server-fetch", "server-list"} <= {s for s, _ in kinds}
    headline = [
        p
        for p in real.points
        if (p.scenario, p.format, p.dataset.dimension) == ("export-prefix", "parquet", 1536)
    ]
    assert len(headline) == 1
    assert "bulkops-cli" in headline[0].contenders
    assert "sdk-grpc" in headline[0].contenders
    assert headline[0].dataset.target == 200_000
    assert headline[0].latency_ms == 25.0
    many = next(p for p in real.points if p.scenario == "export-namespaces").dataset
    assert (many.namespaces, many.per_namespace) == (2000, 5)
    only = build_suite(suite="real", dimensions=[3072], formats=["jsonl"], quick=True)
    assert only.points
    assert all(p.dataset.dimension == 3072 and p.format == "jsonl" for p in only.points)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--reps", "0"], "--reps"),
        (["--limits", "nope"], "unknown limit profile 'nope'"),
        (["--suite", "classic", "--scenario", "copy"], "no benchmark point matches"),
    ],
)
def test_bad_option_is_a_usage_error(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_an_sdk_failure_is_a_result_but_wrong_records_are_not() -> None:
    assert not cli._broken({"contender": "sdk-grpc", "error": "ServiceError: h2 protocol error"})
    assert cli._broken({"contender": "sdk-sync", "error": "verification: 3 records exported more than once"})
    assert cli._broken({"contender": "bulkops-cli", "error": "RuntimeError: bulkops exited 1"})
    assert not cli._broken({"contender": "bulkops-grpc", "error": None})
