"""Ports for tests that restart a server on the same data dir and expect its indexes back there.

A port the kernel hands out for ``bind(port 0)`` comes from the ephemeral range, the same range it
takes outgoing connections' local ports from. Between a server's stop and its restart, another test's
client (pytest-xdist runs several at once) can take that port, and the restart then rightly refuses
to move the index. Ports below the ephemeral range are never taken that way, so restart tests give
their servers an ``index_port_base`` from there."""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["quiet_port_base"]

_LOWEST = 10_000


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _all_free(base: int, count: int) -> bool:
    sockets = []
    try:
        for port in range(base, base + count):
            sock = socket.socket()
            sockets.append(sock)
            sock.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for sock in sockets:
            sock.close()


def quiet_port_base(count: int = 2) -> int:
    """A port P below the ephemeral range such that P .. P+count-1 are free now (picked at random, so
    tests running at once rarely pick the same one)."""
    top = _ephemeral_start() - count
    if top <= _LOWEST:
        raise AssertionError(f"the ephemeral range starts at {top + count}: no quiet ports below it")
    for _ in range(100):
        base = random.randrange(_LOWEST, top)
        if _all_free(base, count):
            return base
    raise AssertionError(f"no {count} adjacent free ports below {top + count}")
