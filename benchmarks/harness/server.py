"""The local server for one run, in its own process, with the run's knobs.

The server runs as ``bulkops serve`` in a separate process (``bulkops.server.process.ServerProcess``)
so it never shares an interpreter, a GIL or an event loop with the contender it serves; its CPU is
its own. Knobs: limit profile, injected latency (+ jitter), and a list page capped at 100 IDs — the
page size the bound is computed from, so no client can beat the bound by asking for bigger pages.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from benchmarks.harness import control
from benchmarks.harness.bounds import LIST_PAGE_IDS
from benchmarks.harness.spec import API_KEY

__all__ = ["BenchServer", "serve_args"]


def serve_args(
    data_dir: Path,
    *,
    latency_ms: float = 0.0,
    jitter_ms: float = 0.0,
    limits: str = "default",
    api_key: str = API_KEY,
) -> list[str]:
    """The ``bulkops serve`` options for one run."""
    return [
        "--data-dir",
        str(data_dir),
        "--api-key",
        api_key,
        "--limits",
        limits,
        "--latency",
        f"{latency_ms:g}:{jitter_ms:g}",
        "--list-page-max",
        str(LIST_PAGE_IDS),
    ]


class BenchServer:
    """``with BenchServer(dir, latency_ms=25) as s: s.index_host("bench")`` — stopped on exit.

    ``api_key``: the key the server accepts (a copy's target plays another project with its own key).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        limits: str = "default",
        api_key: str = API_KEY,
    ) -> None:
        self.api_key = api_key
        self._args = serve_args(
            data_dir, latency_ms=latency_ms, jitter_ms=jitter_ms, limits=limits, api_key=api_key
        )
        self._process: Any = None
        self.control_url = ""

    def __enter__(self) -> BenchServer:
        from bulkops.server.process import ServerProcess

        self._process = ServerProcess(self._args)  # returns once the server printed its URL
        self.control_url = str(self._process.url)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None

    def cpu_seconds(self) -> float:
        """CPU the server process has used so far (user + system): shows when the server saturates."""
        import psutil  # type: ignore[import-untyped]

        times = psutil.Process(self._process.pid).cpu_times()
        return float(times.user + times.system)

    def index_host(self, name: str) -> str:
        return control.describe_index_host(self.control_url, name, api_key=self.api_key)
