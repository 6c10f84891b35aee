"""Export and import under kill -9, checked record by record against the seeded data.

1. Seed index ``src`` (the harness's deterministic records: realistic ~1 KB metadata, any dimension)
   and create an empty ``dst``, on a ``bulkops serve`` child process (2 ms latency).
2. Export ``src`` by prefix to JSONL or Parquet in a child process; SIGKILL it ``kills`` times at random
   moments, then let it finish. Check: every record exactly once, float32 values bit-identical,
   metadata equal, the manifest's checksums verify.
3. Import the export into ``dst`` in a child process, killed the same way. Check: ``dst`` holds exactly
   the seeded records, bit for bit.

List and upsert budgets are lowered so that every kill lands mid-job.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio
import numpy as np

from benchmarks.chaos.killer import limits_file, run_with_kills
from benchmarks.harness import datagen
from benchmarks.harness.spec import TARGET_PREFIX, Dataset
from bulkops.models import Record

__all__ = ["read_export", "run"]

API_KEY = "chaos-key"
NAMESPACE = "bench"  # the harness's single namespace


def _differences(dataset: Dataset, got: dict[str, Record]) -> list[str]:
    """What differs between ``got`` and the seeded targets (empty: identical)."""
    want = datagen.expected_records(dataset, datagen.target_ids(dataset))
    problems = []
    if set(got) != set(want):
        problems.append(f"{len(set(want) - set(got))} missing, {len(set(got) - set(want))} unexpected")
    for record_id in sorted(set(got) & set(want)):
        values, metadata = want[record_id]
        if not np.array_equal(np.asarray(got[record_id].values, dtype=np.float32), values):
            problems.append(f"{record_id}: values differ")
        if (got[record_id].metadata or None) != metadata:
            problems.append(f"{record_id}: metadata differs")
    return problems[:10]


def read_export(path: Path) -> tuple[dict[str, Record], list[str]]:
    from bulkops.sinks.formats import open_reader
    from bulkops.sinks.manifest import verify_parts

    reader, manifest = open_reader(path)
    records: dict[str, Record] = {}
    problems = []
    for item in reader:
        if item.record is None:
            problems.append(f"unreadable: {item.error}")
        elif item.record.id in records:
            problems.append(f"{item.record.id} exported twice")
        else:
            records[item.record.id] = item.record
    if manifest is None:
        problems.append("no manifest")
    else:
        problems += [f"manifest: {p}" for p in verify_parts(path, manifest)]
    return records, problems[:10]


def _records(chunks: Iterable[datagen.Chunk]) -> Iterable[Record]:
    for chunk in chunks:
        for record_id, row, meta in zip(chunk.ids, chunk.values, chunk.metadata, strict=True):
            yield Record(record_id, row, metadata=meta)  # values: a float32 row, no list


async def _seed(data_dir: Path, dataset: Dataset) -> None:
    from bulkops.server import ServerConfig, serve_local

    async with serve_local(ServerConfig(data_dir=data_dir, limits=None)) as server:
        await server.create_index_direct("src", dimension=dataset.dimension)
        await server.create_index_direct("dst", dimension=dataset.dimension)
        await server.seed("src", NAMESPACE, _records(datagen.iter_chunks(dataset)), batch=5_000)


async def _stored(data_dir: Path, index: str) -> dict[str, Record]:
    from bulkops.server import ServerConfig, serve_local

    async with serve_local(ServerConfig(data_dir=data_dir, limits=None)) as server:
        ids = server.ids(index, NAMESPACE)
        return {r.id: r for r in server.get_records(index, NAMESPACE, ids)}


_PACE = 10_000  # records/s both jobs are held to (list 100 req/s × 100; upsert 20 req/s × 500)


def _killed(spec: dict[str, Any], kills: int, seed: int, records: int) -> dict[str, Any]:
    """Run ``spec`` with ``kills`` SIGKILLs spread over its expected duration at ``_PACE``."""
    started = time.perf_counter()
    max_delay = max(0.6, 0.8 * records / _PACE / kills)
    log = run_with_kills(spec, kills=kills, min_delay=0.5, max_delay=max_delay, seed=seed)
    if log.kills < kills:
        raise RuntimeError(f"only {log.kills} kills landed before the {spec['job']} finished")
    return {
        "kills": log.kills,
        "runs": log.runs,
        "kill_delays_s": [round(d, 2) for d in log.delays],
        "final_run": log.final,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def run(
    *, records: int = 100_000, dimension: int = 64, kills: int = 5, fmt: str = "jsonl", seed: int = 1
) -> dict[str, Any]:
    from bulkops.server.process import ServerProcess

    dataset = Dataset(
        records, records, dimension=dimension, metadata_bytes=1000, metadata="realistic", seed=seed
    )
    work = Path(tempfile.mkdtemp(prefix="export-chaos-"))
    out = work / f"out.{fmt}"
    try:
        started = time.perf_counter()
        anyio.run(_seed, work / "data", dataset)
        seed_seconds = time.perf_counter() - started
        args = ["--data-dir", str(work / "data"), "--latency", "2", "--api-key", API_KEY]
        with ServerProcess(args) as server:
            common = {"controller_host": server.url, "api_key": API_KEY}
            export = _killed(
                {
                    "job": "export",
                    "kwargs": {
                        **common,
                        "index": "src",
                        "namespace": NAMESPACE,
                        "prefix": TARGET_PREFIX,
                        "to": str(out),
                        "commit_every": 10_000,
                        # ≈ 10k IDs/s: every kill lands mid-job
                        "limits": limits_file(work / "list.json", {("list", "index", "requests"): 100}),
                    },
                },
                kills,
                seed,
                records,
            )
            exported, problems = read_export(out)
            export["problems"] = problems + _differences(dataset, exported)
            load = _killed(
                {
                    "job": "load",
                    "kwargs": {
                        **common,
                        "index": "dst",
                        "from_": str(out),
                        "batch_size": 500,
                        "commit_every": 5000,
                        # upserts are limited by bytes only by default; 20 × 500 ≈ 10k records/s
                        "limits": limits_file(
                            work / "upsert.json", {("upsert", "namespace", "requests"): 20}
                        ),
                    },
                },
                kills,
                seed + 1,
                records,
            )
        load["problems"] = _differences(dataset, anyio.run(_stored, work / "data", "dst"))
        return {
            "records": records,
            "dimension": dimension,
            "format": fmt,
            "seed_seconds": round(seed_seconds, 1),
            "export": export,
            "import": load,
            "exact": not export["problems"] and not load["problems"],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
