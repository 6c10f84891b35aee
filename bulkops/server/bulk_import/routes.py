"""The index host's bulk import endpoints (REST only; Pinecone has no gRPC for them), in the shapes of
Pinecone's data-plane API (``StartImportRequest``, ``ImportModel``, ``ListImportsResponse``):

- ``POST /bulk/imports`` ``{"uri", "integrationId"?, "errorMode": {"onError": "continue"|"abort"}?}``
  → ``{"id"}``. The URI is checked here (``s3://``, ``gs://`` or, on this server, ``file:///``); what
  needs the store (bucket, credentials, layout, namespaces) is checked by the job, which then fails.
- ``GET /bulk/imports?limit=1..100&paginationToken=`` → ``{"data": [...], "pagination": {"next"}}``
  (no ``pagination`` on the last page), oldest first.
- ``GET /bulk/imports/{id}`` → the import; ``DELETE /bulk/imports/{id}`` cancels it → ``{}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bulkops.errors import UsageError
from bulkops.server.bulk_import.jobs import BulkImports
from bulkops.server.catalog import ImportMeta
from bulkops.server.context import CONTEXT, decode_token, encode_token, parse_limit
from bulkops.server.problems import ApiProblem
from bulkops.server.shapes import iso
from bulkops.server.wire import json_response, read_json_object
from bulkops.storage import parse_uri

__all__ = ["IMPORTS", "add_import_routes", "import_model"]

IMPORTS = web.AppKey("bulk_imports", BulkImports)
ERROR_MODES = ("continue", "abort")
MAX_URI = 1500
MAX_INTEGRATION_ID = 1000
LIST_MAX = 100


def import_model(meta: ImportMeta, records: int, percent: float) -> dict[str, Any]:
    """The ``ImportModel`` JSON of one import."""
    doc: dict[str, Any] = {
        "id": meta.import_id,
        "uri": meta.uri,
        "status": meta.status,
        "createdAt": iso(meta.created_at),
        "percentComplete": percent,
        "recordsImported": records,
    }
    if meta.finished_at is not None:
        doc["finishedAt"] = iso(meta.finished_at)
    if meta.error is not None:
        doc["error"] = meta.error
    return doc


def _uri(doc: dict[str, Any]) -> str:
    uri = doc.get("uri")
    if uri is None:
        raise ApiProblem(400, "uri is required: the s3://BUCKET/DIR (or gs://, file:///) import directory.")
    if not isinstance(uri, str) or not 1 <= len(uri) <= MAX_URI:
        raise ApiProblem(400, f"uri must be a string of 1 to {MAX_URI} characters.")
    if "://" not in uri:
        raise ApiProblem(
            400, f"uri {uri[:80]!r} is not a URI: use s3://BUCKET/DIR, gs://BUCKET/DIR or file:///ABS/DIR."
        )
    try:
        parse_uri(uri)
    except UsageError as exc:
        raise ApiProblem(400, f"uri is not valid: {exc}") from None
    return uri


def _error_mode(doc: dict[str, Any]) -> str:
    mode = doc.get("errorMode")
    if mode is None:
        return "continue"
    if not isinstance(mode, dict):
        raise ApiProblem(400, 'errorMode must be an object like {"onError": "continue"}.')
    on_error = mode.get("onError", "continue")
    if not isinstance(on_error, str) or on_error.lower() not in ERROR_MODES:
        raise ApiProblem(400, f"errorMode.onError must be 'continue' or 'abort', not {on_error!r}.")
    return on_error.lower()


async def start_import(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    doc = await read_json_object(request, plane="data")
    uri, error_mode = _uri(doc), _error_mode(doc)
    integration = doc.get("integrationId")
    if integration is not None and (
        not isinstance(integration, str) or len(integration) > MAX_INTEGRATION_ID
    ):
        raise ApiProblem(400, f"integrationId must be a string of at most {MAX_INTEGRATION_ID} characters.")
    meta = request.app[IMPORTS].start(ctx, uri, error_mode, integration)
    return json_response({"id": meta.import_id})


async def list_imports(request: web.Request) -> web.Response:
    ctx, imports = request.app[CONTEXT], request.app[IMPORTS]
    limit = parse_limit(request.query.get("limit"), default=LIST_MAX, maximum=LIST_MAX, clamp=False)
    after = decode_token(request.query.get("paginationToken"), int)
    found = [m for m in imports.of_index(ctx.meta.index_id) if after is None or int(m.import_id) > after]
    page = found[:limit]
    body: dict[str, Any] = {"data": [import_model(m, *imports.progress(m)) for m in page]}
    if len(found) > limit:
        body["pagination"] = {"next": encode_token({"skip_past": int(page[-1].import_id)})}
    return json_response(body)


def _import_or_404(request: web.Request) -> ImportMeta:
    import_id = request.match_info["import_id"]
    meta = request.app[IMPORTS].get(request.app[CONTEXT].meta.index_id, import_id)
    if meta is None:
        raise ApiProblem(404, f"Import {import_id[:100]} not found.")
    return meta


async def describe_import(request: web.Request) -> web.Response:
    meta = _import_or_404(request)
    return json_response(import_model(meta, *request.app[IMPORTS].progress(meta)))


async def cancel_import(request: web.Request) -> web.Response:
    meta = _import_or_404(request)
    await request.app[IMPORTS].cancel(meta)
    return json_response({})


def add_import_routes(app: web.Application) -> None:
    app.router.add_post("/bulk/imports", start_import)
    app.router.add_get("/bulk/imports", list_imports)
    app.router.add_get("/bulk/imports/{import_id}", describe_import)
    app.router.add_delete("/bulk/imports/{import_id}", cancel_import)
