"""Fixtures: an in-process local server on port 0 and an aiohttp session speaking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bulkops.server import LocalServer
from bulkops.testing import local_server

V2504 = {"X-Pinecone-Api-Version": "2025-04"}
V2510 = {"X-Pinecone-Api-Version": "2025-10"}


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with local_server() as srv:
        yield srv


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


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
