"""The S3-compatible server fixtures (``s3_server``, ``s3``) for the storage tests."""

from __future__ import annotations

from tests.storage.s3server import s3, s3_server

__all__ = ["s3", "s3_server"]
