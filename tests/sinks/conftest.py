from __future__ import annotations

import numpy as np
import pytest

from bulkops.models import Record, SparseValues


def float32_shortest(values: np.ndarray) -> list[float]:
    """What the server sends: each float32 in its shortest decimal form, parsed as JSON would."""
    return [float(str(np.float32(v))) for v in values]


def make_records(n: int, *, dim: int = 8, seed: int = 0, sparse_every: int = 3) -> list[Record]:
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
                id=f"doc-{i:06d}#c", values=float32_shortest(values), sparse_values=sparse, metadata=metadata
            )
        )
    return out


@pytest.fixture
def records() -> list[Record]:
    return make_records(250)
