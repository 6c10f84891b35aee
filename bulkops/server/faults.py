"""Injected faults: by probability with a seed, or scripted for the Nth request of an operation.

Spec grammar (comma-separated rules)::

    [after-]KIND[@OPERATION]:PROBABILITY     e.g.  500:0.02   reset@fetch:0.1
    [after-]KIND[@OPERATION]#N[#N...]        e.g.  503@list#2   reset#5#6   after-reset@upsert#3

KIND is ``500``, ``503``, ``429`` (a spurious rate-limit answer), ``reset`` (the connection is
reset without an answer) or ``stall`` / ``stall=SECONDS`` (the answer is held back; 30 s unless
given). OPERATION is one of ``bulkops.limits.profiles.OPERATIONS``; without it the rule applies to
every data-plane request, and ``#N`` counts all of them (1-based). With ``after-`` the request
does its work first (the write is committed) and then the answer is replaced or lost: the case
where a client must not assume that an error means nothing happened.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from bulkops.errors import UsageError
from bulkops.limits.profiles import OPERATIONS

__all__ = ["FaultInjector", "FaultKind", "FaultRule", "parse_faults"]

FaultKind = Literal["500", "503", "429", "reset", "stall"]
_KINDS: tuple[str, ...] = ("500", "503", "429", "reset", "stall")
_RULE_RE = re.compile(
    r"^(?P<after>after-)?(?P<kind>500|503|429|reset|stall)(?:=(?P<secs>\d+(?:\.\d+)?))?(?:@(?P<op>[a-z_]+))?"
    r"(?::(?P<prob>\d*\.?\d+)|(?P<nth>(?:#\d+)+))$"
)
DEFAULT_STALL_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One rule: which fault, for which operation (None = all), when (probability or Nth requests)."""

    kind: FaultKind
    operation: str | None = None
    probability: float | None = None
    nth: frozenset[int] = frozenset()
    stall_seconds: float = DEFAULT_STALL_SECONDS
    after: bool = False  # inject once the work is done (committed), not instead of it


def parse_faults(spec: str | None) -> tuple[FaultRule, ...]:
    """Parse a ``--faults`` spec; a :class:`UsageError` says which rule is wrong and why."""
    if not spec or not spec.strip():
        return ()
    rules = []
    for raw in spec.split(","):
        text = raw.strip()
        match = _RULE_RE.match(text)
        if not match:
            raise UsageError(
                f"fault rule {text!r} is not valid: use KIND[@OPERATION]:PROBABILITY or "
                f"KIND[@OPERATION]#N, optionally prefixed after-, KIND one of {', '.join(_KINDS)} "
                "(stall=SECONDS allowed)"
            )
        operation = match["op"]
        if operation is not None and operation not in OPERATIONS:
            raise UsageError(
                f"fault rule {text!r}: unknown operation {operation!r} ({', '.join(OPERATIONS)})"
            )
        probability = float(match["prob"]) if match["prob"] is not None else None
        if probability is not None and not 0 <= probability <= 1:
            raise UsageError(f"fault rule {text!r}: probability must be between 0 and 1")
        nth = frozenset(int(n) for n in match["nth"].split("#") if n) if match["nth"] else frozenset()
        secs = float(match["secs"]) if match["secs"] else DEFAULT_STALL_SECONDS
        kind: FaultKind = match["kind"]  # type: ignore[assignment]
        rules.append(FaultRule(kind, operation, probability, nth, secs, after=bool(match["after"])))
    return tuple(rules)


class FaultInjector:
    """Decides, per request, which fault (if any) to inject. Deterministic for a given seed."""

    def __init__(self, rules: tuple[FaultRule, ...], seed: int | None = None) -> None:
        self._rules = rules
        self._random = random.Random(seed)
        self._counts: Counter[str | None] = Counter()

    def choose(self, operation: str) -> FaultRule | None:
        if not self._rules:
            return None
        self._counts[None] += 1
        self._counts[operation] += 1
        for rule in self._rules:
            if rule.operation is not None and rule.operation != operation:
                continue
            if rule.nth:
                if self._counts[rule.operation] in rule.nth:
                    return rule
            elif rule.probability is not None and self._random.random() < rule.probability:
                return rule
        return None
