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

from bulkops.server.problems import ApiProblem, codes_for

__all__ = [
    "DEFAULT_API_VERSION",
    "ApiProblem",
    "Plane",
    "api_version",
    "json_response",
    "parse_api_version",
    "problem_response",
    "read_json_object",
]

Plane = Literal["data", "control"]

# Pinecone answers requests without the header with its oldest supported stable version.
DEFAULT_API_VERSION = "2025-04"
_VERSION_RE = re.compile(r"^\d{4}-\d{2}$")


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
    codes = codes_for(problem.status)
    body: dict[str, Any]
    if plane == "data":
        body = {"code": codes.grpc, "message": problem.message, "details": []}
    else:
        body = {
            "error": {"code": problem.code or codes.name, "message": problem.message},
            "status": problem.status,
        }
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
    return parse_api_version(request.headers.get("X-Pinecone-Api-Version", ""))


def parse_api_version(raw: str) -> str:
    """An API version as sent (header or gRPC metadata): ``YYYY-MM``, the default when empty, else 400."""
    value = raw.strip()
    if not value:
        return DEFAULT_API_VERSION
    if not _VERSION_RE.match(value):
        raise ApiProblem(
            400, f"Invalid X-Pinecone-Api-Version {value!r}: expected YYYY-MM, e.g. 2025-04 or 2025-10."
        )
    return value
