"""The suites: which points run, on which data, how many repetitions. One place to tune sizes.

``full`` (~10 minutes here): the latency sweep of purge by prefix (0, 10, 25, 50, 100 ms), a concurrency
sweep at 25 ms (bulkops's list chains vs the SDK's requests in flight), and one cell per other scenario
at 25 ms, plus purge by IDs under the ``strict`` profile; three repetitions each (two for the
concurrency sweep). ``quick`` (< 2 min): the same figures with less data, fewer points and one
repetition — a smoke run, not a measurement.

The SDK baselines stop after ``baseline_budget_s``: their loops are steady from the first request, so a
few seconds measure their rate; bulkops runs to completion (or ``budget_s``), ramp-up and the purge's
verification pass included, which if anything favours the baselines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from benchmarks.harness.spec import CONTENDERS, Dataset, Point, Scenario

__all__ = ["LATENCIES_MS", "Suite", "build_suite"]

LATENCIES_MS = (0.0, 10.0, 25.0, 50.0, 100.0)
CONCURRENCIES = (1, 4, 16, 64)


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    points: tuple[Point, ...]
    reps: int


def _points(
    purge: Dataset,
    vectors: Dataset,
    strict: Dataset,
    *,
    latencies: Sequence[float],
    concurrencies: Sequence[int],
    budget_s: float,
    baseline_budget_s: float,
    concurrency_reps: int | None = None,
    concurrency_budget_s: float | None = None,
) -> list[Point]:
    """Latency sweep + concurrency sweep of purge by prefix, and one cell per other scenario at 25 ms."""
    points = [
        Point(
            "purge-prefix",
            purge,
            latency_ms=latency,
            budget_s=budget_s,
            baseline_budget_s=baseline_budget_s,
            groups=("latency", "table") if latency == 25.0 else ("latency",),
        )
        for latency in latencies
    ]
    points += [
        Point(
            "purge-prefix",
            purge,
            latency_ms=25.0,
            concurrency=concurrency,
            budget_s=concurrency_budget_s or budget_s,  # one list chain takes a while: a rate, not a finish
            baseline_budget_s=baseline_budget_s,
            contenders=("bulkops", "sdk-async"),
            groups=("concurrency",),
            reps=concurrency_reps,
        )
        for concurrency in concurrencies
    ]
    others: tuple[Scenario, ...] = ("purge-ids", "export-prefix", "export-ids", "import")
    points += [
        Point(scenario, vectors, latency_ms=25.0, budget_s=budget_s, baseline_budget_s=baseline_budget_s)
        for scenario in others
    ]
    # Under the strict profile (5000 deleted records/s per namespace) the limit binds for everyone:
    # this cell shows who paces and who collects 429s.
    points.append(
        Point(
            "purge-ids",
            strict,
            latency_ms=25.0,
            limits="strict",
            budget_s=budget_s,
            baseline_budget_s=baseline_budget_s,
        )
    )
    return points


def _full() -> Suite:
    points = _points(
        Dataset(records=200_000, target=100_000, dimension=8, metadata_bytes=32),
        Dataset(records=100_000, target=50_000, dimension=64, metadata_bytes=64),
        Dataset(records=60_000, target=30_000, dimension=8, metadata_bytes=32),
        latencies=LATENCIES_MS,
        concurrencies=CONCURRENCIES,
        budget_s=15.0,
        baseline_budget_s=3.0,
        concurrency_reps=2,
        concurrency_budget_s=8.0,
    )
    return Suite("full", tuple(points), reps=3)


def _quick() -> Suite:
    points = _points(
        Dataset(records=40_000, target=20_000, dimension=8, metadata_bytes=32),
        Dataset(records=20_000, target=10_000, dimension=32, metadata_bytes=32),
        Dataset(records=20_000, target=10_000, dimension=8, metadata_bytes=32),
        latencies=(0.0, 25.0, 100.0),
        concurrencies=(1, 16),
        budget_s=5.0,
        baseline_budget_s=2.0,
    )
    return Suite("quick", tuple(points), reps=1)


def build_suite(
    *,
    quick: bool = False,
    scenarios: Sequence[str] = (),
    contenders: Sequence[str] = (),
    groups: Sequence[str] = (),
    latencies: Sequence[float] = (),
    reps: int | None = None,
    scale: float = 1.0,
    dimension: int | None = None,
    metadata_bytes: int | None = None,
    limits: str | None = None,
) -> Suite:
    """The chosen suite, filtered (scenario, contender, figure group, latency) and scaled (× records).

    ``dimension``, ``metadata_bytes`` and ``limits`` replace those of every point when given.
    """
    suite = _quick() if quick else _full()
    points = list(suite.points)
    if scenarios:
        points = [p for p in points if p.scenario in scenarios]
    if groups:
        points = [p for p in points if set(p.groups) & set(groups)]
    if latencies:
        points = [p for p in points if p.latency_ms in latencies]
    if contenders:
        points = [
            replace(p, contenders=tuple(c for c in p.contenders if c in contenders))
            for p in points
            if any(c in contenders for c in p.contenders)
        ]
    if dimension is not None:
        points = [replace(p, dataset=replace(p.dataset, dimension=dimension)) for p in points]
    if metadata_bytes is not None:
        points = [replace(p, dataset=replace(p.dataset, metadata_bytes=metadata_bytes)) for p in points]
    if limits is not None:
        points = [replace(p, limits=limits) for p in points]
    if reps is not None:  # an explicit --reps applies to every point
        points = [replace(p, reps=None) for p in points]
    if scale != 1.0:  # bigger data takes longer: the time budgets grow with it
        points = [
            replace(
                p,
                dataset=replace(
                    p.dataset,
                    records=max(2, round(p.dataset.records * scale)),
                    target=max(1, round(p.dataset.target * scale)),
                ),
                budget_s=p.budget_s * max(1.0, scale),
            )
            for p in points
        ]
    assert all(c in CONTENDERS for p in points for c in p.contenders)
    return Suite(suite.name, tuple(points), reps if reps is not None else suite.reps)
