"""Run points: for each repetition, each contender on a fresh copy of the same data, alternating order.

Per run: copy the data set's template data dir, start the local server on the copy in its own process
with the point's knobs, run the contender in a fresh process, count the outcome on the server (or in
the output), stop the server, delete the copy. Contenders alternate order between repetitions
(A B C, C B A, …) so drift on a shared machine does not favour whoever always goes first.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import datagen, seeding, verify
from benchmarks.harness.bounds import bound_for, upsert_batch_size
from benchmarks.harness.runner import run_worker
from benchmarks.harness.server import BenchServer
from benchmarks.harness.spec import INDEX_NAME, NAMESPACE, TARGET_PREFIX, Contender, Point, WorkerSpec

__all__ = ["run_points", "summarize"]

Log = Callable[[str], None]


def _order(contenders: Sequence[Contender], rep: int) -> list[Contender]:
    return list(contenders) if rep % 2 == 0 else list(reversed(contenders))


def run_points(points: Sequence[Point], *, reps: int, work_dir: Path, log: Log) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    total = sum(len(point.contenders) * (point.reps or reps) for point in points)
    done = 0
    for point_id, point in enumerate(points):
        template = seeding.ensure_template(point.dataset, point.scenario, work_dir / "templates", log=log)
        for rep in range(point.reps or reps):
            for contender in _order(point.contenders, rep):
                done += 1
                row = _one_run(point_id, point, contender, rep, template, work_dir / "runs")
                rows.append(row)
                status = row["error"] or (
                    f"{row['rate']:,.0f}/s ({row['processed']:,} in {row['wall_s']:.1f}s)"
                )
                log(
                    f"[{done}/{total}] {point.scenario} lat={point.latency_ms:g}ms "
                    f"c={point.concurrency or 'auto'} {contender} rep {rep + 1}: {status}"
                )
    return rows


def _one_run(
    point_id: int, point: Point, contender: Contender, rep: int, template: seeding.Template, runs_dir: Path
) -> dict[str, Any]:
    run_dir = runs_dir / f"{os.getpid()}-p{point_id}-{contender}-r{rep}"  # unique per suite process
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    data_dir = run_dir / "data"
    shutil.copytree(template.data_dir, data_dir)
    bytes_per_record = datagen.bytes_per_record(point.dataset)
    bound = bound_for(point.scenario, point.limits, bytes_per_record=bytes_per_record)
    row: dict[str, Any] = {
        "point": point_id,
        "scenario": point.scenario,
        "contender": contender,
        "rep": rep,
        "latency_ms": point.latency_ms,
        "limits": point.limits,
        "concurrency": point.concurrency,
        "records": point.dataset.records,
        "target": point.dataset.target,
        "dimension": point.dataset.dimension,
        "groups": list(point.groups),
        "bound": bound.rate,
        "error": None,
    }
    output = run_dir / "export.jsonl" if point.scenario.startswith("export") else None
    try:
        with BenchServer(
            data_dir,
            latency_ms=point.latency_ms,
            jitter_ms=point.jitter_ms,
            limits=point.limits,
        ) as server:
            host = server.index_host(INDEX_NAME)
            before = verify.namespace_count(host, NAMESPACE)
            spec = WorkerSpec(
                contender=contender,
                scenario=point.scenario,
                host=host,
                namespace=NAMESPACE,
                prefix=TARGET_PREFIX,
                dimension=point.dataset.dimension,
                limits=point.limits,
                budget_s=point.budget_for(contender),
                concurrency=point.concurrency,
                ids_file=str(template.ids_file),
                input_file=str(template.input_file) if template.input_file else None,
                output_file=str(output) if output else None,
                checkpoint=str(run_dir / "checkpoint.sqlite"),
                extra={"upsert_batch": upsert_batch_size(bytes_per_record), "fetch_batch": 1000},
            )
            server_cpu = server.cpu_seconds()
            result = run_worker(spec, run_dir)
            row["server_cpu_s"] = server.cpu_seconds() - server_cpu
            after = verify.namespace_count(host, NAMESPACE)
        if point.scenario.startswith("purge"):
            processed = before - after
        elif point.scenario == "import":
            processed = after - before
        else:
            assert output is not None
            processed, row["export_lines"] = verify.count_export(output, TARGET_PREFIX)
        row.update(_measures(result, processed, bound.rate))
        if processed > point.dataset.target and not row["error"]:  # more than was targeted: wrong
            row["error"] = f"verification: {processed} records affected, only {point.dataset.target} targeted"
    except Exception as exc:  # one broken run is a row with an error, not a lost suite
        row["error"] = f"harness: {type(exc).__name__}: {exc}"[:600]
    finally:
        _keep_logs(run_dir, runs_dir.parent / "logs")
        shutil.rmtree(run_dir, ignore_errors=True)
    return row


def _measures(result: dict[str, Any], processed: int, bound: float | None) -> dict[str, Any]:
    wall = float(result.get("wall_s") or 0.0)
    rate = processed / wall if wall > 0 else 0.0
    cpu = float(result.get("cpu_s") or 0.0)
    return {
        "error": result.get("error"),
        "log_tail": result.get("log_tail"),
        "processed": processed,
        "claimed": result.get("processed"),
        "wall_s": wall,
        "rate": rate,
        "ratio_to_bound": rate / bound if bound else None,
        "requests": result.get("requests"),
        "http_429": result.get("http_429"),
        "retries": result.get("retries"),
        "cpu_s": cpu,
        "cpu_ms_per_1k": 1000 * cpu / processed * 1000 if processed else None,
        "peak_rss_mb": result.get("peak_rss_mb"),
        "stopped_by_budget": result.get("stopped_by_budget"),
        "extra": result.get("extra"),
    }


def _keep_logs(run_dir: Path, logs_dir: Path) -> None:
    logs_dir.mkdir(parents=True, exist_ok=True)
    for log in run_dir.glob("*.log"):
        shutil.copy(log, logs_dir / f"{run_dir.name}.{log.name}")


def _median(values: Sequence[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians per (point, contender), plus bulkops ÷ each SDK contender at the same point."""
    keys = sorted({(r["point"], r["contender"]) for r in rows})
    summary: list[dict[str, Any]] = []
    for point_id, contender in keys:
        runs = [r for r in rows if r["point"] == point_id and r["contender"] == contender]
        ok = [r for r in runs if not r["error"]]
        first = runs[0]
        entry = {
            key: first[key]
            for key in (
                "point", "scenario", "contender", "latency_ms", "limits", "concurrency",
                "records", "target", "dimension", "groups", "bound",
            )
        }  # fmt: skip
        entry["runs"] = len(runs)
        entry["ok_runs"] = len(ok)
        entry["errors"] = sorted({str(r["error"])[:200] for r in runs if r["error"]})
        for field in (
            "rate", "ratio_to_bound", "wall_s", "processed", "cpu_s", "cpu_ms_per_1k",
            "peak_rss_mb", "http_429", "retries", "requests", "server_cpu_s",
        ):  # fmt: skip
            entry[field] = _median([r.get(field) for r in ok])
        entry["rates"] = [r.get("rate") for r in ok]
        summary.append(entry)
    by_point = {(e["point"], e["contender"]): e for e in summary}
    for entry in summary:
        ours = by_point.get((entry["point"], "bulkops"))
        if entry["contender"] != "bulkops" and ours and ours["rate"] and entry["rate"]:
            entry["bulkops_speedup"] = ours["rate"] / entry["rate"]
    return summary


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
