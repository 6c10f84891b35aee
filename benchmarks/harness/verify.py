"""Check a run's outcome independently of the contender: in its output, or in the server's data.

What counts as work done, per scenario:

- export: distinct target IDs in the output (a JSONL file or a Parquet directory). An ID outside the
  targets, a repeated record, or a sampled record whose values (float32, bit for bit) or metadata
  differ from the data set is a *problem*: the run failed, whatever its speed.
- purge: target records gone from the namespace; a non-target record gone is a problem.
- import / copy: records now in the (target) index; a record that is not a target, sits in the wrong
  namespace, or differs from the data set (sampled) is a problem.

The server-side checks open the run's data directory with the server's own storage code after the
server process has stopped (``LocalServer`` direct access: no HTTP, no limits, no latency), so even a
run that stopped early with 200k records left is checked in a second.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import orjson

from benchmarks.harness import datagen
from benchmarks.harness.spec import API_KEY, INDEX_NAME, Dataset

__all__ = ["Check", "check_export", "check_index", "namespace_counts"]

_SAMPLE = 60
_ID_HEAD = b'{"id":"'


@dataclass(slots=True)
class Check:
    """``processed``: records verified as done; ``problems``: what was wrong (empty: nothing)."""

    processed: int = 0
    problems: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def namespace_counts(host: str, *, api_key: str = API_KEY) -> dict[str, int]:
    """Live records per namespace according to ``describe_index_stats``."""
    request = urllib.request.Request(
        host.rstrip("/") + "/describe_index_stats",
        data=b"{}",
        method="POST",
        headers={"Api-Key": api_key, "Content-Type": "application/json", "X-Pinecone-Api-Version": "2025-04"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        doc = orjson.loads(response.read())
    return {ns: int(v.get("vectorCount", 0)) for ns, v in doc.get("namespaces", {}).items()}


def _same(dataset: Dataset, got: dict[str, tuple[Any, Any]]) -> list[str]:
    """Problems among sampled records ``id → (values, metadata)``, compared with the data set."""
    want = datagen.expected_records(dataset, got)
    problems = []
    for record_id, (values, metadata) in got.items():
        if record_id not in want:
            problems.append(f"{record_id} is not in the data set")
            continue
        expected_values, expected_metadata = want[record_id]
        if not np.array_equal(np.asarray(values, dtype=np.float32), expected_values):
            problems.append(f"{record_id}: values differ from the seeded float32 vector")
        if (metadata or None) != expected_metadata:
            problems.append(f"{record_id}: metadata differs")
    return problems[:5]


# -- exports ----------------------------------------------------------------------------------------


def _jsonl_records(path: Path) -> Iterator[tuple[str, bytes]]:
    """(id, line) per non-empty line; the id sliced from the line head when it leads, else parsed."""
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path] if path.exists() else []
    for file in files:
        with file.open("rb") as source:
            for line in source:
                if not line.strip():
                    continue
                if line.startswith(_ID_HEAD):
                    end = line.index(b'"', len(_ID_HEAD))
                    yield line[len(_ID_HEAD) : end].decode(), line
                else:
                    yield str(orjson.loads(line)["id"]), line


def _parquet_records(path: Path) -> Iterator[tuple[str, str | None, Any]]:
    """(id, namespace directory, row loader) per row of every part under ``path``."""
    import pyarrow.parquet as pq

    from bulkops.sinks.parquet import namespace_from_dir

    for part in sorted(p for p in path.rglob("*.parquet") if not p.name.startswith(".")):
        namespace = namespace_from_dir(part.parent.name) if part.parent != path else None
        ids = pq.read_table(part, columns=["id"]).column("id").to_pylist()
        table: list[Any] = []

        def load(row: int, _part: Path = part, _table: list[Any] = table) -> tuple[Any, Any]:
            if not _table:
                _table.append(pq.read_table(_part, columns=["values", "metadata"]))
            values = _table[0].column("values")[row].as_py()
            meta = _table[0].column("metadata")[row].as_py()
            return values, orjson.loads(meta) if meta else None

        for row, record_id in enumerate(ids):
            yield record_id, namespace, (load, row)


def check_export(path: Path, fmt: str, dataset: Dataset, *, prefix: str | None) -> Check:
    """Distinct target IDs in an export, and what is wrong with it (see the module docstring)."""
    targets = set(datagen.target_ids(dataset))
    seen: set[str] = set()
    check = Check()
    foreign = repeated = misplaced = 0
    sample: dict[str, tuple[Any, Any]] = {}
    lines = 0
    rows = (
        _parquet_records(path) if fmt == "parquet" else ((i, None, line) for i, line in _jsonl_records(path))
    )
    for record_id, namespace, raw in rows:
        lines += 1
        if record_id not in targets or (prefix is not None and not record_id.startswith(prefix)):
            foreign += 1
            continue
        if record_id in seen:
            repeated += 1
            continue
        seen.add(record_id)
        if (
            namespace is not None
            and dataset.namespaces > 1
            and datagen.namespace_of(dataset, record_id) != namespace
        ):
            misplaced += 1
        if len(sample) < _SAMPLE and (len(seen) % 97 == 1 or len(sample) < 5):
            if isinstance(raw, bytes):
                doc = orjson.loads(raw)
                sample[record_id] = (doc.get("values"), doc.get("metadata"))
            else:
                load, row = raw
                sample[record_id] = load(row)
    check.processed = len(seen)
    check.extra = {"export_lines": lines, "sampled": len(sample)}
    if foreign:
        check.problems.append(f"{foreign} exported records are not targets")
    if repeated:
        check.problems.append(f"{repeated} records exported more than once")
    if misplaced:
        check.problems.append(f"{misplaced} records are in the wrong namespace directory")
    check.problems += _same(dataset, sample)
    return check


# -- the index after a run --------------------------------------------------------------------------


def check_index(data_dir: Path, dataset: Dataset, *, counts: dict[str, int], expect_all: bool) -> Check:
    """Inspect a stopped server's data dir: what a purge removed, or what an import / copy wrote.

    ``counts``: the records per namespace the server reported at the end of the run (a namespace the
    data set does not have is a problem). ``expect_all``: the index started with every record of the
    data set (a purge's source); otherwise it started empty (import, a copy's target).
    """
    return anyio.run(_check_index, data_dir, dataset, counts, expect_all)


async def _check_index(data_dir: Path, dataset: Dataset, counts: dict[str, int], expect_all: bool) -> Check:
    from bulkops.server.app import serve_local
    from bulkops.server.config import ServerConfig

    targets = set(datagen.target_ids(dataset))
    check = Check()
    async with serve_local(ServerConfig(data_dir=data_dir, limits=None)) as server:
        present = {ns: server.ids(INDEX_NAME, ns) for ns in dataset.namespace_names()}
        listed = sum(len(ids) for ids in present.values())
        strays = {ns: n for ns, n in counts.items() if ns not in present and n}
        if strays:
            check.problems.append(f"records in namespaces the data set does not have: {sorted(strays)[:3]}")
        if expect_all:  # a purge: targets gone, everything else still there
            kept_targets = sum(1 for ids in present.values() for i in ids if i in targets)
            kept_others = listed - kept_targets
            check.processed = len(targets) - kept_targets
            if kept_others != dataset.records - dataset.target:
                check.problems.append(
                    f"{dataset.records - dataset.target - kept_others} non-target records deleted"
                )
            return check
        placed = {i: ns for ns, ids in present.items() for i in ids}
        check.processed = len(placed)
        strangers = [i for i in placed if i not in targets]
        if strangers:
            check.problems.append(f"{len(strangers)} records that are not targets, e.g. {strangers[0]}")
        wrong_ns = [i for i, ns in placed.items() if i in targets and datagen.namespace_of(dataset, i) != ns]
        if wrong_ns:
            check.problems.append(f"{len(wrong_ns)} records in the wrong namespace")
        sample_ids = sorted(placed)[:: max(1, len(placed) // _SAMPLE)][:_SAMPLE]
        got: dict[str, tuple[Any, Any]] = {}
        for ns in dataset.namespace_names():
            wanted = [i for i in sample_ids if placed[i] == ns]
            for record in server.get_records(INDEX_NAME, ns, wanted) if wanted else []:
                got[record.id] = (record.values, record.metadata)
        check.problems += _same(dataset, got)
        check.extra = {"sampled": len(got)}
    return check
