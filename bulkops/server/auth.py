"""The API key check, the same for REST (``Api-Key`` header) and gRPC (``api-key`` metadata)."""

from __future__ import annotations

import hmac

from bulkops.server.problems import ApiProblem

__all__ = ["check_api_key"]


def check_api_key(given: str | None, expected: str | None) -> None:
    """401 unless ``given`` is ``expected`` (no key configured: anything goes). Constant-time; the
    key is never put in a message or a log."""
    if expected is None:
        return
    if not hmac.compare_digest((given or "").encode("utf-8", "replace"), expected.encode()):
        raise ApiProblem(401, "Invalid API key.")
