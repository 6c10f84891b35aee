"""Cutting an import's records into upsert batches: per namespace, at most N records and M bytes.

Sizes are measured on the wire the upserts travel (the 2 MB limit applies to the request, and the
server's 50 MB/s counts the same bytes): the protobuf size of each Vector over gRPC, its JSON in the
body over REST (:class:`WireSize`). A record that cannot be read, does not fit a request, or that the
index would refuse (:func:`bulkops.jobs.load.checks.record_problem`) never enters a batch: the batch
before it is cut there, and the record goes to ``rejected``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bulkops.api.grpc import messages as grpc_messages
from bulkops.api.rest import wire as rest_wire
from bulkops.models import Record
from bulkops.sinks.base import ReadItem

__all__ = ["UpsertBatch", "WireSize", "cut_batches", "wire_size_for"]


@dataclass(slots=True)
class UpsertBatch:
    """Consecutive input records of one namespace that go in one upsert request."""

    namespace: str
    items: list[ReadItem]
    size: int  # bytes of the request on its wire

    @property
    def first(self) -> int:
        return self.items[0].ordinal


@dataclass(frozen=True, slots=True)
class WireSize:
    """One wire's upsert sizes: a request for records ``r`` in namespace ``ns`` is exactly
    ``request(ns) + sum(entry(r))`` bytes."""

    entry: Callable[[Record], int]
    request: Callable[[str], int]


def _rest_request(namespace: str) -> int:
    return len(rest_wire.upsert_body([], namespace)) - 1  # the entries bring one comma too many


def _grpc_request(namespace: str) -> int:
    return grpc_messages.upsert_request([], namespace).ByteSize()


REST = WireSize(rest_wire.upsert_entry_size, _rest_request)
GRPC = WireSize(grpc_messages.upsert_entry_size, _grpc_request)
EITHER = WireSize(
    lambda record: max(REST.entry(record), GRPC.entry(record)),
    lambda namespace: max(REST.request(namespace), GRPC.request(namespace)),
)


def wire_size_for(transport: object) -> WireSize:
    """The sizes of ``transport`` (a data plane's ``.transport``); the larger of both when it is not
    known (a test double, or ``auto`` before the first request)."""
    return {"grpc": GRPC, "rest": REST}.get(transport, EITHER) if isinstance(transport, str) else EITHER


def cut_batches(
    items: Iterator[ReadItem],
    namespace: str | None,
    *,
    max_records: int,
    max_bytes: int,
    rejected: Callable[[ReadItem, str], None],
    problem: Callable[[Record], str | None] = lambda record: None,
    wire: WireSize = EITHER,
) -> Iterator[UpsertBatch]:
    """Consecutive records of one namespace, cut at ``max_records`` or at ``max_bytes`` of request on
    ``wire``."""
    current: UpsertBatch | None = None
    overheads: dict[str, int] = {}
    for item in items:
        reason = (item.error or "unreadable") if item.record is None else problem(item.record)
        ns = namespace if namespace is not None else (item.namespace or "")
        size = 0
        if item.record is not None and reason is None:
            size = wire.entry(item.record)
            overhead = overheads.get(ns)
            if overhead is None:
                overhead = overheads[ns] = wire.request(ns)
            if overhead + size > max_bytes:
                reason = (
                    f"the record is {size} bytes on the wire; an upsert request holds at most {max_bytes}"
                )
        if reason is not None:
            if current is not None:
                yield current
                current = None
            rejected(item, reason)
            continue
        if current is not None and (
            current.namespace != ns or len(current.items) >= max_records or current.size + size > max_bytes
        ):
            yield current
            current = None
        if current is None:
            current = UpsertBatch(ns, [], overheads[ns])
        current.items.append(item)
        current.size += size
    if current is not None:
        yield current
