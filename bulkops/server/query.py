"""REST route for ``POST /query``: a thin adapter around :func:`bulkops.server.ops.query`."""

from __future__ import annotations

from aiohttp import web

from bulkops.server import ops
from bulkops.server.codec import wire_vector
from bulkops.server.context import CONTEXT
from bulkops.server.wire import api_version, json_response, read_json_object

__all__ = ["add_query_routes"]


async def query(request: web.Request) -> web.Response:
    doc = await read_json_object(request, plane="data")
    include_values = doc.get("includeValues", False) is True
    include_metadata = doc.get("includeMetadata", False) is True
    result = await ops.query(
        request.app[CONTEXT],
        namespace=doc.get("namespace"),
        version=api_version(request),
        top_k=doc.get("topK"),
        vector=doc.get("vector"),
        record_id=doc.get("id"),
        sparse=doc.get("sparseVector"),
        filter_doc=doc.get("filter"),
    )
    matches = []
    for record, score in result.matches:
        match = wire_vector(record, values=include_values, metadata=include_metadata)
        match["score"] = score
        matches.append(match)
    return json_response({"matches": matches, "namespace": result.namespace, "usage": {"readUnits": 1}})


def add_query_routes(app: web.Application) -> None:
    app.router.add_post("/query", query)
