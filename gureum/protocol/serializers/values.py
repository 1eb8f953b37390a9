"""Scalar formatting shared by every protocol: timestamps, blobs, numbers, booleans.

AWS sends timestamps with millisecond precision: ISO 8601 (`2024-01-01T00:00:00.000Z`) in
XML bodies, epoch seconds in JSON bodies, RFC 7231 dates (`Mon, 01 Jan 2024 00:00:00 GMT`)
in headers. A shape's `timestampFormat` overrides the protocol's default.
"""

from __future__ import annotations

import base64
import math
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def as_utc(value: datetime | int | float) -> datetime:
    """An aware UTC datetime; naive datetimes are taken to be UTC already."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if value.tzinfo is not UTC:
            return value.astimezone(UTC)
        return value
    return datetime.fromtimestamp(value, UTC)


def to_millisecond(dt: datetime) -> datetime:
    """`dt` at the millisecond precision AWS keeps, rounded to the nearest (half to even)."""
    micro = dt.microsecond % 1000
    if micro == 0:
        return dt
    down = dt - timedelta(microseconds=micro)
    if micro > 500 or (micro == 500 and (dt.microsecond // 1000) % 2 == 1):
        return down + _MS
    return down


def iso8601(value: Any) -> str:
    if isinstance(value, str):
        return value
    dt = to_millisecond(as_utc(value))
    return dt.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def rfc822(value: Any) -> str:
    if isinstance(value, str):
        return value
    dt = as_utc(value)
    return (
        f"{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]} {dt.year:04d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT"
    )


def epoch_seconds(value: Any) -> int | float:
    """Seconds since the epoch, an int when whole, else a float to the millisecond."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value  # type: ignore[return-value]  # already formatted by the provider
    ms = (to_millisecond(as_utc(value)) - _EPOCH) // _MS
    whole, frac = divmod(ms, 1000)
    return whole if frac == 0 else ms / 1000


def epoch_text(value: Any) -> str:
    seconds = epoch_seconds(value)
    return str(seconds)


TIMESTAMP_TEXT: dict[str, Callable[[Any], str]] = {
    "iso8601": iso8601,
    "rfc822": rfc822,
    "unixTimestamp": epoch_text,
}


def timestamp_text(shape: Any, default: str) -> Callable[[Any], str]:
    """The text formatter for a timestamp shape: its timestampFormat, else the default."""
    return TIMESTAMP_TEXT[shape.serialization.get("timestampFormat", default)]


def b64(value: bytes | bytearray | memoryview | str) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


def as_bytes(value: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def bool_text(value: Any) -> str:
    if value.__class__ is str:
        return value.lower()  # already text ("true"/"false")
    return "true" if value else "false"


def float_text(value: Any) -> str:
    """Floats as AWS writes them in XML and headers; non-finite values by Smithy's names."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return repr(value) if isinstance(value, float) else str(value)


def json_float(value: Any) -> Any:
    """JSON has no NaN or Infinity: AWS sends them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return float_text(value)
    return value


def scalar_text(type_name: str, shape: Any, timestamp_default: str) -> Callable[[Any], str]:
    """Text of a scalar shape's value for XML bodies and HTTP headers."""
    if type_name == "timestamp":
        return timestamp_text(shape, timestamp_default)
    if type_name == "boolean":
        return bool_text
    if type_name in ("float", "double"):
        return float_text
    if type_name == "blob":
        return b64
    return str
