"""What a contender reports about its own run (the harness also verifies the outcome independently)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome"]


@dataclass(slots=True)
class Outcome:
    """``processed``: records the contender believes it handled; HTTP counters as it saw them."""

    processed: int = 0
    requests: int = 0
    http_429: int = 0
    retries: int = 0
    stopped_by_budget: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
