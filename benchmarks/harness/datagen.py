"""Deterministic benchmark data: the same seed gives the same IDs, vectors and metadata, byte for byte.

IDs are ``<tenant>#<12 hex digits>``: the target tenant is ``acme#`` (``TARGET_PREFIX``), the others
``t000#`` … so the target prefix holds ``target`` IDs spread across all 16 hex children (what a real
tenant's random document IDs look like to a prefix fan-out), among ``records`` in the namespace.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks.harness.spec import TARGET_PREFIX, Dataset

__all__ = [
    "bytes_per_record",
    "iter_batches",
    "target_ids",
    "write_ids_file",
    "write_jsonl",
]

_OTHER_TENANTS = 16
_CHUNK = 20_000


@functools.lru_cache(maxsize=2)
def _ids(dataset: Dataset) -> list[str]:
    """All IDs, targets first; unique because the hex part is drawn without repetition."""
    rng = np.random.default_rng(dataset.seed)
    # Distinct 48-bit numbers: sample with replacement, then top up until unique (cheap at these sizes).
    numbers = np.unique(rng.integers(0, 2**48, size=dataset.records + 1024, dtype=np.int64))
    while numbers.size < dataset.records:
        extra = rng.integers(0, 2**48, size=dataset.records, dtype=np.int64)
        numbers = np.unique(np.concatenate([numbers, extra]))
    numbers = rng.permutation(numbers)[: dataset.records]
    ids = [f"{TARGET_PREFIX}{int(n):012x}" for n in numbers[: dataset.target]]
    ids.extend(f"t{i % _OTHER_TENANTS:03d}#{int(n):012x}" for i, n in enumerate(numbers[dataset.target :]))
    return ids


def target_ids(dataset: Dataset) -> list[str]:
    """The IDs a purge/export targets, in a shuffled (seeded) order, as an IDs file would hold them."""
    return list(_ids(dataset)[: dataset.target])


def iter_batches(dataset: Dataset, *, only_targets: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Records in Pinecone's vector JSON, in chunks, generated lazily so memory stays flat."""
    ids = _ids(dataset)
    if only_targets:
        ids = ids[: dataset.target]
    rng = np.random.default_rng(dataset.seed + 1)
    pad = "x" * dataset.metadata_bytes
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        values = rng.standard_normal((len(chunk), dataset.dimension), dtype=np.float32)
        yield [
            {
                "id": record_id,
                "values": row,
                "metadata": {"tenant": record_id.split("#", 1)[0], "n": start + i, "text": pad},
            }
            for i, (record_id, row) in enumerate(zip(chunk, values.tolist(), strict=True))
        ]


@functools.lru_cache(maxsize=16)
def bytes_per_record(dataset: Dataset) -> int:
    """Mean JSON size of one record on the wire (for the upsert bytes bound and batch sizing)."""
    sample = next(iter_batches(dataset, only_targets=True))[:200]
    return max(1, round(sum(len(orjson.dumps(doc)) + 1 for doc in sample) / len(sample)))


def write_ids_file(dataset: Dataset, path: Path) -> Path:
    path.write_text("\n".join(target_ids(dataset)) + "\n", encoding="ascii")
    return path


def write_jsonl(dataset: Dataset, path: Path) -> Path:
    """The target records as JSONL (one upsertable vector per line): the input of ``import``."""
    with path.open("wb") as out:
        for batch in iter_batches(dataset, only_targets=True):
            out.write(b"".join(orjson.dumps(doc) + b"\n" for doc in batch))
    return path
