"""Jobs driven by an IDs file send full requests: 1000 IDs per delete and per fetch, not a fraction.

Structural, not timed: the request counts a job needs follow from its size, whatever the machine.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bulkops
from bulkops.api import Client
from bulkops.limits.profiles import PROFILES
from bulkops.models import Record
from bulkops.server import LocalServer, ServerConfig, serve_local

NS = "ns"
# UUID-shaped IDs: 1000 of them make a ~41 kB fetch URL, which an 8000-byte budget cut into 6 GETs.
TARGET = [f"{i:08x}-4b1c-8d2e-9f30-a1b2c3d4e5f6" for i in range(2500)]
KEEP = [f"keep-{i}" for i in range(100)]


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with serve_local(ServerConfig(limits=PROFILES["default"])) as server:
        await server.create_index_direct("idx", dimension=4)
        await server.seed("idx", NS, [Record(i, (0.1, 0.2, 0.3, 0.4)) for i in TARGET + KEEP])
        yield server


def _ids_file(tmp_path: Path) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(TARGET) + "\n")
    return path


async def test_ids_file_purge_sends_full_deletes_and_verification_fetches(
    server: LocalServer, tmp_path: Path
) -> None:
    async with Client("k", server.url) as client:
        report = await bulkops.purge(
            client=client, index="idx", namespace=NS, ids_file=_ids_file(tmp_path), verify_delay=0.0
        )
        requests = client.stats.requests
    assert report.deleted == len(TARGET)
    assert report.verification.ok
    assert server.ids("idx", NS) == sorted(KEEP)
    batches = math.ceil(len(TARGET) / 1000)
    assert requests["delete"] <= batches + 1
    assert requests["fetch"] <= batches + 1  # the verification pass re-fetches every ID once


async def test_ids_file_export_sends_one_fetch_per_thousand_ids(server: LocalServer, tmp_path: Path) -> None:
    async with Client("k", server.url) as client:
        index = await client.index(name="idx")
        report = await bulkops.export(
            dataplane=index, namespace=NS, ids_file=_ids_file(tmp_path), output=tmp_path / "out.jsonl"
        )
        requests = client.stats.requests
    assert report.exported == len(TARGET)
    assert requests["fetch"] <= math.ceil(len(TARGET) / 1000) + 1
