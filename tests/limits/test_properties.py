"""Property tests: the bucket never admits more than rate × window + burst; fetch batches fit, in order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bulkops.api.rest.wire import fetch_target, plan_fetches, split_fetch_batches
from bulkops.limits.bucket import AdaptiveBucket, AdaptiveTuning
from bulkops.testing import FakeClock


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(min_value=1, max_value=5000),
    burst=st.floats(min_value=0, max_value=0.5),
    arrivals=st.lists(
        st.tuples(st.floats(min_value=0, max_value=2), st.integers(min_value=1, max_value=1000)),
        min_size=1,
        max_size=60,
    ),
)
def test_admitted_units_in_any_window_stay_within_rate_plus_burst(
    rate: float, burst: float, arrivals: list[tuple[float, int]]
) -> None:
    clock = FakeClock()
    bucket = AdaptiveBucket(rate, clock=clock, tuning=AdaptiveTuning(burst_seconds=burst))
    releases: list[tuple[float, int]] = []
    for gap, weight in arrivals:
        clock.jump(gap)
        releases.append((bucket.reserve(weight).release_at, weight))
    releases.sort()
    heaviest = max(weight for _, weight in releases)
    for i, (start, _) in enumerate(releases):
        for end, _ in releases[i:]:
            admitted = sum(w for t, w in releases if start <= t <= end)
            # units released in [start, end] never exceed what drains in that time plus the burst
            # credit and the one request that may overdraw the bucket
            assert admitted <= rate * (end - start) + rate * burst + heaviest + 1e-6 * rate


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(
        st.text(st.characters(min_codepoint=1, max_codepoint=127), min_size=1, max_size=60), max_size=300
    ),
    namespace=st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=20),
    budget=st.integers(min_value=256, max_value=20_000),
    max_ids=st.integers(min_value=1, max_value=1000),
)
def test_fetch_batches_fit_keep_order_and_lose_nothing(
    ids: list[str], namespace: str, budget: int, max_ids: int
) -> None:
    batches = split_fetch_batches(ids, namespace, budget, max_ids=max_ids)
    assert [record_id for batch in batches for record_id in batch] == ids
    for batch in batches:
        assert 1 <= len(batch) <= max_ids
        assert len(fetch_target(batch, namespace)) <= budget or len(batch) == 1
    planned = plan_fetches(ids, namespace, budget, max_ids=max_ids)
    assert [batch for batch, _ in planned] == batches
    assert all(target == fetch_target(batch, namespace) for batch, target in planned)
