"""Progress bars for long jobs, fed by the library's progress callbacks — only on a terminal.

One bar per job: records done / total (when the total is known), rate, ETA, and the client's 429 and
retry counters. Off a terminal (pipes, CI, ``--json``, ``--quiet``) nothing is drawn and the callbacks
cost one attribute read.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

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

__all__ = ["JobProgress"]


class JobProgress:
    """A context manager; pass :meth:`on_progress` to the library as its ``progress`` callback."""

    def __init__(self, out: Output, description: str, *, total: int | None = None) -> None:
        self._enabled = out.interactive
        self._description = description
        self._total = total
        self._throttled = 0
        self._retries = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
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

    def update(
        self,
        *,
        done: int,
        total: int | None = None,
        rate: float | None = None,
        phase: str | None = None,
    ) -> None:
        """Move the bar: ``done`` records so far, ``total`` when known, ``rate`` in records/s."""
        if self._progress is None or self._task is None:
            return
        fields: dict[str, Any] = {"counters": self._counters()}
        if rate is not None:
            fields["rate"] = f"{rate:,.0f}/s"
        if phase:
            fields["description"] = f"{self._description}: {phase}"
        self._progress.update(self._task, completed=done, total=total, **fields)

    def count_throttle(self, throttled: int, retries: int) -> None:
        """The client's running 429 and retry totals (from its statistics hook)."""
        self._throttled, self._retries = throttled, retries

    def _counters(self) -> str:
        parts = []
        if self._throttled:
            parts.append(f"429s {self._throttled:,}")
        if self._retries:
            parts.append(f"retries {self._retries:,}")
        return " ".join(parts)
