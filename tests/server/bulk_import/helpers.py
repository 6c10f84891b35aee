"""Writing import layouts (with bulkops's own Parquet writer, and by hand for the bad ones), starting
and following imports over HTTP, and checking what landed, bit for bit."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bulkops.models import Record
from bulkops.server import LocalServer
from bulkops.sinks.parquet import ParquetWriter
from bulkops.storage import open_storage

V2510 = {"X-Pinecone-Api-Version": "2025-10"}
FINISHED = ("Completed", "Failed", "Cancelled")


def write_export(root: Path, by_namespace: Mapping[str, Sequence[Record]], *, part_rows: int = 60) -> Path:
    """The layout bulkops's Parquet export writes: root/<namespace>/part-NNNNN.parquet."""
    writer = ParquetWriter(root, commit_records=part_rows, row_group_rows=max(1, part_rows // 2))
    writer.truncate_to(None)
    for namespace, records in by_namespace.items():
        writer.write(namespace, list(records))
    writer.commit()
    writer.close()
    return root


def write_table(path: Path, columns: Mapping[str, Any], schema: pa.Schema | None = None) -> Path:
    """One hand-made Parquet file (for layouts bulkops would never write)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(dict(columns), schema=schema), path)
    return path


def upload(local_root: Path, uri: str) -> str:
    """Copy a local directory tree to ``uri`` through bulkops.storage; returns ``uri``."""
    storage = open_storage(uri)
    for path in sorted(p for p in local_root.rglob("*") if p.is_file()):
        storage.write_bytes(path.relative_to(local_root).as_posix(), path.read_bytes())
    return uri


async def call(
    http: aiohttp.ClientSession, method: str, url: str, *, json: Any = None, params: Any = None
) -> tuple[int, Any]:
    async with http.request(method, url, json=json, params=params, headers=V2510) as response:
        raw = await response.read()
        return response.status, (await response.json(content_type=None)) if raw else None


async def start(
    http: aiohttp.ClientSession, host: str, uri: str, on_error: str | None = "abort", **extra: Any
) -> str:
    body: dict[str, Any] = {"uri": uri, **extra}
    if on_error is not None:
        body["errorMode"] = {"onError": on_error}
    status, answer = await call(http, "POST", f"{host}/bulk/imports", json=body)
    assert status == 200, answer
    assert set(answer) == {"id"}
    return str(answer["id"])


async def describe(http: aiohttp.ClientSession, host: str, import_id: str) -> dict[str, Any]:
    status, answer = await call(http, "GET", f"{host}/bulk/imports/{import_id}")
    assert status == 200, answer
    return dict(answer)


async def wait_until(
    http: aiohttp.ClientSession,
    host: str,
    import_id: str,
    *,
    statuses: Sequence[str] = FINISHED,
    timeout: float = 60.0,
    records: int = 0,
) -> dict[str, Any]:
    """Poll describe (real time) until the import's status is one of ``statuses`` (and, if asked, it
    has imported at least ``records``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await describe(http, host, import_id)
        if found["status"] in statuses and found["recordsImported"] >= records:
            return found
        assert loop.time() < deadline, f"import {import_id} stuck at {found}"
        await asyncio.sleep(0.02)


def float32_bits(values: Any) -> list[int]:
    return np.asarray(values, dtype=np.float32).view(np.uint32).tolist()


def assert_landed(server: LocalServer, index: str, by_namespace: Mapping[str, Sequence[Record]]) -> None:
    """Every record is in the index, float32 values bit for bit, sparse values and metadata equal."""
    for namespace, records in by_namespace.items():
        assert server.count(index, namespace) == len(records), namespace
        got = {r.id: r for r in server.get_records(index, namespace, [r.id for r in records])}
        for want in records:
            have = got[want.id]
            assert float32_bits(have.values) == float32_bits(want.values), want.id
            assert (have.metadata or None) == (want.metadata or None), want.id
            if want.sparse_values is None:
                assert have.sparse_values is None, want.id
            else:
                assert have.sparse_values is not None, want.id
                assert list(have.sparse_values.indices) == list(want.sparse_values.indices)
                assert float32_bits(have.sparse_values.values) == float32_bits(want.sparse_values.values)


def make_records(n: int, *, dim: int = 8, seed: int = 0, prefix: str = "rec-") -> list[Record]:
    """Records whose float32 values are random bit patterns (subnormals, -0.0, huge and tiny
    exponents included; never NaN or infinity), so "equal" can only mean bit for bit."""
    from bulkops.models import SparseValues

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        raw = rng.integers(0, 2**32, size=dim, dtype=np.uint64).astype(np.uint32)
        raw[(raw & 0x7F800000) == 0x7F800000] &= 0xBF7FFFFF  # no NaN/inf: clear the top exponent bit
        if i == 0:
            raw[:2] = [0x80000000, 0x00000001]  # -0.0 and the smallest subnormal
        values = raw.view(np.float32)
        sparse = None
        if i % 3 == 0:
            sparse = SparseValues(
                indices=[int(x) for x in sorted(rng.choice(4_000_000_000, 3, replace=False))],
                values=[float(v) for v in rng.random(3).astype(np.float32)],
            )
        metadata = {"n": i, "tag": f"t{i % 7}", "ok": i % 2 == 0, "tags": ["a", "b"]} if i % 2 == 0 else None
        out.append(
            Record(id=f"{prefix}{i:06d}", values=values.tolist(), sparse_values=sparse, metadata=metadata)
        )
    return out
