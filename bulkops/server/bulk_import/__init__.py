"""Pinecone's bulk import on the local server: start, describe, list and cancel imports of Parquet
from ``s3://``, ``gs://`` and ``file://`` (through :mod:`bulkops.storage`) into an index.

``routes.py`` the HTTP endpoints, ``jobs.py`` the background jobs (status, all-or-nothing, resume after a
restart), ``layout.py`` the import directory and Pinecone's limits, ``source.py`` and ``rows.py`` one
Parquet file read and validated batch by batch, ``failure.py`` the error that fails an import.
pyarrow is imported only once an import runs.
"""

from __future__ import annotations

from bulkops.server.bulk_import.jobs import BulkImports
from bulkops.server.bulk_import.routes import IMPORTS, add_import_routes

__all__ = ["IMPORTS", "BulkImports", "add_import_routes"]
