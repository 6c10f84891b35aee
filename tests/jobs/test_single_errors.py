"""A job's caller gets the error that stopped it, never an ExceptionGroup, whichever phase's task group it
came out of (issue 12: "unexpected ExceptionGroup" from a dry run, the max_delete guard, an IDs count, a
verification pass)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import bulkops
from bulkops.errors import BadRequestError, UsageError
from bulkops.jobs.selection import validate_filter
from bulkops.testing import FakeClock, FakeDataPlane

RECORDS = {ns: [f"{p}{i:04d}" for p in "xy" for i in range(500)] for ns in ("a", "b")}  # purges take x


class Refusing(FakeDataPlane):
    """Answers ``op`` with a 400 (``emptied``: only once every ``x`` record is deleted, as the
    verification pass of a purge of ``x`` would find it)."""

    def __init__(self, op: str, emptied: bool = False) -> None:
        super().__init__(RECORDS, clock=FakeClock(autojump=True))
        self.op = op
        self.emptied = emptied

    def _maybe_refuse(self, op: str) -> None:
        gone = not any(i.startswith("x") for ids in self.namespaces.values() for i in ids)
        if op == self.op and (not self.emptied or gone):
            raise BadRequestError(400, f"refused {op}")

    async def list_page(self, *args: Any, **kwargs: Any) -> Any:
        self._maybe_refuse("list")
        return await super().list_page(*args, **kwargs)

    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        self._maybe_refuse("fetch")
        return await super().fetch(*args, **kwargs)


Job = Callable[[FakeDataPlane, Path], Awaitable[Any]]
TWO = ["a", "b"]


def _jobs() -> dict[str, Job]:
    return {
        "purge dry run": lambda dp, tmp: bulkops.purge(
            dataplane=dp, namespaces=TWO, prefix="x", dry_run=True
        ),
        "purge max_delete guard": lambda dp, tmp: bulkops.purge(
            dataplane=dp, namespaces=TWO, prefix="x", max_delete=10_000, verify_delay=0
        ),
        "purge by prefix": lambda dp, tmp: bulkops.purge(
            dataplane=dp, namespaces=TWO, prefix="x", verify_delay=0
        ),
        "purge IDs dry run": lambda dp, tmp: bulkops.purge(
            dataplane=dp, namespaces=TWO, ids=["x0001", "x0002"], dry_run=True
        ),
        "export by prefix": lambda dp, tmp: bulkops.export(
            dataplane=dp, namespaces=TWO, prefix="x", output=tmp / "out.jsonl"
        ),
    }


@pytest.mark.parametrize(
    ("job", "op", "emptied"),
    [
        ("purge dry run", "list", False),
        ("purge max_delete guard", "list", False),
        ("purge by prefix", "list", False),
        ("purge by prefix", "list", True),  # the verification pass's listing
        ("purge IDs dry run", "fetch", False),
        ("export by prefix", "list", False),
        ("export by prefix", "fetch", False),
    ],
)
async def test_the_error_itself_reaches_the_caller(job: str, op: str, emptied: bool, tmp_path: Path) -> None:
    dataplane = Refusing(op, emptied)
    with pytest.raises(BadRequestError, match=f"refused {op}"):
        await _jobs()[job](dataplane, tmp_path)


def test_an_in_list_over_pinecones_limit_is_refused_before_anything_is_sent() -> None:
    validate_filter({"n": {"$in": list(range(10_000))}})
    with pytest.raises(UsageError, match="10,001 values; Pinecone takes at most 10,000"):
        validate_filter({"$or": [{"n": {"$nin": list(range(10_001))}}]})
