"""``bulkops serve`` as a child process, for crash tests and benchmarks.

The child's first stdout line is exactly ``bulkops serve listening on http://HOST:PORT`` (https with
TLS); the constructor waits for it (``READY_PREFIX``). ``kill()`` sends SIGKILL, ``stop()`` SIGTERM
then waits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from types import TracebackType
from typing import IO

__all__ = ["READY_PREFIX", "ServerProcess"]

READY_PREFIX = "bulkops serve listening on "


class ServerProcess:
    """Start ``python -m bulkops serve --port 0 *args`` and learn its URL."""

    def __init__(self, args: Sequence[str] = (), *, timeout: float = 30.0) -> None:
        command = [sys.executable, "-m", "bulkops", "serve", "--port", "0", *args]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.url = self._wait_for_url(timeout)
        # Keep draining stdout and stderr so the child never blocks on a full pipe.
        self.stderr_tail: deque[str] = deque(maxlen=200)  # last lines the server logged, for debugging
        self._drains = [
            threading.Thread(target=self._drain, args=(self._proc.stdout, None), daemon=True),
            threading.Thread(target=self._drain, args=(self._proc.stderr, self.stderr_tail), daemon=True),
        ]
        for thread in self._drains:
            thread.start()

    def _wait_for_url(self, timeout: float) -> str:
        result: list[str] = []

        def read_first_line() -> None:
            assert self._proc.stdout is not None
            result.append(self._proc.stdout.readline())

        reader = threading.Thread(target=read_first_line, daemon=True)
        reader.start()
        reader.join(timeout)
        line = result[0].strip() if result else ""
        if not line.startswith(READY_PREFIX):
            self.kill()
            stderr = self._proc.stderr.read() if self._proc.stderr else ""
            raise RuntimeError(f"bulkops serve did not start (first line {line!r}): {stderr[-2000:]}")
        return line[len(READY_PREFIX) :]

    @staticmethod
    def _drain(stream: IO[str] | None, sink: deque[str] | None) -> None:
        if stream is not None:
            with contextlib.suppress(ValueError, OSError):
                for line in stream:
                    if sink is not None:
                        sink.append(line)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def kill(self) -> None:
        """SIGKILL: no cleanup, like a crash."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait for a clean exit (SIGKILL after 10 s)."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        for thread in getattr(self, "_drains", []):
            thread.join(timeout=5)  # the child is gone: its pipes reach EOF
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
