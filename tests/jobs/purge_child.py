"""Run one bulkops.purge in this process (the kill -9 tests start it, then kill it at random moments).

Usage: python purge_child.py CONTROLLER_URL CHECKPOINT PREFIX [LIMITS_JSON] [TIMEOUT]
Prints ``DONE deleted=N remaining=M`` when the purge finishes.
"""

from __future__ import annotations

import sys

import anyio

import bulkops
from bulkops.api import Client
from bulkops.limits.profiles import load_profile


async def main(url: str, checkpoint: str, prefix: str, limits: str, timeout: float) -> None:
    async with Client("test-key", url, limits=load_profile(limits), timeout=timeout) as client:
        report = await bulkops.purge(
            client=client,
            index="idx",
            namespace="ns",
            prefix=prefix,
            checkpoint=checkpoint,
            verify_delay=0.2,
        )
    print(f"DONE deleted={report.deleted} remaining={report.verification.remaining}", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    anyio.run(
        main,
        args[0],
        args[1],
        args[2],
        args[3] if len(args) > 3 else "default",
        float(args[4]) if len(args) > 4 else 30.0,
    )
