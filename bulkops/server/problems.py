"""The one error a server operation raises, and the one table that says how each transport shows it.

Operations raise :class:`ApiProblem` with an HTTP status and a message. The REST adapters render it as
Pinecone's JSON error body (the data plane's ``{"code": <gRPC number>, ...}``, the control plane's
``{"error": {"code": <name>, ...}}``); the gRPC adapter aborts the call with the gRPC status code of
the same row. So a refusal reads the same over both transports: 429 is RESOURCE_EXHAUSTED (8) with
Pinecone's rate-limit message, 400 is INVALID_ARGUMENT (3), and so on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["STATUS_CODES", "ApiProblem", "StatusCodes", "codes_for"]


class StatusCodes(NamedTuple):
    """How one HTTP status is named: the control plane's code string and the gRPC status number."""

    name: str
    grpc: int


# HTTP status -> (control-plane code string, gRPC status code number). The numbers are grpc's own
# (3 INVALID_ARGUMENT, 5 NOT_FOUND, 7 PERMISSION_DENIED, 8 RESOURCE_EXHAUSTED, 13 INTERNAL, ...).
STATUS_CODES: Mapping[int, StatusCodes] = {
    400: StatusCodes("INVALID_ARGUMENT", 3),
    401: StatusCodes("UNAUTHENTICATED", 16),
    403: StatusCodes("FORBIDDEN", 7),
    404: StatusCodes("NOT_FOUND", 5),
    409: StatusCodes("ALREADY_EXISTS", 6),
    412: StatusCodes("FAILED_PRECONDITION", 9),
    413: StatusCodes("INVALID_ARGUMENT", 3),
    422: StatusCodes("UNPROCESSABLE_ENTITY", 3),
    429: StatusCodes("RESOURCE_EXHAUSTED", 8),
    500: StatusCodes("UNKNOWN", 13),
    501: StatusCodes("UNIMPLEMENTED", 12),
    503: StatusCodes("UNAVAILABLE", 14),
}
_OTHER = StatusCodes("UNKNOWN", 2)


def codes_for(status: int) -> StatusCodes:
    """The names of ``status`` (UNKNOWN / 2 for a status without a row)."""
    return STATUS_CODES.get(status, _OTHER)


class ApiProblem(Exception):
    """An error answer: HTTP status plus a message that says what was wrong.

    ``code`` overrides the control plane's code string (e.g. a more specific name than the table's).
    """

    def __init__(self, status: int, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code

    @property
    def grpc_code(self) -> int:
        """The gRPC status code number this problem is answered with over gRPC."""
        return codes_for(self.status).grpc
