"""Command line of the harness: ``python -m benchmarks`` from a source checkout (not installed)."""

from __future__ import annotations

import argparse
import compileall
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.harness import report, suite
from benchmarks.harness.runner import REPO_ROOT
from benchmarks.harness.spec import BULKOPS_CONTENDERS, CONTENDERS, FORMATS, SCENARIOS
from benchmarks.harness.suites import SUITES, build_suite
from benchmarks.harness.summary import summarize
from bulkops.errors import UsageError
from bulkops.limits.profiles import load_profile

__all__ = ["main", "parser"]

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"
DEFAULT_WORK = Path("/tmp/bulkops-bench")
GROUPS = ("table", "latency", "concurrency", "real-table", "dimension", "ceiling")


def parser(prog: str = "python -m benchmarks") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="bulkops vs the documented bound and the official SDK, on the local server.",
    )
    p.add_argument(
        "--suite",
        choices=SUITES,
        default="all",
        help="classic (dimension 8-64), real (768-3072, ~1 KB metadata) or all (default)",
    )
    p.add_argument("--quick", action="store_true", help="little data, 1 repetition: a smoke run")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"results.json/.md and PNGs (default {DEFAULT_OUT}; --quick: WORK_DIR/results-quick)",
    )
    p.add_argument("--work-dir", type=Path, default=DEFAULT_WORK, help="templates and run copies")
    p.add_argument("--scenario", action="append", choices=SCENARIOS, default=[], help="repeatable")
    p.add_argument("--contender", action="append", choices=CONTENDERS, default=[], help="repeatable")
    p.add_argument("--group", action="append", choices=GROUPS, default=[], help="points of this figure")
    p.add_argument("--latency", action="append", type=float, default=[], help="only this latency, ms")
    p.add_argument("--dimension", action="append", type=int, default=[], help="only this dimension")
    p.add_argument("--format", action="append", choices=FORMATS, default=[], help="only this file format")
    p.add_argument("--reps", type=int, default=None, help="repetitions per cell (default: the suite's)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every data set's size")
    p.add_argument("--set-dimension", type=int, default=None, help="vector dimension of every data set")
    p.add_argument("--metadata-bytes", type=int, default=None, help="metadata size per record")
    p.add_argument("--limits", default=None, help="limit profile for every point: default|strict|none|FILE")
    return p


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m benchmarks") -> int:
    args = parser(prog).parse_args(argv)
    if args.out is None:  # a smoke run must not overwrite the committed snapshot
        args.out = args.work_dir / "results-quick" if args.quick else DEFAULT_OUT
    if args.reps is not None and args.reps < 1:
        parser(prog).error("--reps must be at least 1")
    if args.scale <= 0:
        parser(prog).error("--scale must be positive")
    if args.set_dimension is not None and args.set_dimension < 1:
        parser(prog).error("--set-dimension must be at least 1")
    if args.metadata_bytes is not None and args.metadata_bytes < 0:
        parser(prog).error("--metadata-bytes must not be negative")
    if args.limits is not None:
        try:
            load_profile(args.limits)
        except UsageError as exc:
            parser(prog).error(str(exc))
    chosen = build_suite(
        suite=args.suite,
        quick=args.quick,
        scenarios=args.scenario,
        contenders=args.contender,
        groups=args.group,
        latencies=args.latency,
        dimensions=args.dimension,
        formats=args.format,
        reps=args.reps,
        scale=args.scale,
        set_dimension=args.set_dimension,
        metadata_bytes=args.metadata_bytes,
        limits=args.limits,
    )
    if not chosen.points:
        parser(prog).error(
            "no benchmark point matches the --suite/--scenario/--contender/--group/... filters"
        )

    def log(message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    command = " ".join([prog, *map(shlex.quote, argv if argv is not None else sys.argv[1:])])
    _compile_bulkops()
    log(f"suite {chosen.name}: {len(chosen.points)} points × {chosen.reps} reps; work dir {args.work_dir}")
    started, t0 = suite.timestamp(), time.perf_counter()
    rows = suite.run_points(chosen.points, reps=chosen.reps, work_dir=args.work_dir, log=log)
    summary = summarize(rows)
    meta = {
        "command": command,
        "suite": chosen.name,
        "reps": chosen.reps,
        "started": started,
        "elapsed_s": time.perf_counter() - t0,
        "machine": report.machine(),
        "commit": report.source_revision(),
        "points": [p.to_json() for p in chosen.points],
    }
    for path in report.write_all(args.out, rows=rows, summary=summary, meta=meta):
        log(f"wrote {path}")
    print(report.markdown_table(summary, meta))
    return 1 if any(_broken(row) for row in rows) else 0


def _compile_bulkops() -> None:
    """Byte-compile the checkout's bulkops, as pip does for an installed package (and did for the SDK).

    An editable checkout run with ``PYTHONDONTWRITEBYTECODE`` set (as on the machine these figures come
    from) otherwise compiles all ~180 modules again in every ``bulkops`` process: ~0.1 s of the CLI
    contender's wall and CPU that no installed copy pays. The children only read the files."""
    compileall.compile_dir(str(REPO_ROOT / "bulkops"), quiet=1, workers=1)


def _broken(row: dict[str, object]) -> bool:
    """A bulkops run, the harness, or any run's records failing is a failure; an SDK baseline raising
    (e.g. ``RateLimitError`` once its retries are spent, or its gRPC client against a REST-only server)
    is a result, and so is a contender that is not available on this checkout."""
    error = str(row["error"] or "")
    if not error:
        return False
    return row["contender"] in BULKOPS_CONTENDERS or error.startswith(("harness", "verification"))
