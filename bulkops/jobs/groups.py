"""Errors out of a job's task group, raised as themselves rather than wrapped in an ExceptionGroup."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterator
from typing import ParamSpec, TypeVar

__all__ = ["raises_single_errors", "single_errors"]

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def single_errors() -> Iterator[None]:
    """Raise a task group's first error as itself (a BulkopsError, say), not inside an ExceptionGroup.

    Workers that fail together usually fail for one reason (the server is gone); the group stays
    attached as ``__cause__``.
    """
    try:
        yield
    except BaseExceptionGroup as group:
        errors = _leaves(group)
        if errors:
            raise errors[0] from group
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


def raises_single_errors(run: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """A job's entry point (``run_purge``...) under :func:`single_errors`: whatever task group fails deep
    inside (listing, counting, verifying), its caller gets the error itself, never an ExceptionGroup."""

    @functools.wraps(run)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with single_errors():
            return await run(*args, **kwargs)

    return wrapper
