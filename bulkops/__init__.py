"""bulkops: fast, resumable bulk operations on Pinecone serverless indexes."""

from __future__ import annotations

__version__ = "0.1.0"

from bulkops.jobs import purge

__all__ = ["__version__", "purge"]
