"""The pyarrow filesystem for a location: ``LocalFileSystem``, ``S3FileSystem`` or ``GcsFileSystem``.

pyarrow is imported here, on first use, so ``import bulkops.storage`` costs nothing and a missing
pyarrow is one clear error. Credentials are never passed in: the SDKs inside pyarrow read them from
the environment (see :mod:`bulkops.storage.settings`), so no key is ever held by a bulkops object.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bulkops.errors import UsageError
from bulkops.storage.diagnosis import describe_failure
from bulkops.storage.settings import StorageSettings
from bulkops.storage.uri import StorageUri

__all__ = ["build_filesystem", "pyarrow_fs"]

INSTALL_HINT = "pip install 'bulkops[parquet]'"


def pyarrow_fs() -> Any:
    """``pyarrow.fs``, or a :class:`UsageError` saying how to install it."""
    try:
        import pyarrow.fs
    except ImportError:
        raise UsageError(f"object storage and Parquet need pyarrow: {INSTALL_HINT}") from None
    return pyarrow.fs


def build_filesystem(uri: StorageUri, settings: StorageSettings) -> Any:
    """A pyarrow filesystem that reaches ``uri`` with ``settings`` (one request for an S3 bucket's
    region when neither a region nor an endpoint is configured)."""
    fs = pyarrow_fs()
    if uri.is_local:
        return fs.LocalFileSystem()
    endpoint: dict[str, str] = {}
    if settings.endpoint:
        parts = urlsplit(settings.endpoint)
        endpoint = {"endpoint_override": parts.netloc, "scheme": parts.scheme}
    if uri.scheme == "gs":
        if not hasattr(fs, "GcsFileSystem"):
            raise UsageError(f"this pyarrow build has no Google Cloud Storage support: {INSTALL_HINT}")
        return fs.GcsFileSystem(**endpoint)
    if not hasattr(fs, "S3FileSystem"):
        raise UsageError(f"this pyarrow build has no S3 support: {INSTALL_HINT}")
    region = settings.region
    if region is None and uri.bucket is not None:
        try:
            region = fs.resolve_s3_region(uri.bucket)
        except OSError as exc:
            raise describe_failure(exc, action="finding the region of", uri=uri, settings=settings) from None
    return fs.S3FileSystem(region=region, **endpoint)
