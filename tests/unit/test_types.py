"""Data types: value checks, JSON conversion and LabVIEW's numeric coercion on wires."""

from __future__ import annotations

import math

import pytest

from webvi.errors import ErrorCluster
from webvi.types import (
    BOOLEAN, BYTE_ARRAY, DBL, ERROR_CLUSTER, HTTP_CLIENT_HANDLE, I32, STRING, TYPES, U32, coercion, type_named,
)


@pytest.mark.parametrize(
    ("source", "sink", "value", "expected"),
    [
        (I32, DBL, -5, -5.0),
        (U32, DBL, 4294967295, 4294967295.0),
        (DBL, I32, 13.5, 14),
        (DBL, I32, 14.5, 14),
        (DBL, I32, -2.5, -2),
        (DBL, I32, 13.7, 14),
        (DBL, I32, 1e12, 2**31 - 1),
        (DBL, I32, -1e12, -(2**31)),
        (DBL, I32, math.inf, 2**31 - 1),
        (DBL, I32, math.nan, 0),
        (DBL, U32, -1.0, 0),
        (DBL, U32, 5e9, 2**32 - 1),
        (I32, U32, -1, 2**32 - 1),
        (I32, U32, -(2**31), 2**31),
        (U32, I32, 2**31, -(2**31)),
        (U32, I32, 2**32 - 1, -1),
        (U32, I32, 7, 7),
    ],
)
def test_numeric_coercion(source, sink, value, expected) -> None:
    convert = coercion(source, sink)

    assert convert is not None
    assert convert(value) == expected
    assert sink.validate(convert(value)) is None


def test_same_type_needs_no_coercion() -> None:
    for data_type in TYPES.values():
        assert coercion(data_type, data_type) is None


@pytest.mark.parametrize(
    ("source", "sink"),
    [
        (BOOLEAN, I32),
        (I32, BOOLEAN),
        (STRING, I32),
        (I32, STRING),
        (STRING, BYTE_ARRAY),
        (BYTE_ARRAY, STRING),
        (HTTP_CLIENT_HANDLE, U32),
        (U32, HTTP_CLIENT_HANDLE),
        (ERROR_CLUSTER, BOOLEAN),
        (DBL, STRING),
    ],
)
def test_non_numeric_types_do_not_coerce(source, sink) -> None:
    with pytest.raises(TypeError, match=f"{source.name} cannot be wired to {sink.name}; only the numeric types"):
        coercion(source, sink)


@pytest.mark.parametrize(
    ("data_type", "value"),
    [
        (BOOLEAN, 1),
        (I32, True),
        (I32, 2**31),
        (I32, 1.5),
        (U32, -1),
        (DBL, 1),
        (STRING, b"bytes"),
        (BYTE_ARRAY, "text"),
        (ERROR_CLUSTER, {"status": True}),
        (HTTP_CLIENT_HANDLE, -1),
    ],
)
def test_validate_rejects_wrong_values(data_type, value) -> None:
    assert data_type.validate(value) is not None


def test_defaults_are_valid() -> None:
    for data_type in TYPES.values():
        assert data_type.validate(data_type.default) is None


def test_json_round_trip() -> None:
    cases = [
        (BYTE_ARRAY, b"\x00\xffA", [0, 255, 65]),
        (ERROR_CLUSTER, ErrorCluster(True, 56, "GET in VI"), {"status": True, "code": 56, "source": "GET in VI"}),
        (DBL, math.inf, "Infinity"),
        (DBL, 2.5, 2.5),
    ]
    for data_type, value, json_value in cases:
        assert data_type.to_json(value) == json_value
        assert data_type.parse_json(json_value) == value


def test_dbl_accepts_json_integers_and_nan() -> None:
    assert DBL.parse_json(3) == 3.0
    assert math.isnan(DBL.parse_json("NaN"))


def test_parse_json_explains_bad_values() -> None:
    with pytest.raises(ValueError, match="list of integers from 0 to 255"):
        BYTE_ARRAY.parse_json([1, 256])
    with pytest.raises(ValueError, match="only status, code and source"):
        ERROR_CLUSTER.parse_json({"status": True, "code": 1, "sauce": ""})
    with pytest.raises(ValueError, match="out of the U32 range"):
        U32.parse_json(-3)


def test_type_named_lists_known_types() -> None:
    assert type_named("U32") is U32
    with pytest.raises(KeyError, match="known types: Boolean, I32"):
        type_named("Int32")
