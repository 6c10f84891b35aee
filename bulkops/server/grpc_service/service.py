"""Pinecone's ``VectorService`` on a ``grpc.aio`` server, on the local server's own event loop.

The gRPC server listens on an internal loopback port; clients reach it through each index's host
(:mod:`bulkops.server.front`), and a call's peer tells which index it is for. Every call goes through
the same steps as a REST request in the data plane's middleware: the API key (``api-key`` metadata),
the API version (``x-pinecone-api-version``, as the REST header), the operation with its admission
(latency, faults, rate limits), then ``after-`` faults. A refusal aborts the call with the gRPC status
code of its HTTP status (:mod:`bulkops.server.problems`). Injected faults map as:

    500 -> INTERNAL, 503 -> UNAVAILABLE, 429 -> RESOURCE_EXHAUSTED (Pinecone's message naming the
    scope), reset -> the client's HTTP/2 connection is dropped with a TCP RST (every call on it
    fails, as with a real reset), stall -> the answer is held back (the client's deadline fires);
    after-KIND -> the work is done and committed, then the answer is replaced or lost the same way.

Messages up to 64 MB are accepted, so that Pinecone's own limits (2 MB upserts, 1000 IDs) answer
with Pinecone's INVALID_ARGUMENT messages rather than with a transport error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc

from bulkops.server.admission import Admission, InjectedReset
from bulkops.server.auth import check_api_key
from bulkops.server.context import IndexContext
from bulkops.server.front import PipeRegistry
from bulkops.server.grpc_service.handlers import HANDLERS, Handler
from bulkops.server.problems import ApiProblem
from bulkops.server.wire import parse_api_version

__all__ = ["MAX_MESSAGE_BYTES", "VectorService"]

log = logging.getLogger("bulkops.server")

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_STATUS = {code.value[0]: code for code in grpc.StatusCode}
_SERVICE = "VectorService"  # no proto package: the paths are /VectorService/<Method>


class VectorService:
    """The gRPC half of a local server: start it, then pipe index connections to ``port``."""

    def __init__(
        self,
        *,
        api_key: str | None,
        admission: Admission,
        pipes: PipeRegistry,
        index_context: Callable[[str], IndexContext | None],
    ) -> None:
        self._api_key = api_key
        self._admission = admission
        self._pipes = pipes
        self._index_context = index_context
        self._server: grpc.aio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", -1),
                ("grpc.so_reuseport", 0),
            ]
        )
        methods = {
            name: grpc.unary_unary_rpc_method_handler(self._bind(name, h)) for name, h in HANDLERS.items()
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(_SERVICE, methods),))
        self.port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        self._server = server
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=1.0)  # a stalled call must not hold up closing the server
            self._server = None

    def _bind(self, name: str, handler: Handler):  # type: ignore[no-untyped-def]
        async def call(raw: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            return await self._serve(name, handler, raw, context)

        return call

    async def _serve(
        self, name: str, handler: Handler, raw: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> bytes:
        pipe = self._pipes.by_peer(context.peer())
        if pipe is None:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "This port is internal to bulkops serve: connect to an index's host from describe_index.",
            )
        assert pipe is not None
        self._admission.begin_request()
        try:
            metadata = {
                key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)
            }
            check_api_key(metadata.get("api-key"), self._api_key)
            version = parse_api_version(metadata.get("x-pinecone-api-version", ""))
            ctx = self._index_context(pipe.index)
            if ctx is None:
                raise ApiProblem(404, f"Index {pipe.index} not found.")
            answer = await handler(ctx, raw, version)
            await self._admission.after_work()
        except ApiProblem as problem:
            await context.abort(_STATUS[problem.grpc_code], problem.message)
        except InjectedReset:
            pipe.reset()
            await context.abort(grpc.StatusCode.UNAVAILABLE, "Connection reset (injected fault).")
        except Exception as exc:  # never crash: a bug answers INTERNAL and is logged
            log.exception("unhandled error in gRPC %s", name)
            await context.abort(grpc.StatusCode.INTERNAL, f"Internal error: {type(exc).__name__}")
        return answer
