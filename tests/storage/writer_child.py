"""Child process for the kill tests: stream half of an object through ``Storage.atomic_writer``, say so
on stdout, then wait to be killed (``python -m tests.storage.writer_child LOCATION NAME BYTES``)."""

from __future__ import annotations

import sys
import threading

from bulkops.storage import open_storage


def main(location: str, name: str, size: int) -> None:
    storage = open_storage(location)
    with storage.atomic_writer(name) as out:
        out.write(b"x" * (size // 2))
        out.flush()
        print("HALF", flush=True)
        threading.Event().wait()  # until SIGKILL
        out.write(b"y" * (size - size // 2))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
