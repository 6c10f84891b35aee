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


from tests.storage.s3server import s3, s3_server  # noqa: E402  (the S3-compatible store: object storage tests)

__all__ = ["s3", "s3_server", "transport"]
