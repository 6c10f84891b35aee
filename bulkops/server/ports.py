"""Where each index listens, and why it keeps that port.

Checkpoints and users' configs name an index by its host, so an index keeps its port for as long as
it exists: the first port it gets is stored in its catalog entry (in ``--data-dir``), and a restart
listens there again. The first port is the lowest from a base up that no other index keeps and
nothing else is using (``ServerConfig.new_index_ports_from``): ``--index-port-base N``, else the
port after a fixed control port (``bulkops serve`` on 5080 puts indexes on 5081, 5082, ... as
Pinecone Local does), so two servers need control ports far enough apart for their indexes (or a
base each); with neither (``--port 0``) any free port, which the kernel picks from its ephemeral
range. A kept port that cannot be bound again stops the server with
:class:`PortInUseError` naming the index and the port: a silent new port would break every client
that knows the old one. In memory (no data dir) nothing is kept across runs.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Collection

from bulkops.errors import BulkopsError

__all__ = ["MAX_PORT", "PortInUseError", "bind_failure", "listen_on_index_port"]

MAX_PORT = 65_535


class PortInUseError(BulkopsError):
    """A port the server must listen on cannot be bound (another process holds it)."""


def bind_failure(exc: OSError) -> str:
    """Why a bind failed, in a few words ("Address already in use")."""
    return os.strerror(exc.errno) if exc.errno else str(exc)


async def listen_on_index_port(
    listen: Callable[[int], Awaitable[int]],
    *,
    index: str,
    kept: int,
    base: int | None,
    taken: Collection[int],
) -> int:
    """Call ``listen(port)`` (which raises OSError when the port is busy) on the index's port.

    ``kept``: the port the index already has (0: none yet); ``taken``: ports other indexes keep.
    Returns the bound port."""
    if kept:
        try:
            return await listen(kept)
        except OSError as exc:
            raise PortInUseError(
                f"index {index!r} keeps port {kept} across restarts, but it cannot listen there "
                f"({bind_failure(exc)}): stop what is using port {kept}, then start bulkops serve again"
            ) from None
    if base is None:
        return await listen(0)
    for port in range(base, MAX_PORT + 1):
        if port in taken:
            continue
        try:
            return await listen(port)
        except OSError:
            continue
    raise PortInUseError(
        f"no free port from {base} up for index {index!r}: give --index-port-base a lower start "
        "(by default indexes take the ports after --port)"
    )
