"""The gRPC codec: packed vectors as float32 views, unpacked ones recovered, REST-like numbers."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from google.protobuf import struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkops.api.grpc.messages import record_from_vector
from bulkops.protos import vector_service_pb2 as pb
from bulkops.protos.codec import (
    floats_from_bytes,
    floats_to_bytes,
    struct_from_dict,
    struct_size,
    struct_to_dict,
    vector_values,
)
from bulkops.protos.methods import METHODS


def test_packed_vector_round_trips_bit_for_bit() -> None:
    values = np.array([0.1, -2.5, 3.4028235e38, 1e-45, -0.0], dtype=np.float32)
    wire = pb.Vector(id="a", values=floats_to_bytes(values)).SerializeToString()
    back = vector_values(pb.Vector.FromString(wire))
    assert back.dtype == np.float32
    assert back.tobytes() == values.tobytes()
    assert floats_to_bytes([0.5, 1.0]) == struct.pack("<2f", 0.5, 1.0)


def test_unpacked_floats_are_recovered_from_unknown_fields() -> None:
    wire = b"\x0a\x01a" + b"".join(b"\x15" + struct.pack("<f", x) for x in (1.0, 2.5, -3.0))
    assert vector_values(pb.Vector.FromString(wire)).tolist() == [1.0, 2.5, -3.0]
    assert vector_values(pb.Vector(id="b")).size == 0


def test_a_length_not_divisible_by_four_is_refused() -> None:
    with pytest.raises(ValueError, match="divisible by 4"):
        floats_from_bytes(b"\x00\x00\x00")


def test_struct_numbers_come_back_as_rest_prints_them() -> None:
    doc = {"year": 2019, "score": 0.25, "tags": ["a", 1, True, None], "nested": {"n": -3.0}, "big": 2.0**60}
    back = struct_to_dict(
        pb.Vector.FromString(pb.Vector(metadata=struct_from_dict(doc)).SerializeToString()).metadata
    )
    assert back == {
        "year": 2019,
        "score": 0.25,
        "tags": ["a", 1, True, None],
        "nested": {"n": -3},
        "big": 2.0**60,
    }
    assert isinstance(back["year"], int)
    assert isinstance(back["big"], float)  # beyond 2**53 a double is not an exact integer


def test_every_method_path_has_no_package() -> None:
    assert METHODS["Fetch"].path == "/VectorService/Fetch"
    assert len(METHODS) == 12
    assert METHODS["DescribeNamespace"].response is pb.NamespaceDescription


_JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)


def _as_rest_prints(value: object) -> object:
    """What Pinecone's REST would answer for ``value`` stored as a Struct (numbers are doubles)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        number = float(value)
        return int(number) if number.is_integer() and abs(number) <= 2**53 else number
    if isinstance(value, list):
        return [_as_rest_prints(v) for v in value]
    assert isinstance(value, dict)
    return {k: _as_rest_prints(v) for k, v in value.items()}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _JSON_VALUES, max_size=6))
def test_struct_round_trip_and_size_match_protobuf(doc: dict[str, object]) -> None:
    message = struct_from_dict(doc)
    reference = struct_pb2.Struct()
    reference.update(doc)  # protobuf's own conversion: ours must make the same message
    assert message == reference
    wire = message.SerializeToString()
    assert struct_size(doc) == len(wire)
    assert struct_to_dict(struct_pb2.Struct.FromString(wire)) == _as_rest_prints(doc)


def test_a_fetched_vector_becomes_a_record_by_every_encoding_of_its_values() -> None:
    """Packed floats, unpacked floats, no values and a bad length, as a fetch answer can carry them."""
    packed = pb.Vector.FromString(
        pb.Vector(
            id="a", values=floats_to_bytes([1.5, -2.0]), metadata=struct_from_dict({"n": 1})
        ).SerializeToString()
    )
    record = record_from_vector("a", packed)
    assert record.values.tolist() == [1.5, -2.0]
    assert record.metadata == {"n": 1}
    unpacked = b"\x0a\x01b" + b"".join(b"\x15" + struct.pack("<f", x) for x in (1.0, 2.5))
    assert record_from_vector("b", pb.Vector.FromString(unpacked)).values.tolist() == [1.0, 2.5]
    bare = record_from_vector("c", pb.Vector(id="c"))
    assert bare.values == ()
    assert bare.metadata is None
    with pytest.raises(ValueError, match="divisible by 4"):
        record_from_vector("d", pb.Vector(id="d", values=b"\x00\x00\x00"))
