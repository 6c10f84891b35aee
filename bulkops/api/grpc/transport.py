"""The one-method seam between the gRPC data plane and the network, its grpc.aio implementation, a mock.

:class:`GrpcTransport` makes one unary call with an already serialized request and returns the whole
answer as a :class:`GrpcReply` (the status name, the response bytes, the status message and trailers);
it neither retries nor interprets statuses, exactly like the REST :class:`~bulkops.api.rest.transport.
Transport` (the request loop in :mod:`bulkops.api.executor` does that for both).

:class:`AioGrpcTransport` keeps two ``grpc.aio`` channels per index host, on separate connections: one
for the calls that carry records (``Fetch``, ``FetchByMetadata``, ``Query``, ``Upsert``: megabytes
each) and one for the rest (``List``, stats, deletes: a few kilobytes). On one connection a list answer
waited behind the bytes of a 6.5 MB fetch answer (TCP delivers in order), so an export's list chains
fell behind the list budget; with the lanes apart, a 1536-dimension export left the budget idle
~80 ms per run instead of ~410 ms (four alternating runs each).

- ``https://`` hosts use TLS (the system's root certificates, or the CA file the caller gives),
  ``http://`` hosts plaintext HTTP/2 (h2c), as the local server speaks it;
- messages up to 64 MiB each way: a 1,000-record fetch at dimension 3072 is ~13 MB, and grpc's
  default limit (4 MB) would refuse it;
- grpc's own retries are off: the executor retries with its budget, pacing and deadline, and one
  layer of retries is the only way to keep counts and waits honest;
- a proxy from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (either case) by the same rule as the REST
  client (:func:`bulkops.api.config.proxy_for`), given to grpc as ``grpc.http_proxy``: grpc's own
  environment handling reads only the lowercase names (it is left alone when ``grpc_proxy`` or
  ``no_grpc_proxy`` is set);
- the API key and API version travel as call metadata (``api-key``, ``x-pinecone-api-version``, as
  Pinecone's SDKs send them), the user agent as the channel's primary user agent.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import grpc
import grpc.aio

from bulkops.api.config import proxy_for
from bulkops.api.scripted import Scripted
from bulkops.errors import UsageError

__all__ = [
    "MAX_MESSAGE_BYTES",
    "AioGrpcTransport",
    "GrpcReply",
    "GrpcTransport",
    "MockGrpcTransport",
    "SentRpc",
    "channel_target",
]

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_KEEPALIVE_MS = 60_000  # ping a connection idle this long while calls are open (servers refuse faster)
_KEEPALIVE_TIMEOUT_MS = 20_000
_RECONNECT_MS = (100, 2_000)  # first and longest wait before reconnecting a lost connection
# Methods whose messages carry records: they get the host's second channel (see the module docstring).
_RECORD_METHODS = ("/Fetch", "/FetchByMetadata", "/Query", "/Upsert")


@dataclass(frozen=True, slots=True)
class GrpcReply:
    """A complete gRPC answer: ``status`` is the status name (``"OK"``, ``"UNAVAILABLE"``, ...)."""

    status: str
    body: bytes = b""
    """The serialized response message (OK only)."""
    message: str = ""
    """The status message (details) of a failed call."""
    trailers: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class GrpcTransport(Protocol):
    async def unary(self, host: str, path: str, request: bytes, *, timeout: float | None = None) -> GrpcReply:
        """Call ``path`` (``/VectorService/Fetch``) at index ``host`` (a URL with scheme) once."""
        ...

    async def aclose(self) -> None: ...


def channel_target(host: str) -> tuple[str, bool]:
    """``("name:port", secure)`` for an index host URL: https → TLS on 443 unless a port is given."""
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"host {host!r} must be an http:// or https:// URL with a host name")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{name}:{port}", secure


def _root_certificates(ca_file: str | None) -> bytes | None:
    """The PEM roots to trust: the caller's CA file, else the system's bundle, else grpc's own."""
    if ca_file:
        return Path(ca_file).read_bytes()
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_bytes()
    return None


_GRPC_OWN_PROXY_NAMES = ("grpc_proxy", "no_grpc_proxy")  # grpc's own names (lowercase only)


def _proxy_options(host: str) -> list[tuple[str, Any]]:
    """The channel's proxy, by the REST client's rule; grpc's own rule when the grpc-only names are set."""
    if any(os.environ.get(name) for name in _GRPC_OWN_PROXY_NAMES):
        return []
    proxy = proxy_for(host)
    return [("grpc.http_proxy", proxy)] if proxy else [("grpc.enable_http_proxy", 0)]


class AioGrpcTransport:
    """Two ``grpc.aio`` channels per index host (records, the rest), created on first use, closed by
    :meth:`aclose`."""

    def __init__(
        self,
        metadata: Mapping[str, str],
        *,
        user_agent: str,
        ssl_ca_certs: str | None = None,
    ) -> None:
        self._metadata = tuple(metadata.items())
        self._user_agent = user_agent
        self._ssl_ca_certs = ssl_ca_certs
        self._credentials: grpc.ChannelCredentials | None = None
        self._channels: dict[tuple[str, str], grpc.aio.Channel] = {}
        self._methods: dict[tuple[str, str], Any] = {}
        self._closed = False

    def _options(self) -> list[tuple[str, Any]]:
        return [
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.enable_retries", 0),
            ("grpc.keepalive_time_ms", _KEEPALIVE_MS),
            ("grpc.keepalive_timeout_ms", _KEEPALIVE_TIMEOUT_MS),
            ("grpc.keepalive_permit_without_calls", 0),
            # After a lost connection, grpc waits before reconnecting (up to 2 minutes by default) and
            # fails every call at once meanwhile; the executor's retries would burn out against that.
            ("grpc.initial_reconnect_backoff_ms", _RECONNECT_MS[0]),
            ("grpc.min_reconnect_backoff_ms", _RECONNECT_MS[0]),
            ("grpc.max_reconnect_backoff_ms", _RECONNECT_MS[1]),
            ("grpc.primary_user_agent", self._user_agent),
        ]

    def _channel(self, host: str, lane: str) -> grpc.aio.Channel:
        """The channel of ``host`` for ``lane`` ("records" or "small"). Each channel keeps its own
        connection: channels with equal options would share one from grpc's global pool."""
        channel = self._channels.get((host, lane))
        if channel is None:
            target, secure = channel_target(host)
            options = [*self._options(), *_proxy_options(host), ("grpc.use_local_subchannel_pool", 1)]
            if secure:
                if self._credentials is None:
                    roots = _root_certificates(self._ssl_ca_certs)
                    self._credentials = grpc.ssl_channel_credentials(root_certificates=roots)
                channel = grpc.aio.secure_channel(target, self._credentials, options=options)
            else:
                channel = grpc.aio.insecure_channel(target, options=options)
            self._channels[host, lane] = channel
        return channel

    def _method(self, host: str, path: str) -> Any:
        key = (host, path)
        method = self._methods.get(key)
        if method is None:
            # No serializers: the request goes out as the bytes given, the answer comes back as bytes
            # (the caller measured the request for its limiter and decodes the answer itself).
            lane = "records" if path.endswith(_RECORD_METHODS) else "small"
            method = self._methods[key] = self._channel(host, lane).unary_unary(
                path, request_serializer=None, response_deserializer=None
            )
        return method

    async def unary(self, host: str, path: str, request: bytes, *, timeout: float | None = None) -> GrpcReply:
        if self._closed:
            raise UsageError("the Client was closed: use clients only inside its `async with` block")
        try:
            body = await self._method(host, path)(request, timeout=timeout, metadata=self._metadata)
        except grpc.aio.AioRpcError as exc:
            return GrpcReply(exc.code().name, b"", exc.details() or "", _text_trailers(exc))
        return GrpcReply("OK", bytes(body))

    async def aclose(self) -> None:
        self._closed = True
        channels, self._channels = self._channels, {}
        self._methods.clear()
        for channel in channels.values():
            await channel.close(grace=None)

    def __repr__(self) -> str:
        return f"AioGrpcTransport(channels={len(self._channels)}, closed={self._closed})"


def _text_trailers(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """A failed call's trailing metadata (text keys only; ``-bin`` keys carry bytes)."""
    pairs: Any = error.trailing_metadata() or ()
    return {str(key): value for key, value in pairs if isinstance(value, str)}


@dataclass(frozen=True, slots=True)
class SentRpc:
    """What a :class:`MockGrpcTransport` was asked to send."""

    host: str
    path: str
    request: bytes
    timeout: float | None

    @property
    def method(self) -> str:
        """The method name (``Fetch``)."""
        return self.path.rsplit("/", 1)[-1]


class MockGrpcTransport(Scripted[SentRpc, GrpcReply]):
    """A gRPC transport for tests: ``handler(rpc)`` returns the reply (or an exception to raise).

    Every call is recorded in :attr:`sent`. Pair it with :class:`bulkops.clock.FakeClock` to test
    pacing, status mapping and retries over gRPC with exact times and no network.
    """

    async def unary(self, host: str, path: str, request: bytes, *, timeout: float | None = None) -> GrpcReply:
        return await self._answer(SentRpc(host, path, request, timeout))
