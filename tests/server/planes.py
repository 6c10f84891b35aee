"""One test client for an index's data plane over either transport, so a test about semantics runs
over REST and gRPC without being written twice.

Both clients take and return Pinecone's REST JSON shapes (camelCase, ``pagination`` absent on the
last page); the gRPC one converts its messages to them. Refusals raise :class:`PlaneError` with the
gRPC status code number, which the REST data plane's error body carries too (``{"code": 5, ...}``).
"""

from __future__ import annotations

from typing import Any, Protocol

import aiohttp
import grpc
import numpy as np
from google.protobuf import message as protobuf_message

from bulkops.protos import vector_service_pb2 as pb
from bulkops.protos.codec import floats_from_bytes, floats_to_bytes, struct_from_dict, struct_to_dict
from bulkops.protos.methods import METHODS

V2510 = "2025-10"
GRPC_OPTIONS = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]


class PlaneError(Exception):
    """A refused request: gRPC status code number (also in REST's body) and the message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message


class Plane(Protocol):
    transport: str

    async def upsert(self, vectors: list[dict[str, Any]], namespace: str | None = None) -> dict[str, Any]: ...
    async def fetch(self, ids: list[str], namespace: str | None = None) -> dict[str, Any]: ...
    async def list(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]: ...
    async def delete(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]: ...
    async def fetch_by_metadata(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]: ...
    async def update(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]: ...
    async def query(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]: ...
    async def stats(self, filter: dict[str, Any] | None = None) -> dict[str, Any]: ...
    async def list_namespaces(self, **kw: Any) -> dict[str, Any]: ...
    async def describe_namespace(self, name: str) -> dict[str, Any]: ...
    async def create_namespace(self, name: str) -> dict[str, Any]: ...
    async def delete_namespace(self, name: str) -> dict[str, Any]: ...
    async def close(self) -> None: ...


_CAMEL = {
    "token": "paginationToken",
    "delete_all": "deleteAll",
    "set_metadata": "setMetadata",
    "dry_run": "dryRun",
    "top_k": "topK",
    "include_values": "includeValues",
    "include_metadata": "includeMetadata",
    "sparse": "sparseValues",
}


def _body(namespace: str | None, kw: dict[str, Any]) -> dict[str, Any]:
    body = {_CAMEL.get(k, k): v for k, v in kw.items() if v is not None}
    if namespace is not None:
        body["namespace"] = namespace
    return body


class RestPlane:
    transport = "rest"

    def __init__(
        self, http: aiohttp.ClientSession, host: str, *, api_key: str | None = None, version: str = V2510
    ) -> None:
        self._http = http
        self._host = host
        self._headers = {"X-Pinecone-Api-Version": version} | ({"Api-Key": api_key} if api_key else {})

    async def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        async with self._http.request(method, self._host + path, headers=self._headers, **kw) as response:
            raw = await response.read()
            body: Any = await response.json(content_type=None) if raw else {}
            if response.status != 200:
                raise PlaneError(body["code"], body["message"])
            assert isinstance(body, dict)
            return body

    async def upsert(self, vectors: list[dict[str, Any]], namespace: str | None = None) -> dict[str, Any]:
        return await self._call("POST", "/vectors/upsert", json=_body(namespace, {"vectors": vectors}))

    async def fetch(self, ids: list[str], namespace: str | None = None) -> dict[str, Any]:
        params = [("ids", i) for i in ids] + ([("namespace", namespace)] if namespace is not None else [])
        return await self._call("GET", "/vectors/fetch", params=params)

    async def list(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        params = {k: str(v) for k, v in _body(namespace, kw).items()}
        return await self._call("GET", "/vectors/list", params=params)

    async def delete(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        return await self._call("POST", "/vectors/delete", json=_body(namespace, kw))

    async def fetch_by_metadata(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        return await self._call("POST", "/vectors/fetch_by_metadata", json=_body(namespace, kw))

    async def update(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        return await self._call("POST", "/vectors/update", json=_body(namespace, kw))

    async def query(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        return await self._call("POST", "/query", json=_body(namespace, kw))

    async def stats(self, filter: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._call("POST", "/describe_index_stats", json=_body(None, {"filter": filter}))

    async def list_namespaces(self, **kw: Any) -> dict[str, Any]:
        params = {k: str(v) for k, v in _body(None, kw).items()}
        return await self._call("GET", "/namespaces", params=params)

    async def describe_namespace(self, name: str) -> dict[str, Any]:
        return await self._call("GET", f"/namespaces/{name}")

    async def create_namespace(self, name: str) -> dict[str, Any]:
        return await self._call("POST", "/namespaces", json={"name": name})

    async def delete_namespace(self, name: str) -> dict[str, Any]:
        return await self._call("DELETE", f"/namespaces/{name}")

    async def close(self) -> None:
        return None


def vector_json(message: pb.Vector | pb.ScoredVector, *, values: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": message.id}
    if values:
        doc["values"] = floats_from_bytes(message.values).tolist()
    if message.HasField("sparse_values"):
        doc["sparseValues"] = {
            "indices": list(message.sparse_values.indices),
            "values": list(message.sparse_values.values),
        }
    if message.HasField("metadata"):
        doc["metadata"] = struct_to_dict(message.metadata)
    return doc


def _vector_message(doc: dict[str, Any]) -> pb.Vector:
    vector = pb.Vector(id=doc["id"], values=floats_to_bytes(np.asarray(doc.get("values", []), dtype="<f4")))
    if doc.get("metadata") is not None:
        struct_from_dict(doc["metadata"], vector.metadata)
    if doc.get("sparseValues") is not None:
        vector.sparse_values.indices.extend(doc["sparseValues"]["indices"])
        vector.sparse_values.values.extend(doc["sparseValues"]["values"])
    return vector


def _set_given(request: Any, kw: dict[str, Any], **fields: str) -> None:
    """Set ``request.<field>`` from ``kw[<key>]`` for each key given (not None)."""
    for key, field in fields.items():
        if kw.get(key) is not None:
            setattr(request, field, kw[key])


def _paged(doc: dict[str, Any], message: Any) -> dict[str, Any]:
    if message.HasField("pagination"):
        doc["pagination"] = {"next": message.pagination.next}
    return doc


class GrpcPlane:
    transport = "grpc"

    def __init__(
        self,
        host: str,
        *,
        api_key: str | None = None,
        version: str = V2510,
        root_certificates: bytes | None = None,
    ) -> None:
        scheme, _, target = host.partition("://")
        if scheme == "https":
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.aio.secure_channel(target, credentials, options=GRPC_OPTIONS)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=GRPC_OPTIONS)
        self._metadata = (("x-pinecone-api-version", version),) + ((("api-key", api_key),) if api_key else ())

    async def raw(self, method: str, payload: bytes) -> bytes:
        """Send ``payload`` as the request bytes of ``method``; the answer's bytes."""
        call = self._channel.unary_unary(f"/VectorService/{method}")
        try:
            answer: bytes = await call(payload, metadata=self._metadata, timeout=30)
        except grpc.aio.AioRpcError as exc:
            raise PlaneError(exc.code().value[0], exc.details() or "") from None
        return answer

    async def rpc(self, method: str, request: protobuf_message.Message) -> Any:
        return METHODS[method].response.FromString(await self.raw(method, request.SerializeToString()))

    async def upsert(self, vectors: list[dict[str, Any]], namespace: str | None = None) -> dict[str, Any]:
        request = pb.UpsertRequest(vectors=[_vector_message(v) for v in vectors], namespace=namespace or "")
        answer = await self.rpc("Upsert", request)
        return {"upsertedCount": answer.upserted_count}

    async def fetch(self, ids: list[str], namespace: str | None = None) -> dict[str, Any]:
        answer = await self.rpc("Fetch", pb.FetchRequest(ids=ids, namespace=namespace or ""))
        return {
            "vectors": {key: vector_json(v) for key, v in answer.vectors.items()},
            "namespace": answer.namespace,
            "usage": {"readUnits": answer.usage.read_units},
        }

    async def list(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        request = pb.ListRequest(namespace=namespace or "")
        _set_given(request, kw, prefix="prefix", limit="limit", token="pagination_token")
        answer = await self.rpc("List", request)
        doc = {"vectors": [{"id": v.id} for v in answer.vectors], "namespace": answer.namespace}
        return _paged(doc | {"usage": {"readUnits": answer.usage.read_units}}, answer)

    async def delete(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        request = pb.DeleteRequest(
            ids=kw.get("ids") or [], delete_all=bool(kw.get("delete_all")), namespace=namespace or ""
        )
        if kw.get("filter") is not None:
            struct_from_dict(kw["filter"], request.filter)
        await self.rpc("Delete", request)
        return {}

    async def fetch_by_metadata(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        request = pb.FetchByMetadataRequest(namespace=namespace or "")
        if kw.get("filter") is not None:
            struct_from_dict(kw["filter"], request.filter)
        _set_given(request, kw, limit="limit", token="pagination_token")
        answer = await self.rpc("FetchByMetadata", request)
        doc = {
            "vectors": {key: vector_json(v) for key, v in answer.vectors.items()},
            "namespace": answer.namespace,
            "usage": {"readUnits": answer.usage.read_units},
        }
        return _paged(doc, answer)

    async def update(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        request = pb.UpdateRequest(id=kw.get("id") or "", namespace=namespace or "")
        if kw.get("values") is not None:
            request.values = floats_to_bytes(kw["values"])
        if kw.get("set_metadata") is not None:
            struct_from_dict(kw["set_metadata"], request.set_metadata)
        if kw.get("filter") is not None:
            struct_from_dict(kw["filter"], request.filter)
        _set_given(request, kw, dry_run="dry_run")
        answer = await self.rpc("Update", request)
        return {"matchedRecords": answer.matched_records} if answer.HasField("matched_records") else {}

    async def query(self, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        request = pb.QueryRequest(
            namespace=namespace or "",
            top_k=kw.get("top_k") or 0,
            id=kw.get("id") or "",
            include_values=bool(kw.get("include_values")),
            include_metadata=bool(kw.get("include_metadata")),
        )
        if kw.get("vector") is not None:
            request.vector = floats_to_bytes(kw["vector"])
        if kw.get("filter") is not None:
            struct_from_dict(kw["filter"], request.filter)
        answer = await self.rpc("Query", request)
        matches = [
            vector_json(m, values=bool(kw.get("include_values"))) | {"score": m.score} for m in answer.matches
        ]
        return {"matches": matches, "namespace": answer.namespace}

    async def stats(self, filter: dict[str, Any] | None = None) -> dict[str, Any]:
        request = pb.DescribeIndexStatsRequest()
        if filter is not None:
            struct_from_dict(filter, request.filter)
        answer = await self.rpc("DescribeIndexStats", request)
        doc: dict[str, Any] = {
            "namespaces": {k: {"vectorCount": v.vector_count} for k, v in answer.namespaces.items()},
            "indexFullness": answer.index_fullness,
            "totalVectorCount": answer.total_vector_count,
            "metric": answer.metric,
            "vectorType": answer.vector_type,
        }
        if answer.HasField("dimension"):
            doc["dimension"] = answer.dimension
        return doc

    @staticmethod
    def _namespace(message: pb.NamespaceDescription) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": message.name, "record_count": message.record_count}
        if message.HasField("indexed_fields"):
            doc["indexed_fields"] = {"fields": list(message.indexed_fields.fields)}
        return doc

    async def list_namespaces(self, **kw: Any) -> dict[str, Any]:
        request = pb.ListNamespacesRequest()
        _set_given(request, kw, prefix="prefix", limit="limit", token="pagination_token")
        answer = await self.rpc("ListNamespaces", request)
        doc = {
            "namespaces": [self._namespace(n) for n in answer.namespaces],
            "total_count": answer.total_count,
        }
        return _paged(doc, answer)

    async def describe_namespace(self, name: str) -> dict[str, Any]:
        return self._namespace(
            await self.rpc("DescribeNamespace", pb.DescribeNamespaceRequest(namespace=name))
        )

    async def create_namespace(self, name: str) -> dict[str, Any]:
        return self._namespace(await self.rpc("CreateNamespace", pb.CreateNamespaceRequest(name=name)))

    async def delete_namespace(self, name: str) -> dict[str, Any]:
        await self.rpc("DeleteNamespace", pb.DeleteNamespaceRequest(namespace=name))
        return {}

    async def close(self) -> None:
        await self._channel.close()
