"""Fixtures: an in-process local server on port 0, an aiohttp session, and a data-plane client per
transport (``plane_for``: tests that take it run once over REST and once over gRPC)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bulkops.server import LocalServer
from bulkops.testing import local_server
from tests.server.planes import GrpcPlane, Plane, RestPlane

V2504 = {"X-Pinecone-Api-Version": "2025-04"}
V2510 = {"X-Pinecone-Api-Version": "2025-10"}

PlaneFor = Callable[..., Plane]


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with local_server() as srv:
        yield srv


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(params=["rest", "grpc"])
async def plane_for(request: pytest.FixtureRequest, http: aiohttp.ClientSession) -> AsyncIterator[PlaneFor]:
    """``plane_for(host, api_key=..., version=...)``: a client of that index over this test's transport."""
    opened: list[Plane] = []

    def make(host: str, **kw: Any) -> Plane:
        plane: Plane = RestPlane(http, host, **kw) if request.param == "rest" else GrpcPlane(host, **kw)
        opened.append(plane)
        return plane

    yield make
    for plane in opened:
        await plane.close()


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    json: Any = None,
    data: bytes | None = None,
    params: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """(status, parsed JSON body or None)."""
    async with http.request(
        method, url, json=json, data=data, params=params, headers=headers or V2504
    ) as response:
        raw = await response.read()
        return response.status, (await response.json(content_type=None)) if raw else None
