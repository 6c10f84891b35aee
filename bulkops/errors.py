"""Every error bulkops raises, and the one table that maps an HTTP answer to it.

    BulkopsError
    ├── UsageError                      the caller asked for something invalid; nothing was sent
    ├── CheckpointError                 a checkpoint file cannot be used
    │   ├── CheckpointMismatchError     the checkpoint belongs to a different job
    │   └── CheckpointBusyError         another process is running the checkpoint's job right now
    ├── TransportError                  no HTTP answer: refused, reset, timed out
    │   └── RequestTimeoutError
    ├── RetryExhaustedError             retries, retry budget or the job deadline ran out
    ├── PartialJobError                 a job ended part-way; ``report`` says what it did
    │   ├── VerificationError           a purge's verification still found records, or a copy's a difference
    │   └── RecordRejectedError         an import stopped at a record the index refuses
    ├── WaitTimeoutError                an index, backup or restore job was not ready in time
    ├── ResourceFailedError             an index, backup or restore job ended in a failed state
    └── ApiError                        the server answered with a non-2xx status
        ├── BadRequestError             400, 422 and other 4xx without a class of their own
        ├── AuthenticationError         401
        ├── ForbiddenError              403
        │   └── DeletionProtectedError  403 because deletion protection is on
        ├── NotFoundError               404
        ├── ConflictError               409
        ├── PreconditionFailedError     412
        ├── RequestTooLargeError        413, 414, 431
        ├── RateLimitedError            429, with the limit's operation/scope and Retry-After
        └── ServerError                 5xx

Both Pinecone error bodies are understood: the control plane's
``{"error": {"code", "message"}, "status"}`` and the data plane's ``{"code": <int>, "message", "details"}``;
anything else (plain text, HTML from a proxy) is kept as the message, truncated.

A gRPC status is mapped to the HTTP status of the same family (:data:`GRPC_HTTP_STATUS`, beside the
HTTP table), so both transports raise the same classes and the same retry rules apply.

The official SDK's names (``pinecone.errors`` in SDK 10, and its older ``pinecone.exceptions`` names)
are aliases of these classes (:data:`SDK_NAMES`), so code written against the SDK's names catches
bulkops's errors: ``except bulkops.errors.RateLimitError`` is ``except RateLimitedError``. They are
bulkops's classes under a second name, not the SDK's classes: ``pinecone.errors.RateLimitError`` does
not catch them.

A message that names a parameter of the caller's (``max_delete``, ``prefix``...) holds it as a
:class:`Param` part, not as text: ``str(error)`` spells it as the library's keyword argument
(``max_delete=10``) and the CLI renders the same error with its option (``--max-delete 10``), so
neither side rewrites the other's words. ``error.param`` is the parameter the error is about.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

import orjson

__all__ = [
    "EXIT_CODES",
    "GRPC_HTTP_STATUS",
    "SDK_NAMES",
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "BulkopsError",
    "CheckpointBusyError",
    "CheckpointError",
    "CheckpointMismatchError",
    "ConflictError",
    "DeletionProtectedError",
    "FailedPreconditionError",
    "ForbiddenError",
    "ForbiddenException",
    "NotFoundError",
    "NotFoundException",
    "Param",
    "PartialJobError",
    "PayloadTooLargeError",
    "PineconeApiException",
    "PineconeApiValueError",
    "PineconeConnectionError",
    "PineconeError",
    "PineconeException",
    "PineconeTimeoutError",
    "PineconeValueError",
    "PreconditionFailedError",
    "RateLimitError",
    "RateLimitException",
    "RateLimitedError",
    "RecordRejectedError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "ResourceFailedError",
    "RetryExhaustedError",
    "ServerError",
    "ServiceError",
    "ServiceException",
    "TransportError",
    "UnauthorizedError",
    "UnauthorizedException",
    "UsageError",
    "VerificationError",
    "WaitTimeoutError",
    "error_from_grpc_status",
    "error_from_response",
    "redact",
]

_MAX_MESSAGE = 500

# Exit codes the CLI returns; documented in the README. Library errors carry the code they map to.
EXIT_CODES: Mapping[str, int] = {
    "ok": 0,
    "error": 1,
    "usage": 2,
    "partial": 3,  # the job ended but verification found leftovers, or some records were rejected
    "interrupted": 130,  # Ctrl-C: the checkpoint is flushed and the resume command printed
    "terminated": 143,  # SIGTERM (128 + 15), handled like Ctrl-C
}


_NO_VALUE: Any = object()


@dataclass(frozen=True, slots=True)
class Param:
    """A caller's parameter named inside an error message, with the value it was given (if shown).

    ``str(Param("max_delete", 10))`` is the library's spelling, ``max_delete=10``; the CLI spells the
    same part with its option, ``--max-delete 10``.
    """

    name: str
    value: Any = _NO_VALUE

    @property
    def has_value(self) -> bool:
        return self.value is not _NO_VALUE

    def __str__(self) -> str:
        return f"{self.name}={self.value!r}" if self.has_value else self.name


MessagePart = str | Param


class BulkopsError(Exception):
    """Root of every error bulkops raises.

    The message is given as parts: text, and :class:`Param` for each parameter it names. ``param``
    is the parameter the error is about (by default the first one named).
    """

    exit_code: ClassVar[int] = EXIT_CODES["error"]

    def __init__(self, *parts: MessagePart, param: str | None = None) -> None:
        self.parts: tuple[MessagePart, ...] = parts
        named = next((p.name for p in parts if isinstance(p, Param)), None)
        self.param: str | None = param if param is not None else named
        super().__init__(self.render())

    def render(self, spell: Callable[[Param], str] = str) -> str:
        """The message with every named parameter spelled by ``spell`` (default: as keyword arguments)."""
        return "".join(part if isinstance(part, str) else spell(part) for part in self.parts)


class UsageError(BulkopsError, ValueError):
    """The caller asked for something invalid. Raised before anything is sent or changed."""

    exit_code: ClassVar[int] = EXIT_CODES["usage"]


class CheckpointError(BulkopsError):
    """A checkpoint file is unreadable, corrupt, or cannot be written."""

    exit_code: ClassVar[int] = EXIT_CODES["usage"]


class CheckpointMismatchError(CheckpointError):
    """The checkpoint was written by a different job (another index, namespace, prefix or kind)."""


class CheckpointBusyError(CheckpointError):
    """Another process holds the checkpoint: two runs of one job at once would corrupt its output.

    ``pid`` and ``job`` name the other run, as it recorded itself (None / "" when it could not).
    """

    def __init__(self, *parts: MessagePart, pid: int | None = None, job: str = "") -> None:
        super().__init__(*parts)
        self.pid = pid
        self.job = job


class TransportError(BulkopsError):
    """No HTTP answer came back: connection refused or reset, DNS failure, timeout."""


class RequestTimeoutError(TransportError):
    """A request got no complete answer within its timeout."""


class RetryExhaustedError(BulkopsError):
    """A request kept failing until its attempts, the retry budget or the job deadline ran out."""

    def __init__(self, message: str, last_error: BaseException | None = None) -> None:
        super().__init__(message)
        self.last_error = last_error


ReportT = TypeVar("ReportT")


class PartialJobError(BulkopsError, Generic[ReportT]):
    """A job ended part-way: ``report`` (the job's report type) says what it did (exit code 3)."""

    exit_code: ClassVar[int] = EXIT_CODES["partial"]

    def __init__(self, *parts: MessagePart, report: ReportT, param: str | None = None) -> None:
        super().__init__(*parts, param=param)
        self.report: ReportT = report


class VerificationError(PartialJobError[ReportT]):
    """A purge's verification still found targeted records, or a copy's found the destination short or
    different; ``report`` is the job's."""


class RecordRejectedError(PartialJobError[ReportT]):
    """An import with ``on_error="stop"`` reached a record the index refuses (or would refuse).

    ``ordinal`` (0-based, across the input), ``location`` (``file line N`` / ``part row N``),
    ``record_id`` and ``reason`` say which record and why; ``report`` says which records went in.
    """

    def __init__(
        self,
        *parts: MessagePart,
        report: ReportT,
        ordinal: int,
        location: str,
        record_id: str | None,
        reason: str,
    ) -> None:
        super().__init__(*parts, report=report)
        self.ordinal = ordinal
        self.location = location
        self.record_id = record_id
        self.reason = reason


class WaitTimeoutError(BulkopsError):
    """An index, backup or restore job did not become ready within the wait's timeout.

    Exit code 1, not 3: the resource may still become ready; nothing the job did was left half done.
    """


class ResourceFailedError(BulkopsError):
    """An index, backup or restore job ended in a failed state while we waited for it."""


class ApiError(BulkopsError):
    """The server answered with a non-2xx status. ``code`` is Pinecone's code (string or gRPC int).

    Over gRPC, ``grpc_status`` names the status (``RESOURCE_EXHAUSTED``), ``status`` is the HTTP status
    of the same family (429) and ``url`` the method path (``/VectorService/Fetch``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | int | None = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        grpc_status: str | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.code = code
        self.request_id = request_id
        self.method = method
        self.url = url
        self.grpc_status = grpc_status
        super().__init__(self._render())

    def _render(self) -> str:
        rid = f" [request id {self.request_id}]" if self.request_id else ""
        if self.grpc_status:
            where = f" ({self.url})" if self.url else ""
            return f"gRPC {self.grpc_status} (HTTP {self.status}): {self.message}{where}{rid}"
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        code = f" {self.code}" if self.code is not None else ""
        return f"HTTP {self.status}{code}: {self.message}{where}{rid}"

    def redacted(self, secret: str) -> Self:
        """A copy with ``secret`` replaced in every text it shows (same class, same fields)."""
        clone = type(self).__new__(type(self))  # no __init__: subclasses take other arguments
        clone.__dict__.update(self.__dict__)
        clone.message = redact(self.message, secret)
        clone.url = redact(self.url, secret) if self.url else self.url
        clone.request_id = redact(self.request_id, secret) if self.request_id else self.request_id
        clone.args = (clone._render(),)
        clone.__cause__ = clone.__context__ = None
        return clone

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.message!r})"


class BadRequestError(ApiError):
    """400/422 or another 4xx: the request was malformed or invalid; retrying will not help."""


class AuthenticationError(ApiError):
    """401: the API key is missing or wrong."""


class ForbiddenError(ApiError):
    """403: not allowed (quota, permissions, or deletion protection)."""


class DeletionProtectedError(ForbiddenError):
    """403 because the index has deletion protection enabled."""


class NotFoundError(ApiError):
    """404: the index, namespace, backup or restore job does not exist."""


class ConflictError(ApiError):
    """409: the resource already exists."""


class PreconditionFailedError(ApiError):
    """412: e.g. a backup with a pending restore cannot be deleted."""


class RequestTooLargeError(ApiError):
    """413/414/431: the request body, URL or headers were too large; split the batch and retry."""


class RateLimitedError(ApiError):
    """429. ``operation``/``scope_kind``/``scope_name`` are what Pinecone's message names, filled in by
    the client's request loop (which reads the message once to slow down exactly that scope)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after: float | None = None,
        operation: str | None = None,
        scope_kind: str | None = None,
        scope_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.retry_after = retry_after
        self.operation = operation
        self.scope_kind = scope_kind
        self.scope_name = scope_name
        super().__init__(status, message, **kwargs)


class ServerError(ApiError):
    """5xx: the server failed; safe to retry idempotent requests."""


_STATUS_TABLE: Mapping[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: RequestTooLargeError,
    414: RequestTooLargeError,
    422: BadRequestError,
    429: RateLimitedError,
    431: RequestTooLargeError,
}


# gRPC status -> the HTTP status of the same family. Pinecone's REST error bodies carry the gRPC code of
# the same failure ({"code": 8} with a 429), and its gRPC plane answers the errors REST answers, so the
# same classes and retry rules apply over both. DEADLINE_EXCEEDED and CANCELLED are not answers but
# transport failures (RequestTimeoutError / TransportError), like a timeout or a reset over HTTP.
GRPC_HTTP_STATUS: Mapping[str, int] = {
    "OK": 200,
    "INVALID_ARGUMENT": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "FAILED_PRECONDITION": 412,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "CANCELLED": 499,
}
_GRPC_TRANSPORT_FAILURES: Mapping[str, type[TransportError]] = {
    "DEADLINE_EXCEEDED": RequestTimeoutError,
    "CANCELLED": TransportError,
}
# Statuses grpc itself produces on this side of the wire, told apart by its own wording: a message over
# the size limit is a request-too-large error (split the batch), not a rate limit; a connection that
# could not be made or was lost is a transport failure, not the server's 503.
_GRPC_TOO_LARGE_WORDS = ("larger than max",)
_GRPC_CONNECTION_WORDS = (
    "failed to connect",
    "errors resolving",
    "connection refused",
    "connection reset",
    "socket closed",
    "broken pipe",
    "connection attempt timed out",
    "handshake failed",
    "keepalive watchdog timeout",
    "goaway",
)


def error_from_grpc_status(
    status: str,
    message: str,
    *,
    path: str | None = None,
    retry_after: float | None = None,
    request_id: str | None = None,
) -> ApiError | TransportError:
    """The bulkops error for a failed gRPC call (``status`` is the name, e.g. ``"UNAVAILABLE"``).

    Returns the ApiError of the status's HTTP family (see :data:`GRPC_HTTP_STATUS`), or a
    TransportError when no answer came from the server (timeout, cancelled, connection failure).
    """
    lowered = message.lower()
    where = f" ({path})" if path else ""
    if status in _GRPC_TRANSPORT_FAILURES:
        return _GRPC_TRANSPORT_FAILURES[status](f"gRPC {status}: {message}{where}")
    if status == "UNAVAILABLE" and any(words in lowered for words in _GRPC_CONNECTION_WORDS):
        return TransportError(f"gRPC {status}: {message}{where}")
    http = GRPC_HTTP_STATUS.get(status, 500)
    common: dict[str, Any] = {
        "code": _GRPC_CODES.get(status),
        "request_id": request_id,
        "url": path,
        "grpc_status": status,
    }
    if status == "RESOURCE_EXHAUSTED" and any(words in lowered for words in _GRPC_TOO_LARGE_WORDS):
        return RequestTooLargeError(413, message, **common)
    cls = _class_for(http)
    if cls is RateLimitedError:
        return RateLimitedError(http, message, retry_after=retry_after, **common)
    if cls is ForbiddenError and "deletion protection" in lowered:
        cls = DeletionProtectedError
    return cls(http, message, **common)


# The numeric codes of the gRPC statuses (what Pinecone's REST bodies carry as "code").
_GRPC_CODES: Mapping[str, int] = {
    name: number
    for number, name in enumerate(
        [
            "OK",
            "CANCELLED",
            "UNKNOWN",
            "INVALID_ARGUMENT",
            "DEADLINE_EXCEEDED",
            "NOT_FOUND",
            "ALREADY_EXISTS",
            "PERMISSION_DENIED",
            "RESOURCE_EXHAUSTED",
            "FAILED_PRECONDITION",
            "ABORTED",
            "OUT_OF_RANGE",
            "UNIMPLEMENTED",
            "INTERNAL",
            "UNAVAILABLE",
            "DATA_LOSS",
            "UNAUTHENTICATED",
        ]
    )
}


# The official SDK's names -> bulkops's classes (SDK 10.2.0: pinecone.errors, and the older names it still
# exports from pinecone.exceptions). Each is also a module attribute, so ``from bulkops.errors import
# UnauthorizedError`` works.
SDK_NAMES: Mapping[str, type[BulkopsError]] = {
    "PineconeError": BulkopsError,  # the SDK's root of every error it raises
    "PineconeException": BulkopsError,
    "PineconeApiException": ApiError,
    "PineconeValueError": UsageError,
    "PineconeApiValueError": UsageError,
    "PineconeConnectionError": TransportError,
    "PineconeTimeoutError": RequestTimeoutError,
    "UnauthorizedError": AuthenticationError,
    "UnauthorizedException": AuthenticationError,
    "ForbiddenException": ForbiddenError,
    "NotFoundException": NotFoundError,
    "FailedPreconditionError": PreconditionFailedError,
    "PayloadTooLargeError": RequestTooLargeError,
    "RateLimitError": RateLimitedError,
    "RateLimitException": RateLimitedError,
    "ServiceError": ServerError,
    "ServiceException": ServerError,
}
PineconeError = BulkopsError
PineconeException = BulkopsError
PineconeApiException = ApiError
PineconeValueError = UsageError
PineconeApiValueError = UsageError
PineconeConnectionError = TransportError
PineconeTimeoutError = RequestTimeoutError
UnauthorizedError = AuthenticationError
UnauthorizedException = AuthenticationError
ForbiddenException = ForbiddenError
NotFoundException = NotFoundError
FailedPreconditionError = PreconditionFailedError
PayloadTooLargeError = RequestTooLargeError
RateLimitError = RateLimitedError
RateLimitException = RateLimitedError
ServiceError = ServerError
ServiceException = ServerError


def _class_for(status: int) -> type[ApiError]:
    if status in _STATUS_TABLE:
        return _STATUS_TABLE[status]
    if status >= 500:
        return ServerError
    return BadRequestError


def parse_error_body(body: bytes) -> tuple[str | int | None, str]:
    """Return ``(code, message)`` from either Pinecone error body, or the raw text for anything else."""
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict):
        inner = doc.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            code = inner.get("code")
            return (code if isinstance(code, str | int) else None), inner["message"]
        if isinstance(doc.get("message"), str):
            code = doc.get("code")
            return (code if isinstance(code, str | int) else None), doc["message"]
    text = body.decode("utf-8", errors="replace").strip()
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + "…"
    return None, text or "(empty body)"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; HTTP dates and junk give None."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def error_from_response(
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    method: str | None = None,
    url: str | None = None,
) -> ApiError:
    """Build the right ApiError subclass for a non-2xx answer (the one status → class table)."""
    headers = headers or {}
    code, message = parse_error_body(body)
    request_id = headers.get("x-pinecone-request-id") or headers.get("x-request-id")
    cls = _class_for(status)
    common: dict[str, Any] = {"code": code, "request_id": request_id, "method": method, "url": url}
    if cls is RateLimitedError:
        retry_after = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
        return RateLimitedError(status, message, retry_after=retry_after, **common)
    if cls is ForbiddenError and "deletion protection" in message.lower():
        cls = DeletionProtectedError
    return cls(status, message, **common)


def redact(text: str, secret: str | None) -> str:
    """Replace every occurrence of ``secret`` (the API key) in ``text``."""
    if not secret:
        return text
    return text.replace(secret, "***")
