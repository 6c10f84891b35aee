"""Settings resolution, host rules, and the sans-IO wire helpers (exact bytes, budgets, page ends)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from bulkops.api import ClientConfig, normalize_host, split_fetch_batches
from bulkops.api.rest.wire import (
    encode_query,
    fetch_target,
    list_target,
    namespace_path,
    parse_fetch,
    parse_list,
)
from bulkops.errors import UsageError
from bulkops.limits.profiles import PROFILES, Limit, Profile


def test_key_and_host_come_from_the_environment_like_the_sdk() -> None:
    config = ClientConfig.resolve(
        environ={"PINECONE_API_KEY": "k1", "PINECONE_CONTROLLER_HOST": "ctl.example"}
    )
    assert config.api_key == "k1"
    assert config.controller_host == "https://ctl.example"


def test_arguments_win_over_the_environment() -> None:
    env = {"PINECONE_API_KEY": "env", "PINECONE_CONTROLLER_HOST": "env.example"}
    config = ClientConfig.resolve("arg", "http://127.0.0.1:5080/", environ=env)
    assert (config.api_key, config.controller_host) == ("arg", "http://127.0.0.1:5080")


def test_default_controller_is_pinecone() -> None:
    assert ClientConfig.resolve("k", environ={}).controller_host == "https://api.pinecone.io"


def test_missing_key_says_what_to_do() -> None:
    with pytest.raises(UsageError, match="PINECONE_API_KEY") as caught:
        ClientConfig.resolve(environ={})
    assert "api_key='local'" in str(caught.value)


def test_an_explicit_empty_key_is_allowed_and_not_sent() -> None:
    config = ClientConfig.resolve("", environ={})
    assert "Api-Key" not in config.headers()
    assert ClientConfig.resolve("k", environ={}).headers()["Api-Key"] == "k"


def test_headers_name_the_api_version_and_bulkops() -> None:
    headers = ClientConfig.resolve("k", api_version="2025-04", environ={}).headers()
    assert headers["X-Pinecone-Api-Version"] == "2025-04"
    assert headers["User-Agent"].startswith("bulkops/")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("idx-abc.svc.pinecone.io", "https://idx-abc.svc.pinecone.io"),
        ("http://127.0.0.1:5081", "http://127.0.0.1:5081"),
        ("https://x.io/", "https://x.io"),
        ("  localhost:5081 ", "https://localhost:5081"),
    ],
)
def test_normalize_host(given: str, expected: str) -> None:
    assert normalize_host(given) == expected


@pytest.mark.parametrize("bad", ["", "ftp://x.io", "   "])
def test_bad_hosts_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError, match="host"):
        normalize_host(bad)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"timeout": 0}, "timeout"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"deadline": -1}, "deadline"),
        ({"max_connections": 0}, "max_connections"),
        ({"max_fetch_url_bytes": 10}, "max_fetch_url_bytes"),
        ({"api_version": " "}, "api_version"),
        ({"limits": "bogus"}, "limit profile"),
    ],
)
def test_bad_settings_are_usage_errors(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(UsageError, match=word):
        ClientConfig.resolve("k", environ={}, **kwargs)  # type: ignore[arg-type]


def test_limits_accept_names_profiles_and_none() -> None:
    custom = Profile("mine", (Limit("fetch", "index", "requests", 7),))
    assert ClientConfig.resolve("k", environ={}, limits="strict").limits == PROFILES["strict"]
    assert ClientConfig.resolve("k", environ={}, limits=custom).limits is custom
    assert ClientConfig.resolve("k", environ={}, limits=None).limits.limits == ()


def test_max_attempts_overrides_the_policy() -> None:
    assert ClientConfig.resolve("k", environ={}, max_attempts=2).retry.max_attempts == 2


def test_config_repr_hides_the_key() -> None:
    text = repr(ClientConfig.resolve("pcsk_secret", environ={}))
    assert "pcsk_secret" not in text
    assert "api_key=***" in text


# --- wire -----------------------------------------------------------------------------------------


def test_fetch_target_repeats_ids_and_escapes_everything() -> None:
    target = fetch_target(["a b", "doc#1", "x&y=z", "p%q", "s/t+u"], "my ns")
    assert target == (
        "/vectors/fetch?ids=a%20b&ids=doc%231&ids=x%26y%3Dz&ids=p%25q&ids=s%2Ft%2Bu&namespace=my%20ns"
    )
    assert fetch_target(["a"], "") == "/vectors/fetch?ids=a"


def test_split_fetch_batches_fills_the_budget_exactly() -> None:
    ids = [f"id{i:03d}" for i in range(100)]  # each "ids=idNNN" is 9 bytes, "&" 1 more
    budget = len(fetch_target(ids[:10], "ns"))
    batches = split_fetch_batches(ids, "ns", budget)
    assert [len(b) for b in batches] == [10] * 10
    assert all(len(fetch_target(b, "ns")) <= budget for b in batches)
    assert len(split_fetch_batches(ids, "ns", budget - 1)[0]) == 9


def test_split_fetch_batches_keeps_order_and_everything() -> None:
    ids = [f"{'k' * (i % 40)}-{i}" for i in range(3000)]
    batches = split_fetch_batches(ids, "", 2000)
    assert [i for b in batches for i in b] == ids
    assert all(len(fetch_target(b, "")) <= 2000 for b in batches)
    assert max(len(b) for b in split_fetch_batches(ids, "", 10**9)) == 1000


def test_an_id_longer_than_the_budget_gets_its_own_batch() -> None:
    assert split_fetch_batches(["a", "x" * 600, "b"], "", 300) == [["a"], ["x" * 600], ["b"]]


def test_list_target_sends_an_empty_namespace_like_the_sdk() -> None:
    assert list_target("", None, None, None) == "/vectors/list?namespace="
    assert (
        list_target("ns", "p#", 50, "tok==")
        == "/vectors/list?namespace=ns&prefix=p%23&limit=50&paginationToken=tok%3D%3D"
    )


def test_default_namespace_path_is___default__() -> None:
    assert namespace_path("") == "/namespaces/__default__"
    assert namespace_path("a/b") == "/namespaces/a%2Fb"


@pytest.mark.parametrize(
    ("doc", "token"),
    [
        ({"vectors": [{"id": "a"}], "pagination": {"next": "t1"}}, "t1"),
        ({"vectors": [{"id": "a"}], "pagination": {"next": ""}}, None),
        ({"vectors": [{"id": "a"}], "pagination": None}, None),
        ({"vectors": [{"id": "a"}]}, None),
    ],
)
def test_a_missing_or_empty_next_token_ends_the_listing(doc: dict[str, object], token: str | None) -> None:
    page = parse_list(doc)
    assert page.ids == ("a",)
    assert page.next_token == token


def test_parse_fetch_builds_records() -> None:
    found = parse_fetch(
        {"vectors": {"a": {"id": "a", "values": [1.0], "sparseValues": {"indices": [3], "values": [0.5]}}}}
    )
    assert found["a"].sparse_values is not None
    assert list(found["a"].sparse_values.indices) == [3]


def test_encode_query_never_uses_plus_for_spaces() -> None:
    assert encode_query([("q", "a b+c")]) == "q=a%20b%2Bc"


def test_parse_fetch_gives_float32_arrays_bit_for_bit() -> None:
    text = b'{"vectors":{"a":{"id":"a","values":[0.1,-3.4028235e+38,1e-45]},"b":{"id":"b","values":[]}}}'
    found = parse_fetch(orjson.loads(text))
    values = found["a"].values
    assert isinstance(values, np.ndarray)
    assert values.dtype == np.float32
    assert values.tobytes() == np.array([0.1, -3.4028235e38, 1e-45], dtype=np.float32).tobytes()
    assert len(found["b"].values) == 0
