from __future__ import annotations

import pytest

from bulkops import errors
from bulkops.errors import error_from_response, redact


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.ForbiddenError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (412, errors.PreconditionFailedError),
        (413, errors.RequestTooLargeError),
        (414, errors.RequestTooLargeError),
        (418, errors.BadRequestError),
        (422, errors.BadRequestError),
        (429, errors.RateLimitedError),
        (431, errors.RequestTooLargeError),
        (500, errors.ServerError),
        (503, errors.ServerError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[errors.ApiError]) -> None:
    err = error_from_response(status, b"{}")
    assert type(err) is cls
    assert err.status == status


def test_control_plane_body() -> None:
    body = b'{"error":{"code":"NOT_FOUND","message":"Index example-index not found."},"status":404}'
    err = error_from_response(404, body, {"x-pinecone-request-id": "r1"})
    assert err.code == "NOT_FOUND"
    assert err.message == "Index example-index not found."
    assert err.request_id == "r1"
    assert "Index example-index not found." in str(err)


def test_data_plane_body() -> None:
    err = error_from_response(404, b'{"code":5,"message":"Namespace not found","details":[]}')
    assert err.code == 5
    assert err.message == "Namespace not found"


def test_plain_text_body_is_kept_and_truncated() -> None:
    err = error_from_response(401, b"API key is missing or invalid " * 40)
    assert isinstance(err, errors.AuthenticationError)
    assert err.code is None
    assert err.message.startswith("API key is missing")
    assert len(err.message) <= 501


def test_deletion_protection_is_its_own_class() -> None:
    body = (
        b'{"error":{"code":"FORBIDDEN","message":"Deletion protection is enabled for this index. '
        b'Disable deletion protection before retrying."},"status":403}'
    )
    assert isinstance(error_from_response(403, body), errors.DeletionProtectedError)
    assert not isinstance(error_from_response(403, b'{"message":"quota"}'), errors.DeletionProtectedError)


def test_rate_limited_reads_retry_after_and_leaves_the_scope_to_the_request_loop() -> None:
    body = (
        b'{"code":8,"message":"Request failed. You\'ve reached the max list requests per second for index '
        b'idx-a (200). Pace your list requests.","details":[]}'
    )
    err = error_from_response(429, body, {"retry-after": "1.5"})
    assert isinstance(err, errors.RateLimitedError)
    assert err.retry_after == 1.5
    assert "max list requests per second for index idx-a" in err.message
    assert err.operation is None  # the executor parses the message once (tests/api) and fills it in


def test_rate_limited_without_retry_after_or_scope() -> None:
    err = error_from_response(429, b"slow down", {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert isinstance(err, errors.RateLimitedError)
    assert err.retry_after is None
    assert err.operation is None


def test_redact() -> None:
    assert redact("key=pcsk_secret in url", "pcsk_secret") == "key=*** in url"
    assert redact("nothing", None) == "nothing"


def test_usage_error_exit_code() -> None:
    assert errors.UsageError("x").exit_code == 2
    assert errors.ServerError(500, "x").exit_code == 1


@pytest.mark.parametrize("name", ["WaitTimeoutError", "ResourceFailedError"])
def test_wait_errors_live_in_the_tree_and_stay_importable_from_api(name: str) -> None:
    import bulkops.api
    import bulkops.api.control_plane

    cls = getattr(errors, name)
    assert issubclass(cls, errors.BulkopsError)
    assert getattr(bulkops.api, name) is cls
    assert getattr(bulkops.api.control_plane, name) is cls
    assert name in (errors.__doc__ or "")
    # A resource that is late or failed is an ordinary failure (1), not bad input (2) or a partial job (3).
    assert cls("x").exit_code == errors.EXIT_CODES["error"]
