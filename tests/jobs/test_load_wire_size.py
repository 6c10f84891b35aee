"""An import cuts batches by each record's size on its wire, computed without encoding it: the figures
must be exact, for the REST body (JSON) and the gRPC request (protobuf), from lists and from arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkops.api.grpc.messages import upsert_request
from bulkops.api.rest.wire import upsert_body
from bulkops.jobs.load.batches import EITHER, GRPC, REST, WireSize
from bulkops.models import Record, SparseValues

_FLOATS = st.floats(width=32, allow_nan=False, allow_infinity=False)
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), _FLOATS, st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_METADATA = st.one_of(st.none(), st.dictionaries(st.text(max_size=5), _JSON, max_size=4))
_SPARSE = st.one_of(
    st.none(),
    st.integers(1, 5).flatmap(
        lambda n: st.builds(
            SparseValues,
            st.lists(st.integers(0, 2**32 - 1), min_size=n, max_size=n, unique=True),
            st.lists(_FLOATS, min_size=n, max_size=n),
        )
    ),
)
_VALUES = st.one_of(
    st.lists(_FLOATS, max_size=6),
    st.tuples(_FLOATS, _FLOATS),
    st.just(()),
    st.lists(_FLOATS, min_size=1, max_size=6).map(lambda xs: np.array(xs, dtype=np.float32)),
)
_RECORDS = st.lists(
    st.builds(Record, st.text(alphabet=st.characters(max_codepoint=127), min_size=1, max_size=20), _VALUES,
              _SPARSE, _METADATA),
    min_size=1,
    max_size=4,
)  # fmt: skip


def _request_size(wire: WireSize, records: list[Record], namespace: str) -> int:
    return wire.request(namespace) + sum(wire.entry(r) for r in records)


@settings(max_examples=300, deadline=None)
@given(_RECORDS, st.sampled_from(["", "ns", "tenant é"]))
def test_rest_sizes_are_the_body_upsert_body_writes(records: list[Record], namespace: str) -> None:
    assert _request_size(REST, records, namespace) == len(upsert_body(records, namespace))


@settings(max_examples=300, deadline=None)
@given(_RECORDS, st.sampled_from(["", "ns", "tenant é"]))
def test_grpc_sizes_are_the_request_upsert_request_serializes(records: list[Record], namespace: str) -> None:
    assert _request_size(GRPC, records, namespace) == len(
        upsert_request(records, namespace).SerializeToString()
    )


def test_unknown_wire_takes_the_larger_of_both() -> None:
    record = Record("a", [0.5] * 8, metadata={"n": 1})
    assert EITHER.entry(record) == max(REST.entry(record), GRPC.entry(record)) == REST.entry(record)
    numbers = Record("b", (), SparseValues([1], [0.5]), metadata={str(i): i for i in range(20)})
    assert EITHER.entry(numbers) == GRPC.entry(numbers) > REST.entry(numbers)  # 9 bytes per number
