"""Progress of a long job, fed by the library's progress callbacks: a bar on a terminal, a line every
``--stats-interval`` seconds elsewhere (scripts, CI, containers).

Both say the same: records done / total (when known), this run's rate, the time elapsed and the time
left, the client's 429 and retry counters, and (lines) the transport the data plane uses. Elapsed and
ETA are this module's own figures, not rich's: rich freezes a task's elapsed time once ``completed``
reaches ``total``, so a purge that had deleted everything showed a stopped clock (and ETA 0) through its
whole verification pass, and a job without a total showed its elapsed time next to a bare "ETA" label.
"""

from __future__ import annotations

from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.text import Text

from bulkops.cli.output import Output
from bulkops.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from bulkops.api import RequestEvent

__all__ = ["JobProgress", "clock_text"]


def clock_text(seconds: float) -> str:
    """``0:01:05`` for 65 seconds."""
    return str(timedelta(seconds=max(0, int(seconds))))


class _Timing(ProgressColumn):
    """``elapsed 0:00:12  ETA 0:00:40`` from the job's own figures (ETA only when a total is known)."""

    def __init__(self, progress: JobProgress) -> None:
        super().__init__()
        self._job = progress

    def render(self, task: Task) -> Text:
        text = Text(clock_text(self._job.elapsed()), style="progress.elapsed")
        eta = self._job.eta()
        if eta is not None:
            text.append(f" ETA {clock_text(eta)}", style="progress.remaining")
        return text


class JobProgress:
    """A context manager. The job's progress callback calls :meth:`update`; :meth:`on_request` is
    subscribed to the client's statistics for the 429 and retry counters; :meth:`report_every` writes
    the periodic lines while the job runs (when stderr is no terminal)."""

    def __init__(
        self,
        out: Output,
        description: str,
        *,
        total: int | None = None,
        interval: float = 0.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._out = out
        self._description = description
        self._clock = clock
        self._started = clock.now()
        self.total = total
        self.done = 0
        self.phase: str | None = None
        self.namespace: str | None = None
        self.wire: str | None = None  # grpc / rest, once the client picked one
        self.throttled = 0
        self.retries = 0
        self._first: tuple[float, int] | None = None  # (time, done) of the first update of this run
        self.interval = interval if not out.stderr.is_terminal and not out.quiet else 0.0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if out.interactive:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                _Timing(self),
                TextColumn("[yellow]{task.fields[counters]}"),
                console=out.stderr,
                transient=False,
                refresh_per_second=8,
            )

    def __enter__(self) -> JobProgress:
        self._started = self._clock.now()
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(self._description, total=self.total, rate="", counters="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    # -- figures ------------------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds since this run started (it keeps counting until the job ends)."""
        return self._clock.now() - self._started

    def rate(self) -> float | None:
        """Records per second of this run (a resumed job's earlier records are not counted)."""
        if self._first is None:
            return None
        since, first = self._first
        seconds = self._clock.now() - since
        return (self.done - first) / seconds if seconds > 0.5 and self.done > first else None

    def eta(self) -> float | None:
        """Seconds left at this run's rate (None: no total, or no rate yet)."""
        if self.total is None:
            return None
        if self.done >= self.total:
            return 0.0
        rate = self.rate()
        return (self.total - self.done) / rate if rate else None

    # -- inputs -------------------------------------------------------------------------------------
    def update(self, *, done: int, phase: str | None = None, namespace: str | None = None) -> None:
        """Move to ``done`` records (cumulative over resumed runs); the job's phase or the namespace it
        is in, when it says."""
        if self._first is None:
            self._first = (self._clock.now(), done)
        self.done = done
        before = self._where()
        self.phase = phase or self.phase
        self.namespace = namespace if namespace is not None else self.namespace
        if self._progress is None or self._task is None:
            return
        fields: dict[str, Any] = {"counters": self._counters()}
        rate = self.rate()
        if rate is not None:
            fields["rate"] = f"{rate:,.0f}/s"
        if self._where() != before:
            fields["description"] = f"{self._description}{self._where()}"
        # rich's own total never drops below done: a bar over 100% would stop its spinner.
        shown = max(self.total, done) if self.total is not None else None
        self._progress.update(self._task, completed=done, total=shown, **fields)

    def set_wire(self, wire: str) -> None:
        """The data plane's transport, once the client picked it: the bar says ``… over grpc``, the lines
        carry it as ``transport``."""
        self.wire = wire
        self._description = f"{self._description} over {wire}"
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=f"{self._description}{self._where()}")

    def set_total(self, total: int | None) -> None:
        """The number of records the job will handle, once known (bar and ETA)."""
        if total is None:
            return
        self.total = total
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=max(total, self.done))

    def on_request(self, event: RequestEvent) -> None:
        """The client's statistics hook: count 429s and retries."""
        if event.kind == "rate_limited":
            self.throttled += 1
        elif event.kind == "retry":
            self.retries += 1

    def _where(self) -> str:
        """`` (deleting)`` / `` (namespace 'a')``: what the bar and the lines add to the job's name."""
        if self.phase:
            return f" ({self.phase})"
        return f" (namespace {self.namespace!r})" if self.namespace is not None else ""

    def _counters(self) -> str:
        parts = []
        if self.throttled:
            parts.append(f"429s {self.throttled:,}")
        if self.retries:
            parts.append(f"retries {self.retries:,}")
        return " ".join(parts)

    # -- lines (no terminal) ------------------------------------------------------------------------
    async def report_every(self) -> None:
        """Write a progress line every ``interval`` seconds until cancelled (nothing when 0)."""
        if self.interval <= 0:
            return
        while True:
            await self._clock.sleep(self.interval)
            self.write_line()

    def write_line(self) -> None:
        """One progress line: what it says as text, the same as fields in JSON."""
        rate, eta, elapsed = self.rate(), self.eta(), self.elapsed()
        fields: dict[str, Any] = {
            "event": "progress",
            "job": self._description,
            "phase": self.phase,
            "namespace": self.namespace,
            "done": self.done,
            "total": self.total,
            "rate": round(rate, 1) if rate is not None else None,
            "eta_seconds": round(eta) if eta is not None else None,
            "elapsed_seconds": round(elapsed, 1),
            "rate_limited": self.throttled,
            "retries": self.retries,
            "transport": self.wire,
        }
        of = f"/{self.total:,}" if self.total is not None else ""
        percent = f" ({self.done / self.total:.0%})" if self.total else ""
        parts = [
            f"{self.done:,}{of}{percent}",
            f"{rate:,.0f}/s" if rate is not None else "rate n/a",
            f"ETA {clock_text(eta)}" if eta is not None else "ETA n/a",
            f"elapsed {clock_text(elapsed)}",
            f"429s {self.throttled:,}",
            f"retries {self.retries:,}",
            f"transport {self.wire or 'n/a'}",
        ]
        self._out.event(f"progress: {self._description}{self._where()}: {', '.join(parts)}", fields)
