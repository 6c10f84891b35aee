"""Run points: for each repetition, each contender on a fresh copy of the same data, alternating order.

For every point: build (or reuse) its template, then for each repetition run every contender
(:func:`~benchmarks.harness.one_run.one_run`). Contenders alternate order between repetitions
(A B C, C B A, …) so drift on a shared machine does not favour whoever always goes first. A read-only
scenario (export, the server ceilings) serves one copy of the template for all its runs: nothing
writes to it, and copying 3 GB per run would cost more than the run. A contender that is unavailable
on this checkout is asked once per point and recorded once, not once per repetition.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import seeding
from benchmarks.harness.one_run import READ_ONLY, copy_settled, one_run, remove_settled
from benchmarks.harness.spec import Contender, Point

__all__ = ["run_points", "timestamp"]

Log = Callable[[str], None]


def _order(contenders: Sequence[Contender], rep: int) -> list[Contender]:
    return list(contenders) if rep % 2 == 0 else list(reversed(contenders))


def _status(row: dict[str, Any]) -> str:
    if row["unavailable"]:
        return f"n/a ({row['unavailable']})"
    if row["error"]:
        return str(row["error"])[:300]
    text = f"{row['rate']:,.0f}/s ({row['processed']:,} in {row['wall_s']:.1f}s"
    if row.get("cpu_ms_per_1k") is not None:
        text += f", {row['cpu_ms_per_1k']:,.0f} ms CPU/1k"
    return text + ")"


def run_points(points: Sequence[Point], *, reps: int, work_dir: Path, log: Log) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    total = sum(len(point.contenders) * (point.reps or reps) for point in points)
    done = 0
    runs_dir = work_dir / "runs"
    for point_id, point in enumerate(points):
        template = seeding.ensure_template(point, work_dir / "templates", log=log)
        shared: Path | None = None
        if point.scenario in READ_ONLY:
            shared = runs_dir / f"{os.getpid()}-p{point_id}-shared"
            shutil.rmtree(shared, ignore_errors=True)
            copy_settled(template.data_dir, shared)
        unavailable: set[Contender] = set()
        try:
            for rep in range(point.reps or reps):
                for contender in _order(point.contenders, rep):
                    done += 1
                    if contender in unavailable:
                        continue
                    run_dir = runs_dir / f"{os.getpid()}-p{point_id}-{contender}-r{rep}"
                    row = one_run(point_id, point, contender, rep, template, run_dir, shared_data=shared)
                    rows.append(row)
                    if row["unavailable"]:
                        unavailable.add(contender)
                    log(
                        f"[{done}/{total}] {point.label} dim={point.dataset.dimension} "
                        f"lat={point.latency_ms:g}ms c={point.concurrency or 'auto'} {contender} "
                        f"rep {rep + 1}: {_status(row)}"
                    )
        finally:
            if shared is not None:
                remove_settled(shared)
    return rows


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
