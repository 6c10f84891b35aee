"""The child side of a run: ``python -m benchmarks.harness.worker SPEC.json RESULT.json``.

One contender per fresh process, so no connection pool, retry budget or admission gate (the SDK keeps
process-global ones per host) carries over between runs. The contender's module is imported before the
clock starts; then wall time and CPU time (user + system, all threads, ``time.process_time``) are taken
around the run, and peak RSS is the process's high-water mark at the end: ``VmHWM`` from
``/proc/self/status`` (not ``ru_maxrss``, which Linux carries across ``execve`` from the forking parent,
here the harness). The whole-CLI contender runs the ``bulkops`` executable and reports that process's
CPU and peak RSS instead (its ``Outcome.cpu_s`` / ``peak_rss_mb``).
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

from benchmarks.harness.contenders.outcome import Unavailable
from benchmarks.harness.spec import WorkerSpec

__all__ = ["MODULES", "main", "peak_rss_mb"]

MODULES = {
    "bulkops": "benchmarks.harness.contenders.bulkops_jobs",
    "bulkops-rest": "benchmarks.harness.contenders.bulkops_jobs",
    "bulkops-grpc": "benchmarks.harness.contenders.bulkops_jobs",
    "bulkops-cli": "benchmarks.harness.contenders.bulkops_cli",
    "sdk-sync": "benchmarks.harness.contenders.sdk_sync",
    "sdk-async": "benchmarks.harness.contenders.sdk_async",
    "sdk-grpc": "benchmarks.harness.contenders.sdk_grpc",
    "raw-rest": "benchmarks.harness.contenders.raw_load",
    "raw-grpc": "benchmarks.harness.contenders.raw_load",
}


def peak_rss_mb(pid: int | str = "self", fallback_kib: int = 0) -> float:
    """A process's peak resident set (``VmHWM``), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
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
    unavailable: str | None = None
    outcome_doc: dict[str, object] = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        outcome_doc = asdict(module.run(spec))
    except Unavailable as exc:  # a result ("not available on this checkout"), not a failure
        unavailable = str(exc)
    except Exception as exc:  # reported, not raised: the harness records a failed run and goes on
        error = f"{type(exc).__name__}: {exc}"[:600]
        traceback.print_exc(file=sys.stderr)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    own: dict[str, object] = {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": peak_rss_mb(fallback_kib=usage.ru_maxrss),
    }
    if outcome_doc.get("cpu_s") is not None:  # the work ran in a child process: its figures count
        own["worker_cpu_s"] = cpu
    result = {**own, "error": error, "unavailable": unavailable}
    result.update({k: v for k, v in outcome_doc.items() if v is not None})
    result_path.write_bytes(orjson.dumps(result))
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
