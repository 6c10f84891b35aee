"""Progress bars for long jobs, fed by the library's progress callbacks — only on a terminal.

One bar per job: records done / total (when the total is known), rate, ETA, and the client's 429 and
retry counters. Off a terminal (pipes, CI, ``--json``, ``--quiet``) nothing is drawn and the callbacks
cost one attribute read.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bulkops.cli.output import Output
from bulkops.clock import SYSTEM_CLOCK

if TYPE_CHECKING:
    from bulkops.api import RequestEvent

__all__ = ["JobProgress"]


class JobProgress:
    """A context manager. The job's progress callback calls :meth:`update`; :meth:`on_request` is
    subscribed to the client's statistics for the 429 and retry counters."""

    def __init__(
        self,
        out: Output,
        description: str,
        *,
        total: int | None = None,
        on_first: Callable[[], None] | None = None,
    ) -> None:
        self._on_first = on_first
        self._enabled = out.interactive
        self._description = description
        self._total = total
        self._throttled = 0
        self._retries = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._base: tuple[float, int] | None = None
        self._phase: str | None = None
        if self._enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("[yellow]{task.fields[counters]}"),
                console=out.stderr,
                transient=False,
                refresh_per_second=8,
            )

    def __enter__(self) -> JobProgress:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(self._description, total=self._total, rate="", counters="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, *, done: int, total: int | None = None, phase: str | None = None) -> None:
        """Move the bar to ``done`` records (cumulative over resumed runs); ``total`` when known."""
        now = SYSTEM_CLOCK.now()
        if self._on_first is not None:
            callback, self._on_first = self._on_first, None
            callback()
        if self._base is None:
            self._base = (now, done)  # rate counts this run only, not what a resumed run inherited
        if self._progress is None or self._task is None:
            return
        start, first = self._base
        fields: dict[str, Any] = {"counters": self._counters()}
        if now - start > 0.5:
            fields["rate"] = f"{(done - first) / (now - start):,.0f}/s"
        if phase and phase != self._phase:
            self._phase = phase
            fields["description"] = f"{self._description} ({phase})"
        self._progress.update(self._task, completed=done, total=total, **fields)

    def set_wire(self, wire: str) -> None:
        """The data plane's transport, once the client picked it: the bar says ``… over grpc``."""
        self._description = f"{self._description} over {wire}"
        if self._progress is not None and self._task is not None:
            phase = f" ({self._phase})" if self._phase else ""
            self._progress.update(self._task, description=f"{self._description}{phase}")

    def set_total(self, total: int | None) -> None:
        """The number of records the job will handle, once known (bar and ETA)."""
        if total is None:
            return
        self._total = total
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)

    def on_request(self, event: RequestEvent) -> None:
        """The client's statistics hook: count 429s and retries for the bar."""
        if event.kind == "rate_limited":
            self._throttled += 1
        elif event.kind == "retry":
            self._retries += 1

    def _counters(self) -> str:
        parts = []
        if self._throttled:
            parts.append(f"429s {self._throttled:,}")
        if self._retries:
            parts.append(f"retries {self._retries:,}")
        return " ".join(parts)
