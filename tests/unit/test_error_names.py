"""The official SDK's error names are importable from bulkops.errors as aliases of bulkops's classes
(issue 12), so code written against the SDK's names catches bulkops's errors."""

from __future__ import annotations

import pytest

import bulkops.errors as errors
from bulkops.errors import SDK_NAMES, error_from_response


def test_every_sdk_name_is_a_module_attribute_naming_the_same_class() -> None:
    for name, cls in SDK_NAMES.items():
        assert getattr(errors, name) is cls, name
        assert name in errors.__all__


def test_every_alias_is_a_name_the_official_sdk_exports() -> None:
    pinecone_errors = pytest.importorskip("pinecone.errors")
    pinecone_exceptions = pytest.importorskip("pinecone.exceptions")
    for name in SDK_NAMES:
        assert hasattr(pinecone_errors, name) or hasattr(pinecone_exceptions, name), name


@pytest.mark.parametrize(
    ("status", "sdk_name"),
    [
        (401, "UnauthorizedError"),
        (403, "ForbiddenError"),
        (404, "NotFoundError"),
        (409, "ConflictError"),
        (412, "FailedPreconditionError"),
        (413, "PayloadTooLargeError"),
        (429, "RateLimitError"),
        (503, "ServiceError"),
        (500, "ServiceException"),
        (429, "PineconeApiException"),
        (400, "PineconeError"),
    ],
)
def test_an_answer_is_caught_by_the_sdks_name_for_it(status: int, sdk_name: str) -> None:
    error = error_from_response(status, b'{"error": {"code": "X", "message": "m"}}')
    with pytest.raises(getattr(errors, sdk_name)):
        raise error


def test_usage_and_connection_errors_have_the_sdks_names_too() -> None:
    assert issubclass(errors.UsageError, errors.PineconeValueError)
    assert issubclass(errors.RequestTimeoutError, errors.PineconeConnectionError)
    assert errors.PineconeTimeoutError is errors.RequestTimeoutError
