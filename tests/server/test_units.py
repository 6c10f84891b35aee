"""Pure pieces of the server: filter semantics, fault and latency specs, the rate limiter."""

from __future__ import annotations

import pytest

from bulkops.clock import FakeClock
from bulkops.errors import UsageError
from bulkops.limits.profiles import Limit, Profile
from bulkops.server import Latency, parse_faults, parse_latency
from bulkops.server.faults import FaultInjector, FaultRule
from bulkops.server.filters import compile_filter
from bulkops.server.limits import RateLimiter
from bulkops.server.wire import ApiProblem

RECORDS = {
    "a": {"genre": "drama", "year": 2020, "tags": ["x", "y"], "flag": True},
    "b": {"genre": "comedy", "year": 1999, "tags": ["z"], "flag": False},
    "c": {"genre": "drama", "year": 2001},
    "d": {},
}


def _match(doc: object) -> list[str]:
    predicate = compile_filter(doc)
    return sorted(k for k, md in RECORDS.items() if predicate(md))


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"genre": "drama"}, ["a", "c"]),
        ({"genre": {"$ne": "drama"}}, ["b", "d"]),
        ({"year": {"$gt": 2001}}, ["a"]),
        ({"year": {"$gte": 2001, "$lt": 2021}}, ["a", "c"]),
        ({"year": {"$lte": 1999}}, ["b"]),
        ({"genre": {"$in": ["comedy", "horror"]}}, ["b"]),
        ({"genre": {"$nin": ["comedy"]}}, ["a", "c", "d"]),
        ({"tags": "y"}, ["a"]),
        ({"tags": {"$in": ["z", "q"]}}, ["b"]),
        ({"tags": {"$nin": ["x"]}}, ["b", "c", "d"]),
        ({"tags": {"$exists": True}}, ["a", "b"]),
        ({"tags": {"$exists": False}}, ["c", "d"]),
        ({"flag": True}, ["a"]),
        ({"flag": 1}, []),  # booleans and numbers never compare equal
        ({"genre": {"$gt": 1}}, []),  # strings are not numbers
        ({"$or": [{"genre": "comedy"}, {"year": 2001}]}, ["b", "c"]),
        ({"$and": [{"genre": "drama"}, {"tags": {"$exists": True}}]}, ["a"]),
        ({"genre": "drama", "year": 2001}, ["c"]),
    ],
)
def test_filter_semantics(doc: object, expected: list[str]) -> None:
    assert _match(doc) == expected


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({}, "non-empty JSON object"),
        ([], "non-empty JSON object"),
        ({"a": {"$regex": "x"}}, "unknown operator '$regex'"),
        ({"$nor": []}, "unknown top-level operator"),
        ({"$and": {}}, "$and needs a non-empty array"),
        ({"a": {"$in": "x"}}, "needs an array"),
        ({"a": {"$in": list(range(10_001))}}, "at most 10000"),
        ({"a": {"$gt": True}}, "needs a number"),
        ({"a": {"$exists": 1}}, "true or false"),
        ({"a": {"$eq": {"b": 1}}}, "string, number or boolean"),
        ({"a": {}}, "is empty"),
    ],
)
def test_bad_filters_are_400_with_a_reason(doc: object, fragment: str) -> None:
    with pytest.raises(ApiProblem) as raised:
        compile_filter(doc)
    assert raised.value.status == 400
    assert fragment in raised.value.message


def test_fault_spec_grammar() -> None:
    rules = parse_faults("500:0.25, reset@fetch#2#5, stall=1.5@list:1, after-503@delete#1")
    assert rules == (
        FaultRule("500", None, 0.25),
        FaultRule("reset", "fetch", None, frozenset({2, 5})),
        FaultRule("stall", "list", 1.0, stall_seconds=1.5),
        FaultRule("503", "delete", None, frozenset({1}), after=True),
    )
    for bad in ("501:0.1", "500@nope:0.1", "500:1.5", "reset", "500#"):
        with pytest.raises(UsageError):
            parse_faults(bad)


def test_scripted_faults_count_per_operation() -> None:
    injector = FaultInjector(parse_faults("503@list#2,500#4"))
    picks = [injector.choose(op) for op in ("list", "fetch", "list", "fetch", "list")]
    assert [p.kind if p else None for p in picks] == [None, None, "503", "500", None]


def test_latency_spec() -> None:
    base, per_op = parse_latency("20:5, fetch=100, list=1:2")
    assert base == Latency(20, 5)
    assert per_op == {"fetch": Latency(100, 0), "list": Latency(1, 2)}
    for bad in ("x", "-1", "nope=5"):
        with pytest.raises(UsageError):
            parse_latency(bad)


async def test_rate_limiter_charges_all_buckets_or_none() -> None:
    clock = FakeClock()
    profile = Profile(
        "t", (Limit("delete", "namespace", "requests", 2), Limit("delete", "index", "records", 10))
    )
    limiter = RateLimiter(profile, clock)
    assert limiter.admit("delete", "idx", "a", {"requests": 1, "records": 6}) is None
    refusal = limiter.admit("delete", "idx", "b", {"requests": 1, "records": 6})
    assert refusal is not None
    assert (refusal.limit.unit, refusal.scope_name) == ("records", "idx")
    assert limiter.admit("delete", "idx", "a", {"requests": 1, "records": 4}) is None  # 'b' charged nothing
    refusal = limiter.admit("delete", "idx", "a", {"requests": 1, "records": 0})
    assert refusal is not None
    assert (refusal.limit.scope, refusal.scope_name) == ("namespace", "a")
    await clock.advance(0.5)  # refills 1 request and 5 records
    assert limiter.admit("delete", "idx", "a", {"requests": 1, "records": 5}) is None
    assert limiter.admit("list", "idx", "a", {"requests": 1}) is None  # no row: never limited
