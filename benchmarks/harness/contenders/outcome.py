"""What a contender reports about its own run (the harness also verifies the outcome independently)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome", "Unavailable"]


class Unavailable(Exception):
    """The contender cannot run this scenario on this checkout (e.g. no ``transport=`` option yet)."""


@dataclass(slots=True)
class Outcome:
    """``processed``: records the contender believes it handled; request counters as it saw them.

    ``cpu_s`` / ``peak_rss_mb``: set when the work ran in another process (the whole-CLI contender),
    whose figures then replace the worker's own. ``transport``: the wire it used, when it says.
    """

    processed: int = 0
    requests: int = 0
    http_429: int = 0
    retries: int = 0
    stopped_by_budget: bool = False
    cpu_s: float | None = None
    peak_rss_mb: float | None = None
    transport: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
