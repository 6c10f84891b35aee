"""Fixtures for the client tests: a client factory on an instant clock, answering from scripted routes."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from bulkops.api import Client, MockTransport

from .doubles import Routes

API_KEY = "pcsk_TEST_7f3a9c_SECRET"
CONTROLLER = "http://ctl.test:5080"
INDEX_HOST = "http://idx.test:5081"


class InstantClock:
    """Sleeps return at once and move time forward by exactly the requested amount (recorded)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def wall(self) -> float:
        return 1_700_000_000.0 + self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()


@pytest.fixture
def clock() -> InstantClock:
    return InstantClock()


@pytest.fixture
def make_client(clock: InstantClock) -> Callable[..., Client]:
    """A REST client whose requests are answered by ``routes`` (no network; unmatched requests fail)."""

    def make(routes: Routes | None = None, **overrides: Any) -> Client:
        options: dict[str, Any] = {
            "api_key": API_KEY,
            "controller_host": CONTROLLER,
            "limits": "none",
            "clock": clock,
            "rng": random.Random(0),
            "transport": MockTransport(routes if routes is not None else Routes()),
        }
        options.update(overrides)
        return Client(**options)

    return make
