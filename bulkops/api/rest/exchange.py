"""One HTTP request as the executor's transport-neutral :class:`~bulkops.api.executor.Call`.

The request loop does not know HTTP: each attempt calls the call's ``send``, which here sends through
the :class:`~bulkops.api.rest.transport.Transport` and turns the answer into an
:class:`~bulkops.api.executor.Answer`, classifying a non-2xx status with the HTTP table in
:mod:`bulkops.errors`. Both REST clients (control plane and data plane) build their calls here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulkops.api.executor import Answer, Call, RequestExecutor
from bulkops.api.rest.transport import HttpResponse, Transport
from bulkops.api.rest.wire import dumps, loads
from bulkops.errors import error_from_response, parse_retry_after
from bulkops.limits.scoped import ScopedLimiter

__all__ = ["http_call", "json_exchange"]


def http_call(
    transport: Transport,
    operation: str,
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    namespace: str = "",
    records: int = 0,
    limiter: ScopedLimiter | None = None,
    idempotent: bool = True,
) -> Call[HttpResponse]:
    """A call that sends ``method url`` with ``body`` on each attempt; its value is the 2xx answer."""

    async def send(timeout: float) -> Answer[HttpResponse]:
        response = await transport.send(method, url, body=body, timeout=timeout)
        received = len(response.body)
        if 200 <= response.status < 300:
            return Answer(response.status, response, received)
        error = error_from_response(
            response.status, response.body, response.headers, method=method, url=url.split("?", 1)[0]
        )
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return Answer(response.status, None, received, error=error, retry_after=retry_after)

    return Call(
        operation,
        send,
        size=len(body) if body is not None else 0,
        namespace=namespace,
        records=records,
        limiter=limiter,
        idempotent=idempotent,
    )


async def json_exchange(
    executor: RequestExecutor,
    transport: Transport,
    operation: str,
    method: str,
    url: str,
    *,
    body: Mapping[str, Any] | None = None,
    limiter: ScopedLimiter | None = None,
    idempotent: bool = True,
    answer_has_body: bool = True,
) -> Any:
    """Send a JSON body (or none) through the executor and read the JSON answer: what the control
    plane's and the bulk import's endpoints all do (``answer_has_body=False``: a 202 with nothing to
    read, whose value is ``{}``)."""
    call = http_call(
        transport,
        operation,
        method,
        url,
        body=dumps(body) if body is not None else None,
        limiter=limiter,
        idempotent=idempotent,
    )
    response = await executor.run(call)
    if not answer_has_body:
        return {}
    return loads(response.body, status=response.status, operation=operation)
