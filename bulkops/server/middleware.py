"""What every HTTP answer of the local server goes through: the key check, Pinecone-shaped errors,
injected connection resets, a request ID, and the promise that nothing escapes as a crash.

Also the HTTP size limits both planes are built with (``app.py`` composes the applications).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from bulkops.server.admission import Admission, InjectedReset
from bulkops.server.auth import check_api_key
from bulkops.server.context import next_request_id
from bulkops.server.front import reset_connection
from bulkops.server.wire import ApiProblem, Plane, problem_response

__all__ = ["HANDLER_ARGS", "MAX_BODY_BYTES", "MAX_LINE_BYTES", "make_middleware"]

log = logging.getLogger("bulkops.server")

MAX_BODY_BYTES = 64 * 1024 * 1024  # so we answer oversize upserts ourselves, with Pinecone's 400
MAX_LINE_BYTES = 4 * 1024 * 1024  # fetch puts up to 1000 IDs of 512 characters in the query string
HANDLER_ARGS = {"max_line_size": MAX_LINE_BYTES, "max_field_size": MAX_LINE_BYTES}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP RST and no answer (an injected 'connection reset')."""
    if isinstance(request.transport, asyncio.Transport):
        reset_connection(request.transport)


def make_middleware(plane: Plane, api_key: str | None, admission: Admission | None = None) -> Middleware:
    """Key check, Pinecone-shaped errors, and the promise that nothing escapes as a crash."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if admission is not None:
            admission.begin_request()
        try:
            check_api_key(request.headers.get("Api-Key"), api_key)
            response = await handler(request)
            if admission is not None:
                await admission.after_work()
        except ApiProblem as problem:
            response = problem_response(problem, plane)
        except InjectedReset:
            _reset(request)
            response = web.Response(status=500)
        except web.HTTPException as exc:
            if exc.status == 413:
                text = f"Request body is larger than {MAX_BODY_BYTES} bytes."
            elif exc.status == 404:
                text = f"Not found: {request.method} {request.path}"
            elif exc.status == 405:
                text = f"Method {request.method} is not allowed on {request.path}"
            else:
                text = exc.reason
            response = problem_response(ApiProblem(exc.status, text), plane)
        except Exception as exc:  # never crash: a bug answers 500 and is logged
            log.exception("unhandled error on %s %s", request.method, request.path)
            response = problem_response(ApiProblem(500, f"Internal error: {type(exc).__name__}"), plane)
        response.headers["x-pinecone-request-id"] = next_request_id()
        return response

    return middleware
