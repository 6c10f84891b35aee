"""Where bulkops reads and writes data: local paths, ``file://``, ``s3://`` and ``gs://`` through
``pyarrow.fs``, with credentials from the usual environment and objects visible only when complete.

``open_storage("s3://bucket/prefix")`` gives a :class:`Storage` rooted there; see ``store.py`` for the
operations and the visibility rules, ``settings.py`` for the environment it reads and ``diagnosis.py``
for the errors it raises. Importing this package does not import pyarrow.
"""

from __future__ import annotations

from bulkops.storage.settings import StorageSettings, resolve_settings
from bulkops.storage.store import (
    STAGING_SUFFIX,
    ObjectInfo,
    Storage,
    fsync_directory,
    make_private_dir,
    open_private,
    open_storage,
)
from bulkops.storage.uri import SCHEMES, StorageUri, parse_uri

__all__ = [
    "SCHEMES",
    "STAGING_SUFFIX",
    "ObjectInfo",
    "Storage",
    "StorageSettings",
    "StorageUri",
    "fsync_directory",
    "make_private_dir",
    "open_private",
    "open_storage",
    "parse_uri",
    "resolve_settings",
]
