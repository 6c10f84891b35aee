"""The suites: which points run, on which data, how many repetitions. One place to tune sizes.

``classic`` (~10 minutes here): dimension 8–64, the latency sweep of purge by prefix (0, 10, 25, 50,
100 ms), a concurrency sweep at 25 ms (bulkops's list chains vs the SDK's requests in flight), one cell
per other scenario at 25 ms, and purge by IDs under the ``strict`` profile; contenders bulkops (library,
default transport), the SDK's sync loop and its asyncio client.

``real`` (real embedding sizes, ~1 KB of realistic metadata per record, 25 ms, default limits; about an
hour at three repetitions): dimensions 768, 1536 and 3072 for export by prefix (JSONL and Parquet),
export by IDs (Parquet) and import (Parquet, and JSONL at 1536); copy between two servers and the
many-namespace export and copy (2,000 namespaces × 5 records) at 1536; and the server's own ceiling
(fetch of 1,000 records, list pages; limits off, no latency) at each dimension over REST and gRPC.
Contenders: bulkops over gRPC and REST (library), the whole ``bulkops`` CLI, the SDK's sync REST loop,
its asyncio client and its gRPC client.

Sizes (``real``), chosen so that a run at the bound lasts about 10 s — long enough that start-up,
ramp-up and the final commit are a small part of it — without filling the disk:

- export: 200,000 target records among 220,000 (10 s at the 20,000/s list bound). On disk per
  template: 0.9 / 1.6 / 3.0 GB at 768 / 1536 / 3072; a JSONL output is 1.9 / 3.6 / 6.9 GB.
- import: ~500 MB of protobuf, i.e. 10 s at 50 MB/s per namespace over gRPC (≈ 25 s over REST, whose
  JSON is 2.5× bigger): 120,000 / 70,000 / 38,000 records.
- copy: 70,000 of 77,000 records at 1536 (its upsert stage binds, as for import); the same copy via
  object storage (export for bulk import, then the second server's bulk import; bulkops over gRPC only:
  the SDK has no such path) beside it.
- many namespaces: 2,000 × 5 records (20 s at the 500 records/s the list and fetch limits allow).

The SDK baselines stop after ``baseline_budget_s`` (their loops are steady from the first request, so a
few seconds measure their rate); bulkops runs to completion (or ``budget_s``), ramp-up, checkpoint
commits and the purge's verification pass included, which if anything favours the baselines.
``quick`` variants run the same kinds of points on little data with one repetition: a smoke run, not a
measurement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from benchmarks.harness.spec import (
    CLASSIC_CONTENDERS,
    CONTENDERS,
    LOAD_CONTENDERS,
    REAL_CONTENDERS,
    SERVER_SCENARIOS,
    Dataset,
    Point,
    Scenario,
)

__all__ = ["DIMENSIONS", "LATENCIES_MS", "SUITES", "Suite", "build_suite"]

LATENCIES_MS = (0.0, 10.0, 25.0, 50.0, 100.0)
CONCURRENCIES = (1, 4, 16, 64)
DIMENSIONS = (768, 1536, 3072)
SUITES = ("classic", "real", "all")
_IMPORT_RECORDS = {768: 120_000, 1536: 70_000, 3072: 38_000}  # ≈ 500 MB of protobuf each
_HEADLINE_DIMENSION = 1536


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    points: tuple[Point, ...]
    reps: int


# -- classic: dimension 8-64, the figures of the first snapshot ----------------------------------------


def _classic_points(
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
            # the table's cell also times the whole CLI, verification included (issue 11's figure)
            contenders=(*CLASSIC_CONTENDERS, "bulkops-cli") if latency == 25.0 else CLASSIC_CONTENDERS,
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


def _classic(quick: bool) -> list[Point]:
    if quick:
        return _classic_points(
            Dataset(records=40_000, target=20_000, dimension=8, metadata_bytes=32),
            Dataset(records=20_000, target=10_000, dimension=32, metadata_bytes=32),
            Dataset(records=20_000, target=10_000, dimension=8, metadata_bytes=32),
            latencies=(0.0, 25.0, 100.0),
            concurrencies=(1, 16),
            budget_s=5.0,
            baseline_budget_s=2.0,
        )
    return _classic_points(
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


# -- real: 768-3072 dimensions, ~1 KB of realistic metadata -------------------------------------------


def _real_dataset(records: int, target: int, dimension: int, namespaces: int = 1) -> Dataset:
    return Dataset(
        records=records,
        target=target,
        dimension=dimension,
        metadata_bytes=1000,
        namespaces=namespaces,
        metadata="realistic",
    )


def _real(quick: bool) -> list[Point]:
    scale = 0.02 if quick else 1.0
    budget_s, baseline_s, ceiling_s = (20.0, 2.0, 2.0) if quick else (60.0, 6.0, 8.0)
    dims = DIMENSIONS

    def sized(n: int) -> int:
        return max(10, round(n * scale))

    def job(scenario: Scenario, dataset: Dataset, fmt: str, *groups: str) -> Point:
        return Point(
            scenario,
            dataset,
            latency_ms=25.0,
            format=fmt,  # type: ignore[arg-type]
            budget_s=budget_s,
            baseline_budget_s=baseline_s,
            contenders=REAL_CONTENDERS,
            groups=groups,
        )

    def headline(dimension: int) -> tuple[str, ...]:
        return ("dimension", "real-table") if dimension == _HEADLINE_DIMENSION else ("dimension",)

    export = {d: _real_dataset(sized(220_000), sized(200_000), d) for d in dims}
    points: list[Point] = []
    for fmt in ("parquet", "jsonl"):
        points += [job("export-prefix", export[d], fmt, *headline(d)) for d in dims]
    points += [job("export-ids", export[d], "parquet", *headline(d)) for d in dims]
    for d in dims:
        n = sized(_IMPORT_RECORDS[d])
        points.append(job("import", _real_dataset(n, n, d), "parquet", *headline(d)))
    n = sized(_IMPORT_RECORDS[_HEADLINE_DIMENSION])
    points.append(job("import", _real_dataset(n, n, _HEADLINE_DIMENSION), "jsonl", "real-table"))
    copy_source = _real_dataset(sized(77_000), sized(70_000), _HEADLINE_DIMENSION)
    points.append(job("copy", copy_source, "jsonl", "real-table"))
    via_storage = job("copy-via-storage", copy_source, "parquet", "real-table")
    points.append(replace(via_storage, contenders=("bulkops-grpc",)))  # the library: export, bulk import
    spaces = 100 if quick else 2000
    many = _real_dataset(spaces * 5, spaces * 5, _HEADLINE_DIMENSION, namespaces=spaces)
    points.append(job("export-namespaces", many, "parquet", "real-table"))
    points.append(job("copy-namespaces", many, "jsonl", "real-table"))
    points += [
        Point(
            scenario,
            export[d],
            latency_ms=0.0,
            limits="none",
            budget_s=ceiling_s,
            contenders=LOAD_CONTENDERS,
            groups=("dimension", "ceiling"),
        )
        for scenario in SERVER_SCENARIOS
        for d in dims
    ]
    return points


def _scaled(point: Point, scale: float) -> Point:
    dataset = point.dataset
    if dataset.namespaces > 1:  # more or fewer namespaces, the same few records in each
        spaces = max(2, round(dataset.namespaces * scale))
        records = spaces * dataset.per_namespace  # every record is a target: one replace, valid at once
        sized = replace(dataset, namespaces=spaces, records=records, target=records)
    else:
        sized = replace(
            dataset,
            records=max(2, round(dataset.records * scale)),
            target=max(1, round(dataset.target * scale)),
        )
    return replace(point, dataset=sized, budget_s=point.budget_s * max(1.0, scale))


def build_suite(
    *,
    suite: str = "all",
    quick: bool = False,
    scenarios: Sequence[str] = (),
    contenders: Sequence[str] = (),
    groups: Sequence[str] = (),
    latencies: Sequence[float] = (),
    dimensions: Sequence[int] = (),
    formats: Sequence[str] = (),
    reps: int | None = None,
    scale: float = 1.0,
    set_dimension: int | None = None,
    metadata_bytes: int | None = None,
    limits: str | None = None,
) -> Suite:
    """The chosen suite (``classic``, ``real`` or ``all``), filtered and scaled (× records).

    Filters keep the points whose scenario / figure group / latency / dimension / format is listed (an
    empty filter keeps all). ``set_dimension``, ``metadata_bytes`` and ``limits`` replace those of every
    point when given.
    """
    points: list[Point] = []
    if suite in ("classic", "all"):
        points += _classic(quick)
    if suite in ("real", "all"):
        points += _real(quick)
    if scenarios:
        points = [p for p in points if p.scenario in scenarios]
    if groups:
        points = [p for p in points if set(p.groups) & set(groups)]
    if latencies:
        points = [p for p in points if p.latency_ms in latencies]
    if dimensions:
        points = [p for p in points if p.dataset.dimension in dimensions]
    if formats:
        points = [p for p in points if p.format in formats]
    if contenders:
        points = [
            replace(p, contenders=tuple(c for c in p.contenders if c in contenders))
            for p in points
            if any(c in contenders for c in p.contenders)
        ]
    if set_dimension is not None:
        points = [replace(p, dataset=replace(p.dataset, dimension=set_dimension)) for p in points]
    if metadata_bytes is not None:
        points = [replace(p, dataset=replace(p.dataset, metadata_bytes=metadata_bytes)) for p in points]
    if limits is not None:
        points = [replace(p, limits=limits) for p in points]
    if reps is not None:  # an explicit --reps applies to every point
        points = [replace(p, reps=None) for p in points]
    if scale != 1.0:  # bigger data takes longer: the time budgets grow with it
        points = [_scaled(p, scale) for p in points]
    assert all(c in CONTENDERS for p in points for c in p.contenders)
    name = ("quick-" if quick else "") + suite
    return Suite(name, tuple(points), reps if reps is not None else (1 if quick else 3))
