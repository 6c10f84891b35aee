"""Control plane: indexes (create, list, describe, configure, delete); backups live in backups.py.

Create accepts the 2025-xx body (``dimension``, ``metric``, ``spec.serverless``) and the 2026-07 body
(``schema.fields._values`` + ``deployment``) whatever the version header; answers follow the header.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from bulkops.server.catalog import IndexMeta
from bulkops.server.context import (
    SERVER,
    ControlServer,
    index_or_404,
    missing_field,
    parse_tags,
    validate_index_name,
)
from bulkops.server.shapes import index_model
from bulkops.server.wire import ApiProblem, api_version, json_response, read_json_object

__all__ = ["add_index_routes"]

_METRICS = ("cosine", "euclidean", "dotproduct")
_CLOUDS = ("aws", "gcp", "azure")


def _server(request: web.Request) -> ControlServer:
    return request.app[SERVER]


def _protection(value: Any) -> str:
    if value is None:
        return "disabled"
    if value not in ("enabled", "disabled"):
        raise ApiProblem(400, f"deletion_protection must be 'enabled' or 'disabled', not {value!r}.")
    return str(value)


def _vector_shape(doc: dict[str, Any]) -> tuple[int | None, str, str]:
    """(dimension, metric, vector_type) from either create body."""
    schema = doc.get("schema")
    if isinstance(schema, dict) and isinstance(schema.get("fields"), dict):
        for field in schema["fields"].values():
            if isinstance(field, dict) and field.get("type") == "dense_vector":
                return _dense(field.get("dimension"), field.get("metric", "cosine"))
            if isinstance(field, dict) and field.get("type") == "sparse_vector":
                return None, "dotproduct", "sparse"
        raise ApiProblem(400, "schema.fields needs a dense_vector or sparse_vector field (e.g. _values).")
    if schema is not None and not isinstance(schema, dict):
        raise ApiProblem(422, "Failed to deserialize the JSON body: schema must be an object.")
    vector_type = doc.get("vector_type", "dense")
    if vector_type == "sparse":
        metric = doc.get("metric", "dotproduct")
        if metric != "dotproduct":
            raise ApiProblem(400, "Sparse vector indexes must use the metric dotproduct.")
        if doc.get("dimension") is not None:
            raise ApiProblem(400, "Sparse vector indexes must not have a dimension.")
        return None, "dotproduct", "sparse"
    if vector_type != "dense":
        raise ApiProblem(400, f"vector_type must be 'dense' or 'sparse', not {vector_type!r}.")
    if "dimension" not in doc:
        raise missing_field("dimension")
    return _dense(doc["dimension"], doc.get("metric", "cosine"))


def _dense(dimension: Any, metric: Any) -> tuple[int, str, str]:
    if not isinstance(dimension, int) or isinstance(dimension, bool) or not 1 <= dimension <= 20_000:
        raise ApiProblem(400, f"dimension must be an integer from 1 to 20000, not {dimension!r}.")
    if metric not in _METRICS:
        raise ApiProblem(400, f"metric must be one of {', '.join(_METRICS)}, not {metric!r}.")
    return dimension, str(metric), "dense"


def _placement(doc: dict[str, Any]) -> tuple[str, str]:
    deployment = doc.get("deployment")
    if isinstance(deployment, dict):
        kind = deployment.get("deployment_type", "managed")
        if kind != "managed":
            raise ApiProblem(400, f"Only managed (serverless) deployments are supported, not {kind!r}.")
        cloud, region = deployment.get("cloud", "aws"), deployment.get("region", "us-east-1")
    else:
        spec = doc.get("spec")
        if spec is None:
            if "schema" in doc:
                return "aws", "us-east-1"
            raise missing_field("spec")
        if not isinstance(spec, dict):
            raise ApiProblem(422, "Failed to deserialize the JSON body: spec must be an object.")
        if "serverless" not in spec:
            raise ApiProblem(
                400, "Only serverless indexes are supported: use spec.serverless {cloud, region}."
            )
        serverless = spec["serverless"]
        if not isinstance(serverless, dict):
            raise ApiProblem(422, "Failed to deserialize the JSON body: spec.serverless must be an object.")
        if "cloud" not in serverless:
            raise missing_field("cloud")
        if "region" not in serverless:
            raise missing_field("region")
        cloud, region = serverless["cloud"], serverless["region"]
    if cloud not in _CLOUDS:
        raise ApiProblem(400, f"cloud must be one of {', '.join(_CLOUDS)}, not {cloud!r}.")
    if not isinstance(region, str) or not region:
        raise ApiProblem(400, "region must be a non-empty string.")
    return str(cloud), region


async def create_index(request: web.Request) -> web.Response:
    server = _server(request)
    version = api_version(request)
    doc = await read_json_object(request, plane="control")
    name = validate_index_name(doc.get("name"))
    dimension, metric, vector_type = _vector_shape(doc)
    cloud, region = _placement(doc)
    protection = _protection(doc.get("deletion_protection"))
    tags = parse_tags(doc.get("tags"), allow_empty_values=False)
    if name in server.indexes:
        raise ApiProblem(409, "Resource already exists.")
    meta = IndexMeta(
        name=name,
        index_id=str(uuid.uuid4()),
        dimension=dimension,
        metric=metric,
        vector_type=vector_type,
        cloud=cloud,
        region=region,
        deletion_protection=protection,
        created_at=server.clock.wall(),
        tags=tags,
    )
    await server.add_index(meta)
    return json_response(index_model(meta, server.index_host(name), server.clock.wall(), version), 201)


async def list_indexes(request: web.Request) -> web.Response:
    server = _server(request)
    version, now = api_version(request), server.clock.wall()
    models = [
        index_model(server.indexes[name].context.meta, server.index_host(name), now, version)
        for name in sorted(server.indexes)
    ]
    return json_response({"indexes": models})


async def describe_index(request: web.Request) -> web.Response:
    server = _server(request)
    name = request.match_info["name"]
    meta = index_or_404(server, name)
    return json_response(
        index_model(meta, server.index_host(name), server.clock.wall(), api_version(request))
    )


async def configure_index(request: web.Request) -> web.Response:
    server = _server(request)
    version = api_version(request)
    name = request.match_info["name"]
    meta = index_or_404(server, name)
    doc = await read_json_object(request, plane="control")
    protection = _protection(doc["deletion_protection"]) if "deletion_protection" in doc else None
    tags = parse_tags(doc.get("tags"), allow_empty_values=True)
    embed = doc.get("embed")
    if embed is not None:
        if not isinstance(embed, dict) or not isinstance(embed.get("model"), str):
            raise ApiProblem(400, 'embed needs a model name, e.g. {"model": "llama-text-embed-v2", ...}.')
        field_map = embed.get("field_map")
        if field_map is not None and not isinstance(field_map, dict):
            raise ApiProblem(400, 'embed.field_map must be an object, e.g. {"text": "chunk_text"}.')
        if meta.embed is not None and meta.embed.get("model") != embed["model"]:
            raise ApiProblem(400, "The embedding model of an index cannot be changed once set.")
    if protection is not None:
        meta.deletion_protection = protection
    for key, value in tags.items():
        if value == "":
            meta.tags.pop(key, None)
        else:
            meta.tags[key] = value
    if embed is not None:
        merged = dict(meta.embed or {})
        merged.update(embed)
        merged.setdefault("metric", meta.metric)
        if meta.dimension is not None:
            merged.setdefault("dimension", meta.dimension)
        merged.setdefault("vector_type", meta.vector_type)
        meta.embed = merged
    server.catalog.save_index(meta)
    return json_response(index_model(meta, server.index_host(name), server.clock.wall(), version), 202)


async def delete_index(request: web.Request) -> web.Response:
    server = _server(request)
    name = request.match_info["name"]
    meta = index_or_404(server, name)
    if meta.deletion_protection == "enabled":
        raise ApiProblem(
            403, "Deletion protection is enabled for this index. Disable deletion protection before retrying."
        )
    await server.drop_index(name)
    return web.Response(status=202)


def add_index_routes(app: web.Application) -> None:
    app.router.add_get("/indexes", list_indexes)
    app.router.add_post("/indexes", create_index)
    app.router.add_get("/indexes/{name}", describe_index)
    app.router.add_patch("/indexes/{name}", configure_index)
    app.router.add_delete("/indexes/{name}", delete_index)
