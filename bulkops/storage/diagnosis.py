"""pyarrow's storage errors turned into one line that says what was wrong and what to do.

pyarrow raises ``OSError("When listing objects under key 'x/' in bucket 'b': AWS Error NO_SUCH_BUCKET
during ListObjectsV2 operation: ...")`` (and ``google::cloud::Status(...)`` texts for GCS). We read the
error code out of that text: an unknown bucket and refused or missing credentials become
:class:`~bulkops.errors.UsageError` (exit 2: the caller must change something), an unreachable or failing
store a :class:`~bulkops.errors.TransportError`. Every message is passed through :func:`scrub`, so a key
that the environment holds never reaches an error, a log or a report.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from bulkops.errors import BulkopsError, TransportError, UsageError, redact
from bulkops.storage.settings import StorageSettings
from bulkops.storage.uri import StorageUri

__all__ = ["SECRET_VARIABLES", "describe_failure", "scrub", "unknown_bucket"]

SECRET_VARIABLES = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
)
_AWS_CODE = re.compile(r"AWS Error ([A-Z_]+)")
_GCS_CODE = re.compile(r"\b(NOT_FOUND|PERMISSION_DENIED|UNAUTHENTICATED|UNAVAILABLE|DEADLINE_EXCEEDED)\b")
_NO_BUCKET = {"NO_SUCH_BUCKET"}
_CREDENTIALS = {
    "ACCESS_DENIED",
    "INVALID_ACCESS_KEY_ID",
    "SIGNATURE_DOES_NOT_MATCH",
    "EXPIRED_TOKEN",
    "INVALID_CLIENT_TOKEN_ID",
    "MISSING_AUTHENTICATION_TOKEN",
    "UNRECOGNIZED_CLIENT",
    "REQUEST_EXPIRED",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
}
_UNREACHABLE = {"NETWORK_CONNECTION", "UNAVAILABLE", "DEADLINE_EXCEEDED"}
_MAX_DETAIL = 300


def scrub(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every credential value the environment holds replaced by ``***``."""
    env = os.environ if environ is None else environ
    for name in SECRET_VARIABLES:
        value = env.get(name)
        if value and len(value) >= 8:
            text = redact(text, value)
    return text


def _code(message: str) -> str | None:
    match = _AWS_CODE.search(message) or _GCS_CODE.search(message)
    return match.group(1) if match else None


def _where(settings: StorageSettings) -> str:
    if settings.endpoint:
        return f"the object store at {settings.endpoint} (from {settings.endpoint_source})"
    return "Google Cloud Storage" if settings.scheme == "gs" else "AWS S3"


def unknown_bucket(uri: StorageUri, settings: StorageSettings) -> UsageError:
    check = (
        " and the endpoint" if settings.endpoint else (" and AWS_REGION" if settings.scheme == "s3" else "")
    )
    return UsageError(
        f"bucket {uri.bucket!r} does not exist in {_where(settings)}: check the name in {uri}{check}"
    )


def describe_failure(
    exc: BaseException, *, action: str, uri: StorageUri, settings: StorageSettings
) -> BulkopsError:
    """The error to raise for ``exc``, which pyarrow raised while ``action`` (e.g. "listing") ``uri``."""
    message = scrub(str(exc))
    code = _code(message)
    detail = message.splitlines()[0][:_MAX_DETAIL] if message else type(exc).__name__
    if (
        code in _NO_BUCKET
        or (code == "NOT_FOUND" and "bucket" in message.lower())
        or (code == "RESOURCE_NOT_FOUND" and "HeadBucket" in message)
    ):
        return unknown_bucket(uri, settings)
    if code in _CREDENTIALS or (
        code is not None and settings.credentials is None and code not in _UNREACHABLE
    ):
        if settings.credentials is None:
            return UsageError(
                f"no credentials found for {uri} ({_where(settings)} answered {code}): "
                f"{settings.credentials_hint}"
            )
        if code in ("ACCESS_DENIED", "PERMISSION_DENIED"):
            return UsageError(
                f"{_where(settings)} denied {action} {uri} to the credentials from {settings.credentials}: "
                "grant them access to the bucket or use other credentials"
            )
        return UsageError(
            f"{_where(settings)} refused the credentials from {settings.credentials} while {action} {uri} "
            f"({code}): check them"
        )
    if isinstance(exc, PermissionError):
        return UsageError(f"permission denied while {action} {uri}: check the directory's permissions")
    if code in _UNREACHABLE:
        variables = (
            "BULKOPS_STORAGE_ENDPOINT or AWS_ENDPOINT_URL"
            if settings.scheme == "s3"
            else ("BULKOPS_STORAGE_ENDPOINT or STORAGE_EMULATOR_HOST")
        )
        return TransportError(
            f"cannot reach {_where(settings)} while {action} {uri}: check the network and "
            f"--storage-endpoint ({variables})"
        )
    return TransportError(f"object storage error while {action} {uri}: {detail}")
