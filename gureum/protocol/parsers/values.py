"""Scalar conversions shared by every request parser.

Each function takes what a wire format carries (text, or a number for JSON/CBOR) and returns
the Python value a botocore client would have passed: int, float, bool, bytes, or an aware
UTC datetime. A value that does not convert raises InvalidValue; each protocol turns that
into its own error code.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Callable

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = Decimal("0.000001")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class InvalidValue(ValueError):
    """A wire value that does not fit its shape. `path` names where (outermost first)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.path: list[str] = []

    def at(self, name: str) -> "InvalidValue":
        self.path.insert(0, name)
        return self

    def describe(self) -> str:
        if not self.path:
            return self.message
        return f"{self.message} (at '{'.'.join(self.path)}')"


class MissingMember(InvalidValue):
    """A member the model requires is absent (or null); `path` ends with its name."""

    def __init__(self, name: str):
        super().__init__("Member must not be null")
        self.path = [name]


def checkable_required(shape, keep=None, empty_structures_vanish: bool = False) -> tuple[str, ...]:
    """The structure's required members whose absence the wire shows.

    In XML and form bodies an empty list or map is sent as nothing at all (and in form
    bodies an empty structure too), so only JSON and CBOR can tell every missing required
    member from an empty one; the XML and query families check the others.
    """
    members = shape.members
    hidden = ("list", "map", "structure") if empty_structures_vanish else ("list", "map")
    return tuple(
        name for name in shape.required_members
        if name in members and members[name].type_name not in hidden
        and (keep is None or keep(members[name]))
    )


def missing_member(out: dict, required: tuple[str, ...]) -> None:
    """Raise MissingMember for the first of `required` not in `out` (AWS validates before acting)."""
    for name in required:
        if name not in out:
            raise MissingMember(name)


def to_int(text: str) -> int:
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        raise InvalidValue(f"Value '{text}' is not a valid integer")
    return int(text)


INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def in_range(value: int, bounds: tuple[int, int]) -> int:
    if not bounds[0] <= value <= bounds[1]:
        raise InvalidValue(f"Value '{value}' is out of range")
    return value


def to_int32(text: str) -> int:
    return in_range(to_int(text), INT32)


def to_int64(text: str) -> int:
    return in_range(to_int(text), INT64)


def to_float(text: str) -> float:
    text = text.strip()
    special = _SPECIAL_FLOATS.get(text)
    if special is not None:
        return special
    if not _NUMBER.fullmatch(text):
        raise InvalidValue(f"Value '{text}' is not a valid number")
    return float(text)


def to_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise InvalidValue(f"Value '{text}' is not a valid boolean")


def from_base64(text: str | bytes) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        # Some clients wrap long base64 text or omit padding.
        try:
            cleaned = re.sub(rb"\s+", b"", text.encode("ascii") if isinstance(text, str) else text)
            return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise InvalidValue("Value is not valid base64") from None


def from_epoch(value: Any) -> datetime:
    """Seconds since the epoch (int, float, Decimal or numeric text), to the microsecond."""
    if isinstance(value, bool):
        raise InvalidValue(f"Value '{value}' is not a valid timestamp")
    if isinstance(value, int):
        micros = value * 1_000_000
    else:
        try:
            # repr() of a float is its shortest round-tripping text: exact for what clients send.
            exact = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
            micros = int(exact.quantize(_MICRO, rounding=ROUND_HALF_EVEN) * 1_000_000)
        except (InvalidOperation, ValueError):
            raise InvalidValue(f"Value '{value}' is not a valid timestamp") from None
    try:
        return EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise InvalidValue(f"Value '{value}' is out of range for a timestamp") from None


def to_timestamp(value: Any) -> datetime:
    """Any of the three AWS timestamp formats (iso8601, epoch seconds, RFC 822/7231 date).

    Servers accept every format whatever the model's default for the location, so the format
    is recognised from the text rather than assumed.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str):
        return from_epoch(value)
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return from_epoch(text)
    if text[:4].isdigit():
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidValue(f"Value '{text}' is not a valid timestamp") from None
    else:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise InvalidValue(f"Value '{text}' is not a valid timestamp") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def from_json_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidValue("Value is not valid JSON") from None


def text_converter(shape: Any) -> Callable[[str], Any]:
    """How a scalar shape is read from text (query parameters, XML, URI labels, headers)."""
    kind = shape.type_name
    if kind in ("integer", "short", "byte"):
        return to_int32
    if kind == "long":
        return to_int64
    if kind in ("float", "double"):
        return to_float
    if kind == "boolean":
        return to_bool
    if kind == "timestamp":
        return to_timestamp
    if kind == "blob":
        return from_base64
    return _identity


def _identity(text: str) -> str:
    return text
