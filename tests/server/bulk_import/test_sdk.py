"""The official pinecone SDK (10.2.0) drives the local server's bulk import: start_import,
describe_import, list_imports (paged), cancel_import; it parses every answer strictly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pinecone import Pinecone
from pinecone.errors import NotFoundError

from bulkops.server import ServerConfig
from bulkops.testing import local_server_thread
from tests.server.bulk_import.helpers import make_records, write_export

pytestmark = [pytest.mark.timeout(120), pytest.mark.integration]


def test_the_sdk_starts_follows_lists_and_cancels_imports(tmp_path: Path) -> None:
    data = {"ns": make_records(120, seed=3)}
    root = write_export(tmp_path / "export", data, part_rows=30)
    with local_server_thread("idx", config=ServerConfig(import_records_per_second=40)) as server:
        index = Pinecone(api_key="local-key", host=server.url).Index(host=server.index_host("idx"))
        started = index.start_import(uri=f"file://{root}", error_mode="abort", integration_id="local")
        running = index.describe_import(started.id)
        assert running.status in ("Pending", "InProgress")
        assert running.uri == f"file://{root}"
        index.cancel_import(started.id)
        assert index.describe_import(started.id).status == "Cancelled"
        assert server.count("idx", "ns") == 0

        second = index.start_import(uri=f"file://{root}")
        deadline = time.monotonic() + 60
        while (model := index.describe_import(second.id)).status not in ("Completed", "Failed", "Cancelled"):
            assert time.monotonic() < deadline, model
            time.sleep(0.1)
        assert (model.status, model.records_imported, model.percent_complete) == ("Completed", 120, 100.0)
        assert model.finished_at is not None
        assert [m.id for m in index.list_imports(limit=1)] == [started.id, second.id]
        page = index.list_imports_paginated(limit=1)
        assert [m.id for m in page] == [started.id]
        assert page.pagination is not None
        with pytest.raises(NotFoundError):
            index.describe_import("12345")
