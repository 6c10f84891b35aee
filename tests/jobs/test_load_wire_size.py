"""An import measures each record's JSON size without building its JSON; the figure must be exact."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkops.jobs.load.batches import _wire_size
from bulkops.models import Record, SparseValues

_FLOATS = st.floats(width=32, allow_nan=False, allow_infinity=False)
_METADATA = st.one_of(
    st.none(),
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.text(max_size=8), st.integers(-(2**63), 2**63 - 1), st.booleans()),
        max_size=3,
    ),
)
_SPARSE = st.one_of(
    st.none(),
    st.builds(SparseValues, st.lists(st.integers(0, 10**6), max_size=4), st.lists(_FLOATS, max_size=4)),
)


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1, max_size=20),
    st.one_of(st.lists(_FLOATS, max_size=6), st.tuples(_FLOATS, _FLOATS), st.just(())),
    _SPARSE,
    _METADATA,
)
def test_wire_size_equals_the_encoded_vector_json(
    record_id: str,
    values: list[float] | tuple[float, ...],
    sparse: SparseValues | None,
    metadata: dict[str, object] | None,
) -> None:
    record = Record(record_id, values, sparse, metadata)
    assert _wire_size(record) == len(orjson.dumps(record.to_wire())) + 1
