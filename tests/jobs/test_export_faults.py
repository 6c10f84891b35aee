"""A fault storm (5xx, resets, stalls, spurious 429s) during export and import, over each transport:
both end exact."""

from __future__ import annotations

from pathlib import Path

import pytest

import bulkops
from bulkops.server.app import serve_local
from bulkops.server.config import ServerConfig
from bulkops.server.faults import parse_faults
from bulkops.sinks import JsonlReader, ParquetReader
from tests.helpers.records import assert_same_records, make_records

pytestmark = pytest.mark.integration

# Spurious 429s are rare here: each one holds the whole scope for its Retry-After, which only costs time.
STORM = "500:0.03,503:0.02,reset:0.02,429:0.005,stall=1:0.005"
# Short per-attempt timeout so stalls are retried quickly; a budget that a storm this size cannot drain.
CLIENT = {"timeout": 0.4, "retry_budget_tokens": 10_000.0, "max_attempts": 12}


async def test_export_then_import_through_a_fault_storm_is_exact(tmp_path: Path, transport: str) -> None:
    suffix = ".jsonl"  # faults hit the wire, not the format: the kill tests cover both formats
    config = ServerConfig(faults=parse_faults(STORM), seed=5)
    async with serve_local(config) as server:
        await server.create_index_direct("src", dimension=8)
        await server.create_index_direct("dst", dimension=8)
        await server.seed("src", "a", make_records(4500, seed=41, prefix="x-"))
        await server.seed("src", "b", make_records(1500, seed=42, prefix="y-"))
        out = tmp_path / f"storm{suffix}"
        report = await bulkops.export(
            host=server.index_host("src"),
            all_namespaces=True,
            output=out,
            api_key="k",
            limits="none",
            commit_every=1000,
            target_chains=6,
            transport=transport,
            client_options=CLIENT,
        )
        assert report.exported == 6000
        assert report.transport == transport
        assert report.retries > 0  # the storm did hit
        reader = ParquetReader(out) if suffix == ".parquet" else JsonlReader(out)
        got: dict[str, object] = {}
        for item in reader:
            assert item.record is not None
            assert item.record.id not in got
            got[item.record.id] = item.record
        src = {r.id: r for ns in ("a", "b") for r in server.get_records("src", ns, server.ids("src", ns))}
        assert_same_records(got, src)  # type: ignore[arg-type]

        loaded = await bulkops.load(
            input=out,
            host=server.index_host("dst"),
            api_key="k",
            limits="none",
            batch_size=100,  # 60 upserts: the storm (~8% of requests) hits some of them
            transport=transport,
            client_options=CLIENT,
        )
        assert loaded.upserted == 6000
        assert loaded.transport == transport
        assert loaded.rejected == 0
        assert loaded.retries > 0
        for ns in ("a", "b"):
            dst = {r.id: r for r in server.get_records("dst", ns, server.ids("dst", ns))}
            assert_same_records(dst, {r.id: r for r in server.get_records("src", ns, server.ids("src", ns))})
