"""The one-method seam between the clients and the network, and its aiohttp implementation.

:class:`Transport` sends one HTTP request and returns the whole answer; it neither retries nor
interprets statuses (that is :mod:`bulkops.api.executor`'s job). Low-level failures are mapped here, in
one table, to :class:`~bulkops.errors.TransportError` / :class:`~bulkops.errors.RequestTimeoutError`,
with the API key redacted from any message.

URLs arrive already percent-encoded (the fetch batcher measures the encoded length), so they are passed
to aiohttp as ``yarl.URL(..., encoded=True)`` and sent byte for byte.

aiohttp is imported, and the session opened, at the first request: a job that only speaks gRPC to an
index host it was given never loads it (~145 ms of CPU at every ``bulkops`` start).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bulkops.api.config import plain_http_error
from bulkops.api.scripted import Scripted
from bulkops.errors import RequestTimeoutError, TransportError, UsageError, redact

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AiohttpTransport", "HttpResponse", "MockTransport", "Transport"]


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete HTTP answer. ``headers`` lookups are case-insensitive for aiohttp answers."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    async def send(
        self, method: str, url: str, *, body: bytes | None = None, timeout: float | None = None
    ) -> HttpResponse:
        """Send one request; raise TransportError when no complete answer arrives."""
        ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """One aiohttp session (one connection pool) with the client's fixed headers."""

    def __init__(
        self,
        headers: Mapping[str, str],
        *,
        secret: str | None,
        max_connections: int = 100,
        timeout: float = 30.0,
        ssl_ca_certs: str | None = None,
    ) -> None:
        self._secret = secret
        self._timeout = timeout
        self._headers = dict(headers)
        self._max_connections = max_connections
        self._ssl_ca_certs = ssl_ca_certs
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        """The session, opened (and aiohttp imported) at the first request."""
        if self._session is None:
            import aiohttp

            # True: aiohttp's default verification against the system's roots; a CA file: trust it instead.
            ca_file = self._ssl_ca_certs
            tls: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
            limit = self._max_connections
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                connector=aiohttp.TCPConnector(limit=limit, limit_per_host=limit, ssl=tls),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                raise_for_status=False,
                auto_decompress=True,
                trust_env=True,  # HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as api.config.proxy_for reads them
            )
        return self._session

    async def send(
        self, method: str, url: str, *, body: bytes | None = None, timeout: float | None = None
    ) -> HttpResponse:
        if self.closed:
            raise UsageError("the Client was closed: use clients only inside its `async with` block")
        session = self._open()
        import aiohttp
        import yarl

        extra = {"Content-Type": "application/json"} if body is not None else None
        try:
            async with session.request(
                method,
                yarl.URL(url, encoded=True),
                data=body,
                headers=extra,
                timeout=aiohttp.ClientTimeout(total=timeout or self._timeout),
            ) as response:
                payload = await response.read()
                return HttpResponse(response.status, response.headers, payload)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            seconds = timeout or self._timeout
            message = f"{method} {_where(url)}: no complete answer within {seconds:g} s"
            raise RequestTimeoutError(redact(message, self._secret)) from None
        except aiohttp.ClientError as exc:
            if isinstance(exc, aiohttp.ClientSSLError) and (wrong := plain_http_error(url, str(exc))):
                raise wrong from None
            raise TransportError(
                redact(f"{method} {_where(url)}: {type(exc).__name__}: {exc}", self._secret)
            ) from None
        except OSError as exc:
            raise TransportError(redact(f"{method} {_where(url)}: {exc}", self._secret)) from None

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

    @property
    def closed(self) -> bool:
        return self._closed or (self._session is not None and self._session.closed)

    def __repr__(self) -> str:
        return f"AiohttpTransport(closed={self.closed})"


def _where(url: str) -> str:
    """The URL without its query string: logs and errors need the endpoint, not 1000 IDs."""
    return url.split("?", 1)[0]


@dataclass(frozen=True, slots=True)
class SentRequest:
    """What a :class:`MockTransport` was asked to send."""

    method: str
    url: str
    body: bytes | None
    timeout: float | None


class MockTransport(Scripted[SentRequest, HttpResponse]):
    """A transport for tests: ``handler(request)`` returns the answer (or an exception to raise).

    Every request is recorded in :attr:`sent`. Pair it with :class:`bulkops.clock.FakeClock` to test
    pacing and retries with exact times and no network.
    """

    async def send(
        self, method: str, url: str, *, body: bytes | None = None, timeout: float | None = None
    ) -> HttpResponse:
        return await self._answer(SentRequest(method, url, body, timeout))
