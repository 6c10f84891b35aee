"""One listening socket per index that speaks both REST (HTTP/1.1) and gRPC (HTTP/2), like Pinecone's
index hosts, so ``describe_index``'s host works for either client.

Each accepted connection is sniffed: an HTTP/2 connection starts with the client preface
``PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n``, which no HTTP/1.1 request does. HTTP/1.1 connections are
handed, with the bytes read so far, to the index's aiohttp request handler (the transport changes
protocol in place: no copy, no extra hop). HTTP/2 connections are piped, byte for byte, to the
server's ``grpc.aio`` server on an internal loopback port (:class:`GrpcPipe`), with flow control in
both directions (reading pauses while the other side's write buffer is full).

With TLS the socket terminates TLS first (ALPN ``http/1.1`` then ``h2``: a client offering both, like
curl, gets HTTP/1.1, which is what serves REST here; gRPC clients offer only ``h2``); the decrypted
bytes are sniffed the same way.

The gRPC server sees each pipe's upstream socket as the call's peer, so :class:`PipeRegistry` maps a
call back to its index and its client connection (to reset it for an injected fault).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct

from aiohttp import web

__all__ = ["PREFACE", "GrpcPipe", "IndexFront", "PipeRegistry", "reset_connection"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_WRITE_HIGH_WATER = 1024 * 1024  # bytes buffered for a slow reader before the other side pauses


def reset_connection(transport: asyncio.Transport) -> None:
    """Close with a TCP RST (SO_LINGER 0) and no more bytes: an injected 'connection reset'."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class PipeRegistry:
    """gRPC connections in flight, by the local port of their upstream socket: what the gRPC server
    reports as a call's peer (``ipv4:127.0.0.1:PORT``)."""

    def __init__(self) -> None:
        self._by_port: dict[int, GrpcPipe] = {}

    def add(self, port: int, pipe: GrpcPipe) -> None:
        self._by_port[port] = pipe

    def remove(self, port: int) -> None:
        self._by_port.pop(port, None)

    def by_peer(self, peer: str) -> GrpcPipe | None:
        _, _, port = peer.rpartition(":")
        return self._by_port.get(int(port)) if port.isdigit() else None


class _PipeEnd(asyncio.Protocol):
    """One end of a :class:`GrpcPipe`: the client's connection (once it is known to be HTTP/2) or
    the pipe's connection to the gRPC server (``upstream``). Bytes read at one end go out the other."""

    def __init__(self, pipe: GrpcPipe, *, upstream: bool) -> None:
        self._pipe = pipe
        self._upstream = upstream

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._pipe.upstream_made(transport)  # only the upstream end is connected by the pipe itself

    def data_received(self, data: bytes) -> None:
        if self._upstream:
            self._pipe.to_client(data)
        else:
            self._pipe.to_upstream(data)

    def eof_received(self) -> bool:
        self._pipe.close()
        return False

    def pause_writing(self) -> None:  # this end's write buffer is full: stop reading the other end
        self._pipe.pause(upstream=not self._upstream)

    def resume_writing(self) -> None:
        self._pipe.resume(upstream=not self._upstream)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._pipe.lost(exc)


class GrpcPipe:
    """One client HTTP/2 connection piped to the gRPC server, on behalf of index ``index``."""

    def __init__(self, front: IndexFront, client: asyncio.Transport, head: bytes) -> None:
        self.front = front
        self.index = front.index
        self._client = client
        self._upstream: asyncio.Transport | None = None
        self._pending: list[bytes] = [head]  # client bytes read before the upstream connection is up
        self._port: int | None = None
        self._done = False
        client.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        client.set_protocol(_PipeEnd(self, upstream=False))
        client.pause_reading()

    async def connect(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: _PipeEnd(self, upstream=True), "127.0.0.1", port)
        except OSError:
            self.reset()

    def upstream_made(self, upstream: asyncio.Transport) -> None:
        if self._done:
            upstream.abort()
            return
        self._upstream = upstream
        upstream.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        self._port = int(upstream.get_extra_info("sockname")[1])
        self.front.pipes.add(self._port, self)
        upstream.write(b"".join(self._pending))
        self._pending.clear()
        if not self._client.is_closing():
            self._client.resume_reading()

    def to_upstream(self, data: bytes) -> None:
        if self._upstream is None:
            self._pending.append(data)
        else:
            self._upstream.write(data)

    def to_client(self, data: bytes) -> None:
        self._client.write(data)

    def pause(self, *, upstream: bool) -> None:
        """Stop reading the upstream end (or the client end)."""
        source = self._upstream if upstream else self._client
        if source is not None and not source.is_closing():
            source.pause_reading()

    def resume(self, *, upstream: bool) -> None:
        source = self._upstream if upstream else self._client
        if source is not None and not source.is_closing():
            source.resume_reading()

    def _finish(self) -> None:
        self._done = True
        if self._port is not None:
            self.front.pipes.remove(self._port)
        self.front.live.discard(self)

    def close(self) -> None:
        """Close both sides once their buffered bytes are written (an orderly end)."""
        self._finish()
        self._client.close()
        if self._upstream is not None:
            self._upstream.close()

    def lost(self, exc: BaseException | None) -> None:
        """One side is gone: end the other the same way (gracefully, or abruptly after an error)."""
        if exc is None:
            self.close()
        else:
            self._finish()
            self._client.abort()
            if self._upstream is not None:
                self._upstream.abort()

    def reset(self) -> None:
        """Drop the client's connection with a TCP RST (an injected 'connection reset')."""
        self._finish()
        reset_connection(self._client)
        if self._upstream is not None:
            self._upstream.abort()


class _Sniffer(asyncio.Protocol):
    """A new connection until its first bytes show which protocol it speaks."""

    def __init__(self, front: IndexFront) -> None:
        self._front = front
        self._transport: asyncio.Transport | None = None
        self._head = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        head = self._head + data
        seen = min(len(head), len(PREFACE))
        if head[:seen] != PREFACE[:seen]:
            self._front.to_http(self._transport, head)
        elif len(head) >= len(PREFACE):
            self._front.to_grpc(self._transport, head)
        else:
            self._head = head

    def eof_received(self) -> bool:
        return False


class IndexFront:
    """The listening socket of index ``index``: REST to ``runner``'s app, gRPC to ``grpc_port``."""

    def __init__(self, index: str, runner: web.AppRunner, grpc_port: int, pipes: PipeRegistry) -> None:
        self.index = index
        self.pipes = pipes
        self.live: set[GrpcPipe] = set()
        self._runner = runner
        self._grpc_port = grpc_port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int, tls: ssl.SSLContext | None) -> int:
        """Listen on ``host:port`` (0 = any free port); returns the port. OSError if it is taken."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Sniffer(self), host, port, ssl=tls, reuse_address=True
        )
        return int(self._server.sockets[0].getsockname()[1])

    def to_http(self, transport: asyncio.Transport, head: bytes) -> None:
        factory = self._runner.server
        if factory is None:  # the index is closing
            transport.abort()
            return
        handler = factory()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        handler.data_received(head)

    def to_grpc(self, transport: asyncio.Transport, head: bytes) -> None:
        pipe = GrpcPipe(self, transport, head)
        self.live.add(pipe)
        task = asyncio.get_running_loop().create_task(pipe.connect(self._grpc_port))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop listening and drop the gRPC connections (the REST ones close with the runner)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for pipe in list(self.live):
            pipe.lost(ConnectionAbortedError())
        for task in list(self._tasks):
            task.cancel()
