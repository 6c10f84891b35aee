"""``bulkops bench``: run the benchmark harness (``benchmarks/harness`` in a source checkout).

The harness is a development tool and is not installed with the package, so this command finds the
``benchmarks`` directory next to the installed ``bulkops`` package (an editable install from a clone)
and runs it with the same options as ``python -m benchmarks``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

__all__ = ["bench"]

_SCENARIOS = ("purge-prefix", "purge-ids", "export-prefix", "export-ids", "import")
_CONTENDERS = ("bulkops", "sdk-sync", "sdk-async")


def _checkout_root() -> Path:
    import bulkops

    root = Path(bulkops.__file__).resolve().parent.parent
    if not (root / "benchmarks" / "harness" / "cli.py").is_file():
        raise click.UsageError(
            "bulkops bench needs a source checkout: the benchmarks/ directory is not installed with the "
            f"package (looked in {root}). Clone the repository and `pip install -e '.[bench]'` there."
        )
    return root


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quick", is_flag=True, help="Small data, one repetition (under 2 minutes).")
@click.option("--out", type=click.Path(path_type=Path), help="Directory for results.json/.md and PNGs.")
@click.option("--work-dir", type=click.Path(path_type=Path), help="Templates and per-run data copies.")
@click.option("--scenario", "scenarios", multiple=True, type=click.Choice(_SCENARIOS), help="Repeatable.")
@click.option("--contender", "contenders", multiple=True, type=click.Choice(_CONTENDERS), help="Repeatable.")
@click.option(
    "--group",
    "groups",
    multiple=True,
    type=click.Choice(("table", "latency", "concurrency")),
    help="Only the points of this figure. Repeatable.",
)
@click.option("--latency", "latencies", multiple=True, type=float, help="Only this latency (ms). Repeatable.")
@click.option("--reps", type=click.IntRange(min=1), help="Repetitions per cell (default: the suite's).")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), help="Multiply every data set's size.")
@click.option("--dimension", type=click.IntRange(min=1), help="Vector dimension of every data set.")
@click.option("--metadata-bytes", type=click.IntRange(min=0), help="Metadata padding per record.")
@click.option("--limits", help="Limit profile for every point: default, strict, none or a JSON file.")
@click.pass_context
def bench(
    ctx: click.Context,
    quick: bool,
    out: Path | None,
    work_dir: Path | None,
    scenarios: tuple[str, ...],
    contenders: tuple[str, ...],
    groups: tuple[str, ...],
    latencies: tuple[float, ...],
    reps: int | None,
    scale: float | None,
    dimension: int | None,
    metadata_bytes: int | None,
    limits: str | None,
) -> None:
    """Benchmark bulkops against the documented bound and the official SDK on the local server.

    Writes results.json, results.md and PNG plots (rate vs latency, rate vs concurrency).
    """
    root = _checkout_root()
    argv: list[str] = ["--quick"] if quick else []
    options = {
        "--out": out,
        "--work-dir": work_dir,
        "--reps": reps,
        "--scale": scale,
        "--dimension": dimension,
        "--metadata-bytes": metadata_bytes,
        "--limits": limits,
    }
    for flag, value in options.items():
        if value is not None:
            argv += [flag, str(value)]
    for scenario in scenarios:
        argv += ["--scenario", scenario]
    for contender in contenders:
        argv += ["--contender", contender]
    for group in groups:
        argv += ["--group", group]
    for latency in latencies:
        argv += ["--latency", f"{latency:g}"]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    harness = importlib.import_module("benchmarks.harness.cli")
    ctx.exit(int(harness.main(argv, prog="bulkops bench")))
