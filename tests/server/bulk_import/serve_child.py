"""Child process for the kill tests: the local server on a data dir, bulk imports paced, index ``idx``
created on first start; prints the index host, then serves until killed
(``python -m tests.server.bulk_import.serve_child DATA_DIR RECORDS_PER_SECOND``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bulkops.server import ServerConfig, serve_local
from tests.helpers.ports import quiet_port_base


async def main(data_dir: Path, rate: float) -> None:
    # the index keeps the port it gets at the first start; one out of the ephemeral range (see the helper)
    base = quiet_port_base()
    config = ServerConfig(data_dir=data_dir, import_records_per_second=rate, index_port_base=base)
    async with serve_local(config) as server:
        if "idx" not in server.indexes:
            await server.create_index_direct("idx", 8)
        print(server.index_host("idx"), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), float(sys.argv[2])))
