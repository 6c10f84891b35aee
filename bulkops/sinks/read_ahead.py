"""Reading ahead in a worker thread, so a reader on an object store does not wait a round trip for each
block while its caller (an import on the event loop) waits with it.

:func:`read_ahead` yields what an iterator yields, fetching the next item in a worker thread while the
caller handles the current one: one item ahead, so memory grows by one block or one record batch.
pyarrow and the store's SDK release the GIL while they wait, so the two overlap.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["close_reading", "read_ahead"]

T = TypeVar("T")
_END = object()


def read_ahead(iterator: Iterator[T]) -> Iterator[T]:
    """``iterator``'s items, the next one read in a worker thread meanwhile."""
    with ThreadPoolExecutor(1, thread_name_prefix="bulkops-read-ahead") as pool:
        future = pool.submit(next, iterator, _END)
        while True:
            item = future.result()
            if item is _END:
                return
            future = pool.submit(next, iterator, _END)
            yield item  # type: ignore[misc]


def close_reading(items: Iterator[Any], source: Any) -> None:
    """Stop reading ``items`` (waiting for a read ahead still running), then close ``source``: never
    the file under a read in another thread."""
    close = getattr(items, "close", None)
    if close is not None:
        close()
    source.close()
