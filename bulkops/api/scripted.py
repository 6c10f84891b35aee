"""What the two transport doubles share: a handler answers each request, and every request is kept.

:class:`~bulkops.api.rest.transport.MockTransport` (HTTP) and
:class:`~bulkops.api.grpc.transport.MockGrpcTransport` (gRPC) differ only in what a request and an
answer are; the handler may return the answer, an exception to raise, or an awaitable of either.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

__all__ = ["Scripted"]

RequestT = TypeVar("RequestT")
AnswerT = TypeVar("AnswerT")


@dataclass
class Scripted(Generic[RequestT, AnswerT]):
    """A test double's core: ``handler(request)`` gives the answer; :attr:`sent` records requests."""

    handler: Callable[[RequestT], AnswerT | BaseException | Awaitable[AnswerT | BaseException]]
    sent: list[RequestT] = field(default_factory=list)
    closed: bool = False

    async def _answer(self, request: RequestT) -> AnswerT:
        self.sent.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if isinstance(answer, BaseException):
            raise answer
        return cast(AnswerT, answer)

    async def aclose(self) -> None:
        self.closed = True
