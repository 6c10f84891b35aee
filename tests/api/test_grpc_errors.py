"""The gRPC status table (one table in bulkops.errors, beside the HTTP one) and what the client does with
its answers: the same classes as HTTP, retry hints from trailers, oversize answers split like a 413."""

from __future__ import annotations

import pytest

from bulkops.api import Client, GrpcReply, MockGrpcTransport, SentRpc
from bulkops.api.grpc.exchange import retry_after_of
from bulkops.errors import (
    GRPC_HTTP_STATUS,
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DeletionProtectedError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitedError,
    RequestTimeoutError,
    RequestTooLargeError,
    ServerError,
    TransportError,
    error_from_grpc_status,
)
from bulkops.limits.retry import RetryPolicy
from bulkops.protos import vector_service_pb2 as pb

FETCH = "/VectorService/Fetch"


@pytest.mark.parametrize(
    ("status", "http", "cls", "code"),
    [
        ("INVALID_ARGUMENT", 400, BadRequestError, 3),
        ("OUT_OF_RANGE", 400, BadRequestError, 11),
        ("UNAUTHENTICATED", 401, AuthenticationError, 16),
        ("PERMISSION_DENIED", 403, ForbiddenError, 7),
        ("NOT_FOUND", 404, NotFoundError, 5),
        ("ALREADY_EXISTS", 409, ConflictError, 6),
        ("ABORTED", 409, ConflictError, 10),
        ("FAILED_PRECONDITION", 412, PreconditionFailedError, 9),
        ("RESOURCE_EXHAUSTED", 429, RateLimitedError, 8),
        ("INTERNAL", 500, ServerError, 13),
        ("UNKNOWN", 500, ServerError, 2),
        ("DATA_LOSS", 500, ServerError, 15),
        ("UNIMPLEMENTED", 501, ServerError, 12),
        ("UNAVAILABLE", 503, ServerError, 14),
    ],
)
def test_each_status_maps_to_the_class_of_its_http_family(
    status: str, http: int, cls: type[ApiError], code: int
) -> None:
    error = error_from_grpc_status(status, "the server said so", path=FETCH, request_id="r-1")
    assert type(error) is cls
    assert isinstance(error, ApiError)
    assert (error.status, error.grpc_status, error.code, error.url) == (http, status, code, FETCH)
    assert GRPC_HTTP_STATUS[status] == http
    assert str(error) == f"gRPC {status} (HTTP {http}): the server said so ({FETCH}) [request id r-1]"


def test_retryable_statuses_are_the_http_families_retried() -> None:
    policy = RetryPolicy()
    retried = {
        s for s in GRPC_HTTP_STATUS if s != "OK" and policy.is_retryable(error_from_grpc_status(s, "x"))
    }
    assert retried == {
        "RESOURCE_EXHAUSTED",
        "INTERNAL",
        "UNKNOWN",
        "DATA_LOSS",
        "UNAVAILABLE",
        "DEADLINE_EXCEEDED",
        "CANCELLED",
    }


def test_deadline_and_cancel_are_transport_failures() -> None:
    assert type(error_from_grpc_status("DEADLINE_EXCEEDED", "Deadline Exceeded")) is RequestTimeoutError
    assert type(error_from_grpc_status("CANCELLED", "Cancelled on the server side")) is TransportError


@pytest.mark.parametrize(
    "message",
    [
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:9: Connection refused",
        "errors resolving idx.test:443: Domain name not found",
        "Socket closed",
        "recvmsg:Connection reset by peer",
        "Tls handshake failed (TSI_PROTOCOL_FAILURE): CERTIFICATE_VERIFY_FAILED",
    ],
)
def test_unavailable_without_an_answer_is_a_transport_error(message: str) -> None:
    error = error_from_grpc_status("UNAVAILABLE", message)
    assert type(error) is TransportError
    assert message in str(error)


def test_unavailable_from_the_server_is_its_503() -> None:
    error = error_from_grpc_status("UNAVAILABLE", "upstream connect error or disconnect/reset before headers")
    assert type(error) is ServerError
    assert error.status == 503


def test_grpc_s_own_message_size_refusal_is_a_request_too_large_not_a_rate_limit() -> None:
    message = "Received message larger than max (13000000 vs. 4194304)"
    error = error_from_grpc_status("RESOURCE_EXHAUSTED", message)
    assert type(error) is RequestTooLargeError
    assert error.status == 413


def test_a_rate_limit_keeps_its_retry_after_and_deletion_protection_its_class() -> None:
    limited = error_from_grpc_status("RESOURCE_EXHAUSTED", "Too many requests", retry_after=2.5)
    assert isinstance(limited, RateLimitedError)
    assert limited.retry_after == 2.5
    protected = error_from_grpc_status("PERMISSION_DENIED", "Deletion protection is enabled for this index")
    assert type(protected) is DeletionProtectedError


@pytest.mark.parametrize(
    ("trailers", "seconds"),
    [
        ({"retry-after": "1.5"}, 1.5),
        ({"grpc-retry-pushback-ms": "250"}, 0.25),
        ({"retry-after": "2", "grpc-retry-pushback-ms": "250"}, 2.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({}, None),
    ],
)
def test_retry_hints_from_trailers(trailers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_of(trailers) == seconds


def test_redacted_keeps_the_class_and_fields() -> None:
    error = error_from_grpc_status("RESOURCE_EXHAUSTED", "key sk-123 echoed", retry_after=1.0, path=FETCH)
    clean = error.redacted("sk-123")
    assert type(clean) is RateLimitedError
    assert isinstance(clean, RateLimitedError)
    assert (clean.message, clean.retry_after, clean.grpc_status) == (
        "key *** echoed",
        1.0,
        "RESOURCE_EXHAUSTED",
    )
    assert "sk-123" not in str(clean)
    assert "sk-123" in error.message  # the original is left alone


async def test_an_answer_over_the_message_limit_is_fetched_again_in_halves() -> None:
    sizes: list[int] = []

    def answer(rpc: SentRpc) -> GrpcReply:
        request = pb.FetchRequest.FromString(rpc.request)
        sizes.append(len(request.ids))
        if len(request.ids) > 250:
            return GrpcReply("RESOURCE_EXHAUSTED", message="Received message larger than max (9 vs. 4)")
        found = pb.FetchResponse(namespace=request.namespace)
        for record_id in request.ids:
            found.vectors[record_id].id = record_id
            found.vectors[record_id].values = b"\x00\x00\x80\x3f"  # 1.0
        return GrpcReply("OK", found.SerializeToString())

    ids = [f"id{i:04d}" for i in range(1000)]
    async with Client("k", "http://ctl.test", limits="none", transport=MockGrpcTransport(answer)) as client:
        found = await client.index_at("http://idx.test").fetch(ids, namespace="ns")
    assert sorted(found) == ids
    assert sizes == [1000, 500, 250, 250, 500, 250, 250]
    assert client.stats.total_retries == 0
    assert [float(v) for v in found["id0007"].values] == [1.0]
