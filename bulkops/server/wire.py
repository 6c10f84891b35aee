"""JSON in and out, Pinecone-shaped errors, and API-version selection for the local server.

Handlers raise :class:`ApiProblem`; the middleware renders it in the shape of the plane that
answered: the data plane's ``rpcStatus`` (``{"code": <gRPC int>, "message", "details": []}``) or the
control plane's ``{"error": {"code", "message"}, "status"}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import orjson
from aiohttp import web

__all__ = [
    "DEFAULT_API_VERSION",
    "ApiProblem",
    "Plane",
    "api_version",
    "json_response",
    "problem_response",
    "read_json_object",
]

Plane = Literal["data", "control"]

# Pinecone answers requests without the header with its oldest supported stable version.
DEFAULT_API_VERSION = "2025-04"
_VERSION_RE = re.compile(r"^\d{4}-\d{2}$")

# HTTP status -> (control-plane code string, gRPC code number).
_CODES: Mapping[int, tuple[str, int]] = {
    400: ("INVALID_ARGUMENT", 3),
    401: ("UNAUTHENTICATED", 16),
    403: ("FORBIDDEN", 7),
    404: ("NOT_FOUND", 5),
    409: ("ALREADY_EXISTS", 6),
    412: ("FAILED_PRECONDITION", 9),
    413: ("INVALID_ARGUMENT", 3),
    422: ("UNPROCESSABLE_ENTITY", 3),
    429: ("RESOURCE_EXHAUSTED", 8),
    500: ("UNKNOWN", 13),
    503: ("UNAVAILABLE", 14),
}


class ApiProblem(Exception):
    """An error answer: HTTP status plus a message that says what was wrong."""

    def __init__(self, status: int, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def bad_request(message: str) -> ApiProblem:
    return ApiProblem(400, message)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def problem_response(problem: ApiProblem, plane: Plane) -> web.Response:
    name, number = _CODES.get(problem.status, ("UNKNOWN", 2))
    body: dict[str, Any]
    if plane == "data":
        body = {"code": number, "message": problem.message, "details": []}
    else:
        body = {"error": {"code": problem.code or name, "message": problem.message}, "status": problem.status}
    return json_response(body, problem.status)


async def read_json_object(request: web.Request, *, plane: Plane) -> dict[str, Any]:
    """The request body as a JSON object; a precise 400 (data) or 422 (control) otherwise."""
    raw = await request.read()
    status = 400 if plane == "data" else 422
    if not raw.strip():
        if plane == "control":
            return {}
        raise ApiProblem(status, "Request body is empty: send a JSON object.")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiProblem(status, f"Failed to deserialize the JSON body: {exc}") from None
    if not isinstance(doc, dict):
        raise ApiProblem(status, f"The JSON body must be an object, not {type(doc).__name__}.")
    return doc


def api_version(request: web.Request) -> str:
    """The ``X-Pinecone-Api-Version`` header (``YYYY-MM``), or the default when it is missing."""
    value = request.headers.get("X-Pinecone-Api-Version", "").strip()
    if not value:
        return DEFAULT_API_VERSION
    if not _VERSION_RE.match(value):
        raise ApiProblem(
            400, f"Invalid X-Pinecone-Api-Version {value!r}: expected YYYY-MM, e.g. 2025-04 or 2025-10."
        )
    return value
