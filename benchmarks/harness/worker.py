"""The child side of a run: ``python -m benchmarks.harness.worker SPEC.json RESULT.json``.

One contender per fresh process, so no connection pool, retry budget or admission gate (the SDK keeps
process-global ones per host) carries over between runs. The contender's module is imported before the
clock starts; then wall time and CPU time (all threads, ``time.process_time``) are taken around the
run, and peak RSS is the process's high-water mark at the end: ``VmHWM`` from ``/proc/self/status``
(not ``ru_maxrss``, which Linux carries across ``execve`` from the forking parent, here the harness).
"""

from __future__ import annotations

import importlib
import resource
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

import orjson

from benchmarks.harness.spec import WorkerSpec

__all__ = ["MODULES", "main"]

MODULES = {
    "bulkops": "benchmarks.harness.contenders.bulkops_jobs",
    "sdk-sync": "benchmarks.harness.contenders.sdk_sync",
    "sdk-async": "benchmarks.harness.contenders.sdk_async",
}


def _peak_rss_mb(fallback_kib: int) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return fallback_kib / 1024


def main(argv: list[str]) -> int:
    spec = WorkerSpec.from_bytes(Path(argv[1]).read_bytes())
    result_path = Path(argv[2])
    module = importlib.import_module(MODULES[spec.contender])
    error: str | None = None
    outcome_doc: dict[str, object] = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        outcome_doc = asdict(module.run(spec))
    except Exception as exc:  # reported, not raised: the harness records a failed run and goes on
        error = f"{type(exc).__name__}: {exc}"[:600]
        traceback.print_exc(file=sys.stderr)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_total_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": _peak_rss_mb(usage.ru_maxrss),
        "error": error,
        **outcome_doc,
    }
    result_path.write_bytes(orjson.dumps(result))
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
