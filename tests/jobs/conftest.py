"""Job tests that cross the wire take the ``transport`` fixture and run once per transport: the local
server answers REST and gRPC on each index's port, and every crash, fault and exactly-once guarantee
must hold on both."""

from __future__ import annotations

import pytest

TRANSPORTS = ("grpc", "rest")


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    wire: str = request.param
    return wire
