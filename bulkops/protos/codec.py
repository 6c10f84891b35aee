"""Conversions between the gRPC messages and Python values, with no Python object per float.

Dense vectors are ``bytes`` fields holding little-endian float32 (packed ``repeated float`` on the
wire): :func:`floats_from_bytes` views them as a numpy array without copying, :func:`floats_to_bytes`
writes an array (or any float sequence) back. A sender that used the legal but unusual *unpacked*
encoding leaves the field empty and the floats in the message's unknown fields;
:func:`vector_values` recovers them from there.

Metadata is ``google.protobuf.Struct``, whose numbers are all doubles. Pinecone's REST API prints an
integral double as an integer (``2019``, not ``2019.0``), so :func:`struct_to_dict` does the same:
an export gives the same JSON over either transport.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from google.protobuf import struct_pb2, unknown_fields

__all__ = [
    "FLOAT32",
    "floats_from_bytes",
    "floats_to_bytes",
    "struct_from_dict",
    "struct_to_dict",
    "vector_values",
]

FLOAT32 = np.dtype("<f4")
_WIRE_FIXED32 = 5
_EXACT_INT = 2**53


def floats_from_bytes(data: bytes) -> npt.NDArray[np.float32]:
    """A read-only float32 view of a packed vector field (no copy)."""
    if len(data) % 4:
        raise ValueError(f"a packed float32 vector has a length divisible by 4, not {len(data)} bytes")
    return np.frombuffer(data, dtype=FLOAT32)


def floats_to_bytes(values: Sequence[float] | npt.NDArray[Any]) -> bytes:
    """The packed float32 bytes of ``values`` (one memcpy for a float32 array)."""
    if isinstance(values, np.ndarray) and values.dtype == FLOAT32:
        return values.tobytes()
    return np.asarray(values, dtype=FLOAT32).tobytes()


def vector_values(message: Any, field_name: str = "values", number: int = 2) -> npt.NDArray[np.float32]:
    """The dense values of ``message``: its bytes field, or the unpacked floats a sender left instead."""
    data: bytes = getattr(message, field_name)
    if data:
        return floats_from_bytes(data)
    unknown = unknown_fields.UnknownFieldSet(message)
    unpacked = [
        field.data
        for field in (unknown[i] for i in range(len(unknown)))
        if field.field_number == number and field.wire_type == _WIRE_FIXED32
    ]
    if not unpacked:
        return np.empty(0, dtype=FLOAT32)
    return np.frombuffer(struct.pack(f"<{len(unpacked)}I", *unpacked), dtype=FLOAT32)


def _value_to_python(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        if number.is_integer() and -_EXACT_INT <= number <= _EXACT_INT:
            return int(number)
        return number
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [_value_to_python(item) for item in value.list_value.values]
    return None


def struct_to_dict(message: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as plain JSON-like Python values (integral numbers as ``int``, as Pinecone's REST)."""
    return {key: _value_to_python(value) for key, value in message.fields.items()}


def struct_from_dict(doc: Mapping[str, Any], into: struct_pb2.Struct | None = None) -> struct_pb2.Struct:
    """Fill ``into`` (or a new Struct) from a JSON-like mapping; every number becomes a double."""
    message = into if into is not None else struct_pb2.Struct()
    message.update(doc)
    return message
