from __future__ import annotations

from pathlib import Path

import pytest

from bulkops.errors import UsageError
from bulkops.limits.profiles import (
    PROFILES,
    Limit,
    format_rate_limit_message,
    load_profile,
    parse_rate_limit_message,
)


def test_default_profile_is_the_seed_docs_table() -> None:
    p = PROFILES["default"]
    assert p.rate("list", "index") == 200
    assert p.rate("fetch", "index") == 100
    assert p.rate("delete", "namespace") == 5000
    assert p.rate("delete", "index") == 5000
    assert p.rate("delete_by_metadata", "namespace") == 5
    assert p.rate("delete_by_metadata", "index") == 500
    assert p.rate("describe_index_stats", "index") == 100
    assert p.rate("delete", "namespace", "records") is None


def test_strict_adds_per_namespace_request_limits() -> None:
    p = PROFILES["strict"]
    assert p.name == "strict"
    assert p.rate("delete", "namespace") == 100
    assert p.rate("delete", "namespace", "records") == 5000
    assert p.rate("upsert", "namespace") == 100
    assert p.rate("list", "index") == 200
    assert PROFILES["none"].limits == ()


@pytest.mark.parametrize("limit", list(PROFILES["strict"].limits))
def test_message_round_trip(limit: Limit) -> None:
    named = parse_rate_limit_message(format_rate_limit_message(limit, "tenant-7#a"))
    assert named is not None
    assert (named.operation, named.scope_kind, named.scope_name, named.unit) == (
        limit.operation,
        limit.scope,
        "tenant-7#a",
        limit.unit,
    )


def test_parses_pinecone_qps_wording() -> None:
    msg = "Request failed. You've reached the upsert QPS limit for namespace ns1 (100 QPS). Pace your..."
    named = parse_rate_limit_message(msg)
    assert named is not None
    assert (named.operation, named.scope_kind, named.scope_name) == ("upsert", "namespace", "ns1")


def test_profile_file_overrides(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text('{"base": "default", "limits": [{"operation": "list", "scope": "index", "rate": 50}]}')
    p = load_profile(f)
    assert p.rate("list", "index") == 50
    assert p.rate("fetch", "index") == 100


@pytest.mark.parametrize(
    "text",
    [
        '{"limits": [{"operation": "nope", "scope": "index", "rate": 5}]}',
        '{"limits": [{"operation": "list", "scope": "world", "rate": 5}]}',
        '{"limits": [{"operation": "list", "scope": "index", "rate": -1}]}',
        "not json",
    ],
)
def test_bad_profile_file_is_a_usage_error(tmp_path: Path, text: str) -> None:
    f = tmp_path / "p.json"
    f.write_text(text)
    with pytest.raises(UsageError, match="not valid"):
        load_profile(f)


def test_unknown_profile_name() -> None:
    with pytest.raises(UsageError, match="unknown limit profile"):
        load_profile("fastest")
