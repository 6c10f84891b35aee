"""SIGTERM handled like Ctrl-C: what ``docker stop``, Kubernetes and CI runners send before they kill.

A job run by :func:`run_cancellable` is cancelled on SIGTERM exactly as asyncio cancels it on Ctrl-C, so
the library flushes its checkpoint in its shielded scopes; the cancellation then surfaces as
:class:`Terminated`, which the CLI reports with the resume command and exit code 143 (128 + SIGTERM, what
a shell reports for a process killed by it).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["Terminated", "raise_on_sigterm", "run_cancellable"]

T = TypeVar("T")


class Terminated(BaseException):
    """The command was stopped by SIGTERM (a BaseException, like KeyboardInterrupt: nothing may swallow
    it on the way out)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def raise_on_sigterm() -> None:
    """Outside a job's event loop too (starting up, asking for confirmation), SIGTERM ends the command
    the way Ctrl-C does: as an exception the CLI reports (one line, exit 143), not a silent death."""
    signal.signal(signal.SIGTERM, _terminate)


def run_cancellable(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine on a fresh event loop; Ctrl-C raises KeyboardInterrupt, SIGTERM Terminated,
    each after the coroutine was cancelled and has unwound."""

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        terminated = False

        def on_sigterm() -> None:
            nonlocal terminated
            terminated = True
            task.cancel()

        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            return await factory()
        except asyncio.CancelledError:
            if terminated:
                raise Terminated from None
            raise
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    try:
        return asyncio.run(main())
    finally:
        signal.signal(signal.SIGTERM, previous)  # asyncio leaves SIG_DFL behind
