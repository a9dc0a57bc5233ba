"""Data types of terminals and wires, their default values and LabVIEW's numeric coercion.

Wire values are plain Python objects: `bool`, `int` (I32, U32 and client handles),
`float` (DBL), `str` (String), `bytes` (byte array) and `ErrorCluster`. A wire between
two numeric types converts its value the way LabVIEW's coercion dots do
(https://www.ni.com/docs/en-US/bundle/labview/page/numeric-conversion.html):

- integer to DBL: the nearest double;
- DBL to integer: rounded to the nearest integer, halves to even, and out-of-range
  values saturate at the integer's minimum or maximum (NaN becomes 0, where LabVIEW
  documents the result as meaningless);
- integer to integer: the low 32 bits are kept, so -1 as U32 is 4294967295.

No other pair of different types may be wired: Boolean, String, byte array, error cluster
and client handle connect only to their own type.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webvi.errors import ErrorCluster

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
U32_MAX = 2**32 - 1


@dataclass(frozen=True, eq=False)
class DataType:
    """A terminal data type: its name in VI files, default value and value check."""

    name: str
    default: Any
    numeric: bool = False
    # Returns None when a value of this type is acceptable, else why it is not.
    check: Callable[[Any], str | None] = lambda value: None
    # Converts a JSON value from a VI file to a wire value (after check).
    from_json: Callable[[Any], Any] = lambda value: value
    # Converts a wire value to a JSON value for a VI file or the CLI's output.
    to_json: Callable[[Any], Any] = lambda value: value

    def __repr__(self) -> str:
        return f"<DataType {self.name}>"

    def validate(self, value: Any) -> str | None:
        """Return None when value is a valid value of this type, else the reason it is not."""
        return self.check(value)

    def parse_json(self, value: Any) -> Any:
        """Convert a JSON value to a wire value, raising ValueError with the reason."""
        converted = self.from_json(value)
        problem = self.check(converted)
        if problem:
            raise ValueError(problem)
        return converted


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected a Boolean (true or false), got {value!r}"


def _int_checker(low: int, high: int, type_name: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not _is_int(value):
            return f"expected an integer for {type_name}, got {value!r}"
        if not low <= value <= high:
            return f"{value} is out of the {type_name} range {low} to {high}"
        return None

    return check


def _check_float(value: Any) -> str | None:
    return None if isinstance(value, float) else f"expected a number for DBL, got {value!r}"


def _float_from_json(value: Any) -> Any:
    if _is_int(value):
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"{value} is too large for a DBL") from None
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return value


def _float_to_json(value: float) -> Any:
    # JSON has no NaN or infinity; their names keep a VI file and the CLI output valid JSON.
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _check_str(value: Any) -> str | None:
    return None if isinstance(value, str) else f"expected a string, got {value!r}"


def _check_bytes(value: Any) -> str | None:
    return None if isinstance(value, bytes) else f"expected a byte array, got {value!r}"


def _bytes_from_json(value: Any) -> Any:
    if isinstance(value, list) and all(_is_int(item) and 0 <= item <= 255 for item in value):
        return bytes(value)
    if isinstance(value, list):
        raise ValueError("a byte array is a list of integers from 0 to 255")
    return value


def _check_error(value: Any) -> str | None:
    return None if isinstance(value, ErrorCluster) else f"expected an error cluster, got {value!r}"


def _error_from_json(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    unknown = set(value) - {"status", "code", "source"}
    if unknown:
        raise ValueError(f"an error cluster has only status, code and source, not {', '.join(sorted(unknown))}")
    status, code, source = value.get("status", False), value.get("code", 0), value.get("source", "")
    if not isinstance(status, bool) or not _is_int(code) or not isinstance(source, str):
        raise ValueError("an error cluster needs a Boolean status, an integer code and a string source")
    if not I32_MIN <= code <= I32_MAX:
        raise ValueError(f"error code {code} is out of the I32 range")
    return ErrorCluster(status, code, source)


def _error_to_json(value: ErrorCluster) -> dict:
    return {"status": value.status, "code": value.code, "source": value.source}


BOOLEAN = DataType("Boolean", False, check=_check_bool)
I32 = DataType("I32", 0, numeric=True, check=_int_checker(I32_MIN, I32_MAX, "I32"))
U32 = DataType("U32", 0, numeric=True, check=_int_checker(0, U32_MAX, "U32"))
DBL = DataType("DBL", 0.0, numeric=True, check=_check_float, from_json=_float_from_json, to_json=_float_to_json)
STRING = DataType("String", "", check=_check_str)
BYTE_ARRAY = DataType("ByteArray", b"", check=_check_bytes, from_json=_bytes_from_json, to_json=list)
ERROR_CLUSTER = DataType(
    "ErrorCluster", ErrorCluster.NO_ERROR, check=_check_error, from_json=_error_from_json, to_json=_error_to_json
)
# A client handle is a refnum: 0 means "no handle", live handles are positive integers.
HTTP_CLIENT_HANDLE = DataType("HTTPClientHandle", 0, check=_int_checker(0, U32_MAX, "client handle"))

TYPES: dict[str, DataType] = {
    data_type.name: data_type
    for data_type in (BOOLEAN, I32, U32, DBL, STRING, BYTE_ARRAY, ERROR_CLUSTER, HTTP_CLIENT_HANDLE)
}


def type_named(name: str) -> DataType:
    """Return the data type a VI file names, raising KeyError with the known names."""
    try:
        return TYPES[name]
    except KeyError:
        raise KeyError(f"unknown data type {name!r}; known types: {', '.join(TYPES)}") from None


# --- coercion ---------------------------------------------------------------------------


def _wrap_i32(value: int) -> int:
    return (value - I32_MIN) % 2**32 + I32_MIN


def _wrap_u32(value: int) -> int:
    return value % 2**32


def _saturating(low: int, high: int) -> Callable[[float], int]:
    def convert(value: float) -> int:
        if math.isnan(value):
            return 0
        if value <= low:
            return low
        if value >= high:
            return high
        return round(value)  # Python rounds halves to even, as LabVIEW does

    return convert


_COERCIONS: dict[tuple[DataType, DataType], Callable[[Any], Any]] = {
    (I32, DBL): float,
    (U32, DBL): float,
    (DBL, I32): _saturating(I32_MIN, I32_MAX),
    (DBL, U32): _saturating(0, U32_MAX),
    (I32, U32): _wrap_u32,
    (U32, I32): _wrap_i32,
}


def coercion(source: DataType, sink: DataType) -> Callable[[Any], Any] | None:
    """Return the conversion a wire from source to sink applies, or None if none is needed.

    Raises TypeError when the two types cannot be wired together.
    """
    if source is sink:
        return None
    try:
        return _COERCIONS[(source, sink)]
    except KeyError:
        raise TypeError(
            f"{source.name} cannot be wired to {sink.name}; only the numeric types I32, U32 and DBL convert into each other"
        ) from None
