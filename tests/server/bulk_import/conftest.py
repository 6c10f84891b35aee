"""Fixtures for the bulk import tests: the S3-compatible server, an HTTP session, and the helpers'
module (``tests.server.bulk_import.helpers``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.storage.s3server import s3, s3_server

__all__ = ["http", "s3", "s3_server"]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
