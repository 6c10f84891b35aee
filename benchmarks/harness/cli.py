"""Command line of the harness: ``python -m benchmarks`` and ``bulkops bench`` share these options."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.harness import report, suite
from benchmarks.harness.runner import REPO_ROOT
from benchmarks.harness.spec import CONTENDERS, SCENARIOS
from benchmarks.harness.suites import build_suite
from bulkops.errors import UsageError
from bulkops.limits.profiles import load_profile

__all__ = ["main", "parser"]

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"
DEFAULT_WORK = Path("/tmp/bulkops-bench")


def parser(prog: str = "python -m benchmarks") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="bulkops vs the documented bound and the official SDK, on the local server.",
    )
    p.add_argument("--quick", action="store_true", help="small data, 1 repetition (< 2 min)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"results.json/.md and PNGs (default {DEFAULT_OUT}; --quick: WORK_DIR/results-quick)",
    )
    p.add_argument("--work-dir", type=Path, default=DEFAULT_WORK, help="templates and run copies")
    p.add_argument("--scenario", action="append", choices=SCENARIOS, default=[], help="repeatable")
    p.add_argument("--contender", action="append", choices=CONTENDERS, default=[], help="repeatable")
    p.add_argument(
        "--group",
        action="append",
        choices=("table", "latency", "concurrency"),
        default=[],
        help="only the points of this figure (repeatable)",
    )
    p.add_argument("--latency", action="append", type=float, default=[], help="only this latency, ms")
    p.add_argument("--reps", type=int, default=None, help="repetitions per cell (default: suite's)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every data set's size")
    p.add_argument("--dimension", type=int, default=None, help="vector dimension of every data set")
    p.add_argument("--metadata-bytes", type=int, default=None, help="metadata padding per record")
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
    if args.dimension is not None and args.dimension < 1:
        parser(prog).error("--dimension must be at least 1")
    if args.metadata_bytes is not None and args.metadata_bytes < 0:
        parser(prog).error("--metadata-bytes must not be negative")
    if args.limits is not None:
        try:
            load_profile(args.limits)
        except UsageError as exc:
            parser(prog).error(str(exc))
    chosen = build_suite(
        quick=args.quick,
        scenarios=args.scenario,
        contenders=args.contender,
        groups=args.group,
        latencies=args.latency,
        reps=args.reps,
        scale=args.scale,
        dimension=args.dimension,
        metadata_bytes=args.metadata_bytes,
        limits=args.limits,
    )
    if not chosen.points:
        parser(prog).error("no benchmark point matches the --scenario/--contender/--group/--latency filters")

    def log(message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    command = " ".join([prog, *map(shlex.quote, argv if argv is not None else sys.argv[1:])])
    log(f"suite {chosen.name}: {len(chosen.points)} points × {chosen.reps} reps; work dir {args.work_dir}")
    started, t0 = suite.timestamp(), time.perf_counter()
    rows = suite.run_points(chosen.points, reps=chosen.reps, work_dir=args.work_dir, log=log)
    summary = suite.summarize(rows)
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
    # A baseline that raises (the SDK giving up on 429s) is a result; bulkops or the harness failing is not.
    broken = [
        row
        for row in rows
        if row["error"] and (row["contender"] == "bulkops" or str(row["error"]).startswith("harness"))
    ]
    return 1 if broken else 0
