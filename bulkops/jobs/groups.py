"""Errors out of a job's task group, raised as themselves rather than wrapped in an ExceptionGroup."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["single_errors"]


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
