"""Scripted answers for the client's test doubles (``MockTransport`` for REST, ``MockGrpcTransport``).

:class:`Routes` is a ``MockTransport`` handler that answers by method and URL from queued answers, the
way a tiny server script would: each route serves its answers in order and repeats the last one when
asked to. :class:`Wire` hides which transport a test drives, so one test body runs over REST and gRPC
with the same scripted outcomes (an answer, a failed status, a lost connection, a timeout).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from bulkops.api import (
    Client,
    GrpcReply,
    HttpResponse,
    MockGrpcTransport,
    MockTransport,
    SentRequest,
    SentRpc,
)
from bulkops.errors import RequestTimeoutError, TransportError

Answer = HttpResponse | BaseException | Callable[[SentRequest], "HttpResponse | BaseException"]


def json_response(
    payload: Any = None, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    return HttpResponse(status, headers or {}, orjson.dumps({} if payload is None else payload))


def text_response(status: int, body: bytes | str, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, headers or {}, body.encode() if isinstance(body, str) else body)


@dataclass
class _Route:
    method: str
    url: str | re.Pattern[str]
    answers: deque[Answer]
    repeat: bool

    def matches(self, request: SentRequest) -> bool:
        if request.method != self.method:
            return False
        if isinstance(self.url, re.Pattern):
            return self.url.fullmatch(request.url) is not None
        return request.url == self.url


@dataclass
class Routes:
    """A ``MockTransport`` handler: ``routes.add("GET", url, answer, ...)``; unmatched requests fail."""

    routes: list[_Route] = field(default_factory=list)

    def add(self, method: str, url: str | re.Pattern[str], *answers: Answer, repeat: bool = False) -> Routes:
        self.routes.append(_Route(method, url, deque(answers), repeat))
        return self

    def __call__(self, request: SentRequest) -> HttpResponse | BaseException:
        for route in self.routes:
            if route.matches(request) and route.answers:
                answer = (
                    route.answers[0] if route.repeat and len(route.answers) == 1 else route.answers.popleft()
                )
                return answer(request) if callable(answer) else answer
        raise AssertionError(f"unexpected request: {request.method} {request.url}")


@asynccontextmanager
async def http1_host(handler: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[str]:
    """A real HTTP/1.1-only server (aiohttp) on 127.0.0.1, port 0, answering every path with
    ``handler``; yields its URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


# --- one script, two transports ----------------------------------------------------------------------


@dataclass(frozen=True)
class Fail:
    """A failed answer: ``http`` status over REST, ``grpc`` status over gRPC, the same message."""

    http: int
    grpc: str
    message: str = "failed"
    code: int = 0
    """Pinecone's numeric code in the REST body (the gRPC status's number)."""
    retry_after: float | None = None


@dataclass(frozen=True)
class Lost:
    """No answer: a reset connection (``timeout=False``) or a request that timed out."""

    timeout: bool = False
    text: str = "Connection reset by peer"


OK = "ok"
Outcome = str | Fail | Lost


class Wire:
    """Drives the data plane of a client over one transport with scripted outcomes, in order (the last
    one repeats). ``answer(request)`` may be replaced for content-aware scripts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.outcomes: deque[Outcome] = deque([OK])
        self.sent = 0

    def script(self, *outcomes: Outcome) -> Wire:
        self.outcomes = deque(outcomes)
        return self

    def _next(self) -> Outcome:
        self.sent += 1
        return self.outcomes[0] if len(self.outcomes) == 1 else self.outcomes.popleft()

    def client(self, **options: Any) -> Client:
        options.setdefault("api_key", "pcsk_wire_TEST_KEY")
        options.setdefault("controller_host", "http://ctl.test")
        options.setdefault("limits", "none")
        double: Any = (
            MockGrpcTransport(self._grpc_answer) if self.name == "grpc" else MockTransport(self._http_answer)
        )
        return Client(transport=double, **options)

    def _http_answer(self, request: SentRequest) -> HttpResponse | BaseException:
        outcome = self._next()
        if outcome == OK:
            return json_response({"upsertedCount": 1} if request.url.endswith("/upsert") else {})
        if isinstance(outcome, Lost):
            return (
                RequestTimeoutError("no answer within 30 s")
                if outcome.timeout
                else TransportError(outcome.text)
            )
        assert isinstance(outcome, Fail)
        headers = {"retry-after": f"{outcome.retry_after:g}"} if outcome.retry_after is not None else {}
        body = {"code": outcome.code, "message": outcome.message, "details": []}
        return json_response(body, outcome.http, headers)

    def _grpc_answer(self, rpc: SentRpc) -> GrpcReply:
        outcome = self._next()
        if outcome == OK:
            return GrpcReply("OK", b"\x08\x01" if rpc.method == "Upsert" else b"")
        if isinstance(outcome, Lost):
            if outcome.timeout:
                return GrpcReply("DEADLINE_EXCEEDED", message="Deadline Exceeded")
            peer = "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.1:443"
            return GrpcReply("UNAVAILABLE", message=f"{peer}: {outcome.text}")
        assert isinstance(outcome, Fail)
        trailers = {"retry-after": f"{outcome.retry_after:g}"} if outcome.retry_after is not None else {}
        return GrpcReply(outcome.grpc, message=outcome.message, trailers=trailers)
