"""bulkops: fast, resumable bulk operations on Pinecone serverless indexes."""

from __future__ import annotations

__version__ = "0.1.0"

from bulkops.jobs import purge
from bulkops.jobs.export import export
from bulkops.jobs.load import load

__all__ = ["__version__", "export", "load", "purge"]
