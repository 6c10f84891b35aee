"""Shared by the sink and export/import tests: deterministic records and exact comparisons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from bulkops.models import Record, SparseValues


def float32_shortest(values: np.ndarray) -> list[float]:
    """What the server sends: each float32 in its shortest decimal form, parsed as JSON would."""
    return [float(str(np.float32(v))) for v in values]


def make_records(
    n: int, *, dim: int = 8, seed: int = 0, sparse_every: int = 3, prefix: str = "doc-"
) -> list[Record]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        values = rng.standard_normal(dim).astype(np.float32)
        sparse = None
        if sparse_every and i % sparse_every == 0:
            sparse = SparseValues(
                indices=[int(x) for x in sorted(rng.choice(4_000_000_000, 3, replace=False))],
                values=float32_shortest(rng.random(3).astype(np.float32)),
            )
        metadata = {"n": i, "tag": f"t{i % 7}", "ok": True, "tags": ["a", "b"]} if i % 2 == 0 else None
        out.append(
            Record(
                id=f"{prefix}{i:06d}#c",
                values=float32_shortest(values),
                sparse_values=sparse,
                metadata=metadata,
            )
        )
    return out


def bits(values: Iterable[float]) -> list[int]:
    return [int(x) for x in np.asarray(list(values), dtype=np.float32).view(np.uint32)]


def assert_same_records(got: Mapping[str, Record], want: Mapping[str, Record]) -> None:
    """Same IDs, bit-identical float32 values and sparse values, equal metadata."""
    assert sorted(got) == sorted(want)
    for record_id, expected in want.items():
        actual = got[record_id]
        assert bits(actual.values) == bits(expected.values), record_id
        assert (actual.sparse_values is None) == (expected.sparse_values is None), record_id
        if expected.sparse_values is not None and actual.sparse_values is not None:
            assert list(actual.sparse_values.indices) == list(expected.sparse_values.indices)
            assert bits(actual.sparse_values.values) == bits(expected.sparse_values.values)
        assert (actual.metadata or None) == (expected.metadata or None), record_id
