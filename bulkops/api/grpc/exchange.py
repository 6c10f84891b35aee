"""One gRPC call as the executor's transport-neutral :class:`~bulkops.api.executor.Call`.

The request is serialized once, before the first attempt, so its size can weigh in the limiter (the
``bytes`` rows) and every attempt sends the same bytes. Each attempt's reply becomes an
:class:`~bulkops.api.executor.Answer`: OK carries the response bytes (decoded by the caller, as the
REST clients parse their JSON); a failure is classified by the gRPC table in :mod:`bulkops.errors`,
and a failure that is no answer at all (deadline, cancelled, connection lost) is raised as the
:class:`~bulkops.errors.TransportError` it maps to, as the REST transport raises its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from google.protobuf.message import DecodeError, Message

from bulkops.api.config import plain_http_error
from bulkops.api.executor import Answer, Call
from bulkops.api.grpc.transport import GrpcTransport
from bulkops.errors import ApiError, TransportError, error_from_grpc_status, parse_retry_after
from bulkops.limits.scoped import ScopedLimiter
from bulkops.protos.methods import METHODS

__all__ = ["decode", "grpc_call", "retry_after_of"]

M = TypeVar("M", bound=Message)


def retry_after_of(trailers: Mapping[str, str]) -> float | None:
    """A server's requested wait: a ``retry-after`` trailer in seconds (as the HTTP header), or gRPC's
    own ``grpc-retry-pushback-ms``."""
    seconds = parse_retry_after(trailers.get("retry-after"))
    if seconds is not None:
        return seconds
    millis = parse_retry_after(trailers.get("grpc-retry-pushback-ms"))
    return millis / 1000 if millis is not None else None


def grpc_call(
    transport: GrpcTransport,
    host: str,
    method: str,
    request: Message,
    *,
    operation: str,
    namespace: str = "",
    records: int = 0,
    limiter: ScopedLimiter | None = None,
) -> Call[bytes]:
    """A call of ``method`` (``"Fetch"``) at ``host``; its value is the serialized response message."""
    path = METHODS[method].path
    payload = request.SerializeToString()

    async def send(timeout: float) -> Answer[bytes]:
        reply = await transport.unary(host, path, payload, timeout=timeout)
        if reply.status == "OK":
            return Answer(200, reply.body, len(reply.body))
        retry_after = retry_after_of(reply.trailers)
        error = error_from_grpc_status(
            reply.status,
            reply.message,
            path=path,
            retry_after=retry_after,
            request_id=reply.trailers.get("x-pinecone-request-id"),
        )
        if isinstance(error, TransportError):
            raise plain_http_error(host, reply.message) or error
        return Answer(error.status, None, len(reply.body), error=error, retry_after=retry_after)

    return Call(operation, send, size=len(payload), namespace=namespace, records=records, limiter=limiter)


def decode(message_type: type[M], body: bytes, *, operation: str) -> M:
    """Parse an OK answer; bytes that are not the expected message are an ApiError naming the operation
    (not a protobuf exception from deep inside the client)."""
    try:
        return message_type.FromString(body)
    except DecodeError as exc:
        raise ApiError(
            200, f"the answer to {operation} is not a valid {message_type.__name__}: {exc}"
        ) from None
