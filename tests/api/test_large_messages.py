"""Messages at real embedding sizes over gRPC: a 1,000-record fetch at dimension 3072 (~13 MB, three
times grpc's default 4 MB limit) in one call, and upserts up to Pinecone's 2 MB limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from bulkops.api import Client
from bulkops.errors import BadRequestError
from bulkops.models import MAX_UPSERT_BYTES, Record
from bulkops.server import ServerConfig, serve_local

from .conftest import API_KEY

DIMENSION = 3072


@pytest.fixture
async def server() -> AsyncIterator[Any]:
    async with serve_local(ServerConfig(api_key=API_KEY)) as running:
        await running.create_index_direct("wide", dimension=DIMENSION)
        yield running


def vectors(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, DIMENSION), dtype=np.float32)


async def test_a_thousand_records_at_dimension_3072_come_back_in_one_fetch(server: Any) -> None:
    values = vectors(1000, seed=1)
    ids = [f"doc-{i:04d}" for i in range(1000)]
    metadata = {"title": "x" * 900, "year": 2019}
    await server.seed(
        "wide", "ns", [Record(i, v, metadata=metadata) for i, v in zip(ids, values, strict=True)]
    )
    async with Client(API_KEY, server.url, transport="grpc", limits="none") as client:
        index = await client.index("wide")
        found = await index.fetch(ids, namespace="ns")
        stats = client.stats
    assert stats.requests["fetch"] == 1  # one call, no split: the answer fits the channel's limit
    assert stats.bytes_received > 13_000_000  # bigger than grpc's default 4 MB limit, three times over
    assert len(found) == 1000
    for n in (0, 499, 999):
        got = found[ids[n]]
        assert isinstance(got.values, np.ndarray)
        assert got.values.dtype == np.float32
        assert got.values.tobytes() == values[n].tobytes()  # bit for bit
        assert got.metadata == metadata


async def test_an_upsert_just_under_2_mb_goes_through_and_one_over_is_refused(server: Any) -> None:
    per_record = DIMENSION * 4 + 40  # packed floats plus the ID and framing
    fits = MAX_UPSERT_BYTES // per_record - 1
    values = vectors(fits + 10, seed=2)
    records = [Record(f"r{i:04d}", values[i]) for i in range(fits + 10)]
    async with Client(API_KEY, server.url, transport="grpc", limits="none") as client:
        index = await client.index("wide")
        assert await index.upsert(records[:fits], namespace="ns") == fits
        sent = client.stats.bytes_sent
        with pytest.raises(BadRequestError):
            await index.upsert(records, namespace="ns")
        found = await index.fetch([records[-11].id], namespace="ns")
    assert 0.98 * MAX_UPSERT_BYTES < sent <= MAX_UPSERT_BYTES  # close to the limit, and within it
    assert server.count("wide", "ns") == fits
    assert found[records[-11].id].values.tobytes() == values[fits - 1].tobytes()


async def test_record_calls_and_small_calls_travel_on_separate_connections(server: Any) -> None:
    """A list answer must not queue behind a megabytes fetch answer on one TCP connection: the client
    keeps one connection per host for calls carrying records and one for the rest."""
    front = server.indexes["wide"].front
    async with Client(API_KEY, server.url, transport="grpc") as client:
        index = await client.index("wide")
        await index.upsert([Record(f"r{i}", vectors(1, i)[0]) for i in range(3)], namespace="ns")
        assert len(front.live) == 2  # the probe's and stats' connection, and the records' one
        page = await index.list_page(namespace="ns")
        assert page.ids == ("r0", "r1", "r2")
        assert len(await index.fetch(list(page.ids), namespace="ns")) == 3
        assert len(front.live) == 2
