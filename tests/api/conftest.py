"""Fixtures for the client tests: a client on an autojumping fake clock, answered by scripted routes."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from bulkops.api import Client
from bulkops.testing import FakeClock, MockTransport

from .doubles import Routes

API_KEY = "pcsk_TEST_7f3a9c_SECRET"
CONTROLLER = "http://ctl.test:5080"
INDEX_HOST = "http://idx.test:5081"


@pytest.fixture
def clock() -> FakeClock:
    """Sleeps end at once, time jumping by exactly their length (recorded in ``clock.sleeps``): the
    doubles answer without real I/O, so an autojumping clock is safe here."""
    return FakeClock(autojump=True)


@pytest.fixture
def make_client(clock: FakeClock) -> Callable[..., Client]:
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
