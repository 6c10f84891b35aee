"""One run: one contender on one point, on its own copy of the data, checked independently.

Per run: ask whether the contender can run the scenario on this checkout (if not, the row says why and
nothing is started); copy the template data dir (a read-only scenario shares one copy per point); start
the local server on it in its own process with the point's knobs (a copy also starts the target server,
another process with another key, on a copy of the empty index); run the contender in a fresh process;
record both servers' CPU over the run and the counts per namespace at its end; stop the servers; check
the outcome in the output or in the stopped server's data (:mod:`verify`).

rate = verified records ÷ the contender's wall time. A run whose records are wrong fails
(``error`` starts with ``verification:``) whatever its speed, and so does a contender that says it
finished but moved fewer than the target.

Object storage: with ``$BULKOPS_BENCH_STORAGE`` (an ``s3://`` or ``gs://`` prefix; credentials and
endpoint from the usual environment) a bulkops contender's export goes there (one directory per run),
and is downloaded after the run for the same independent check; ``copy-via-storage`` writes its import
directory there (else ``file://`` in the run directory).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from benchmarks.harness import verify
from benchmarks.harness.bounds import bound_of_point
from benchmarks.harness.contenders.bulkops_api import unavailable_reason
from benchmarks.harness.runner import run_worker
from benchmarks.harness.seeding import Template
from benchmarks.harness.server import BenchServer
from benchmarks.harness.spec import (
    API_KEY,
    INDEX_NAME,
    SERVER_SCENARIOS,
    TARGET_API_KEY,
    TARGET_PREFIX,
    Contender,
    Point,
    WorkerSpec,
    transport_of,
)

__all__ = ["READ_ONLY", "copy_settled", "one_run", "remove_settled"]

READ_ONLY = ("export-prefix", "export-ids", "export-namespaces", *SERVER_SCENARIOS)


def _base_row(point_id: int, point: Point, contender: Contender, rep: int) -> dict[str, Any]:
    dataset = point.dataset
    return {
        "point": point_id,
        "scenario": point.scenario,
        "label": point.label,
        "format": point.format,
        "contender": contender,
        "rep": rep,
        "latency_ms": point.latency_ms,
        "limits": point.limits,
        "concurrency": point.concurrency,
        "records": dataset.records,
        "target": dataset.target,
        "dimension": dataset.dimension,
        "namespaces": dataset.namespaces,
        "metadata": dataset.metadata,
        "groups": list(point.groups),
        "error": None,
        "unavailable": None,
    }


def _output_path(point: Point, run_dir: Path) -> Path | None:
    if point.scenario == "copy-via-storage":
        return run_dir / "via-storage"  # the import directory (unless $BULKOPS_BENCH_STORAGE)
    if not point.scenario.startswith("export"):
        return None
    return run_dir / ("export.parquet" if point.format == "parquet" else "export.jsonl")


def _stored_output(point: Point, contender: Contender, output: Path | None) -> str | None:
    """The object store URI of a bulkops export when ``$BULKOPS_BENCH_STORAGE`` says where (else None)."""
    base = os.environ.get("BULKOPS_BENCH_STORAGE")
    if not base or output is None or not point.scenario.startswith("export"):
        return None
    if not contender.startswith("bulkops"):
        return None  # the SDK baselines write local files
    return f"{base.rstrip('/')}/{uuid.uuid4().hex[:8]}/{output.name}"


def _download(uri: str, local: Path) -> None:
    """Every object of the export (parts; no manifest) into ``local``, to be checked like a local one."""
    from bulkops.storage import open_storage

    storage = open_storage(uri)
    for item in storage.list_files():
        target = local / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(storage.read_bytes(item.path))


def one_run(
    point_id: int,
    point: Point,
    contender: Contender,
    rep: int,
    template: Template,
    run_dir: Path,
    *,
    shared_data: Path | None = None,
) -> dict[str, Any]:
    """Run ``contender`` on ``point`` in ``run_dir`` (removed afterwards); returns the result row."""
    row = _base_row(point_id, point, contender, rep)
    reason = unavailable_reason(contender, point.scenario)
    if reason is not None:
        row["unavailable"] = reason
        return row
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    try:
        data_dir = shared_data or copy_settled(template.data_dir, run_dir / "data")
        target = template.target_data_dir
        target_dir = copy_settled(target, run_dir / "target") if target else None
        output = _output_path(point, run_dir)
        stored = _stored_output(point, contender, output)
        row["storage"] = stored
        worker_output = stored or (str(output) if output else None)
        result = _serve_and_run(point, contender, template, run_dir, data_dir, target_dir, worker_output, row)
        if stored is not None and output is not None:
            _download(stored, output)
        check = _verify(point, result, data_dir, target_dir, output, row)
        wire = result.get("transport") or transport_of(contender)
        bound = bound_of_point(point, wire=wire)
        row.update(_measures(result, check.processed, bound.rate))
        row.update(bound=bound.rate, bound_formula=bound.formula, transport=wire)
        row.update(check.extra)
        if point.scenario in SERVER_SCENARIOS and row.get("requests"):
            row["server_cpu_ms_per_request"] = 1000 * row["server_cpu_s"] / row["requests"]
        finished = not row["error"] and not row["unavailable"] and not result.get("stopped_by_budget")
        if not row["error"] and check.problems:
            row["error"] = "verification: " + "; ".join(check.problems)
        elif finished and point.scenario not in SERVER_SCENARIOS and check.processed != point.dataset.target:
            row["error"] = (
                f"verification: the contender finished but {check.processed:,} of "
                f"{point.dataset.target:,} target records were done"
            )
    except Exception as exc:  # one broken run is a row with an error, not a lost suite
        row["error"] = f"harness: {type(exc).__name__}: {exc}"[:600]
    finally:
        _keep_logs(run_dir, run_dir.parent.parent / "logs")
        remove_settled(run_dir)
    return row


def copy_settled(source: Path, destination: Path) -> Path:
    """Copy a data directory and flush it to disk before anything is timed.

    A 1536-dimension template is ~2 GB: left dirty, the kernel writes it back about 30 s after the copy,
    in the middle of the next runs. Hygiene, not a measured fix: the slower first runs of a suite came
    from the exporter's page-cache writes after the copy, not from this (decision 0010 §12)."""
    shutil.copytree(source, destination)
    os.sync()
    return destination


def remove_settled(path: Path) -> None:
    """Remove a run's directory and let the file system finish with it (a 1.3 GB export's blocks are
    freed and discarded at the journal's next commit) before the next run starts."""
    shutil.rmtree(path, ignore_errors=True)
    os.sync()


def _server(point: Point, data_dir: Path, api_key: str = API_KEY) -> BenchServer:
    return BenchServer(
        data_dir, latency_ms=point.latency_ms, jitter_ms=point.jitter_ms, limits=point.limits, api_key=api_key
    )


def _serve_and_run(
    point: Point,
    contender: Contender,
    template: Template,
    run_dir: Path,
    data_dir: Path,
    target_dir: Path | None,
    output: str | None,
    row: dict[str, Any],
) -> dict[str, Any]:
    dataset = point.dataset
    with contextlib.ExitStack() as servers:
        server = servers.enter_context(_server(point, data_dir))
        target = servers.enter_context(_server(point, target_dir, TARGET_API_KEY)) if target_dir else None
        host = server.index_host(INDEX_NAME)
        spec = WorkerSpec(
            contender=contender,
            scenario=point.scenario,
            host=host,
            namespaces=dataset.namespace_names(),
            prefix=TARGET_PREFIX,
            dimension=dataset.dimension,
            limits=point.limits,
            budget_s=point.budget_for(contender),
            format=point.format,
            concurrency=point.concurrency,
            ids_file=str(template.ids_file),
            input_file=str(template.input_file) if template.input_file else None,
            output_file=output,
            checkpoint=str(run_dir / "checkpoint.sqlite"),
            target_host=target.index_host(INDEX_NAME) if target else None,
            target_api_key=TARGET_API_KEY if target else None,
            extra={"fetch_batch": 1000},
        )
        cpu0 = server.cpu_seconds()
        target_cpu0 = target.cpu_seconds() if target else 0.0
        result = run_worker(spec, run_dir)
        row["server_cpu_s"] = server.cpu_seconds() - cpu0
        if target is not None:
            row["target_server_cpu_s"] = target.cpu_seconds() - target_cpu0
            row["counts_after"] = verify.namespace_counts(
                target.index_host(INDEX_NAME), api_key=TARGET_API_KEY
            )
        elif point.scenario not in READ_ONLY:
            row["counts_after"] = verify.namespace_counts(host)
    return result


def _verify(
    point: Point,
    result: dict[str, Any],
    data_dir: Path,
    target_dir: Path | None,
    output: Path | None,
    row: dict[str, Any],
) -> verify.Check:
    dataset = point.dataset
    counts = row.pop("counts_after", {})
    if point.scenario in SERVER_SCENARIOS:  # the loads count what the server answered
        return verify.Check(processed=int(result.get("processed") or 0))
    if output is not None and point.scenario.startswith("export"):
        prefix = TARGET_PREFIX if point.scenario == "export-prefix" else None
        return verify.check_export(output, point.format, dataset, prefix=prefix)
    if point.scenario.startswith("purge"):
        return verify.check_index(data_dir, dataset, counts=counts, expect_all=True)
    return verify.check_index(target_dir or data_dir, dataset, counts=counts, expect_all=False)


def _measures(result: dict[str, Any], processed: int, bound: float | None) -> dict[str, Any]:
    wall = float(result.get("wall_s") or 0.0)
    rate = processed / wall if wall > 0 else 0.0
    cpu = float(result.get("cpu_s") or 0.0)
    return {
        "error": result.get("error"),
        "unavailable": result.get("unavailable"),
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
        "transport": result.get("transport"),
        "extra": result.get("extra"),
    }


def _keep_logs(run_dir: Path, logs_dir: Path) -> None:
    logs_dir.mkdir(parents=True, exist_ok=True)
    for log in run_dir.glob("*.log"):
        shutil.copy(log, logs_dir / f"{run_dir.name}.{log.name}")
