"""Readers for bodies that decode to native values: JSON (json, rest-json) and CBOR.

The two formats share the shape walk; they differ only in how blobs, timestamps and
special floats travel, which a Dialect states. Wrong JSON types are reported in the words
AWS's JSON services use ("STRING_VALUE can not be converted to an Integer").
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from botocore.model import Shape

from gureum.protocol.parsers.shapes import Reader, cached_reader, located, wire_name
from gureum.protocol.parsers.values import (
    INT32,
    INT64,
    InvalidValue,
    from_base64,
    from_epoch,
    missing_member,
    to_timestamp,
)

_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# Structures nested in structures (recursive shapes: DynamoDB's AttributeValue). Deeper input
# is refused here: whatever is accepted must also be answerable by the serializers and
# providers, which recurse too. DynamoDB itself allows 32 levels of attribute nesting.
MAX_DEPTH = 64
_depth = [0]


class Dialect:
    """How one format carries the scalars JSON and CBOR disagree on."""

    def __init__(self, family: str, binary_blobs: bool):
        self.family = family
        self.binary_blobs = binary_blobs  # CBOR: byte strings; JSON: base64 text


JSON = Dialect("json", binary_blobs=False)
CBOR = Dialect("cbor", binary_blobs=True)


def reader(shape: Shape, dialect: Dialect) -> Reader:
    return cached_reader(dialect.family, shape, lambda s, register: _build(s, register, dialect))


def body_reader(shape: Shape, dialect: Dialect) -> Reader:
    """The reader of a rest-json input body: the input structure minus its HTTP-bound members."""
    table = {
        wire_name(member, name): (name, reader(member, dialect))
        for name, member in shape.members.items()
        if not located(member)
    }
    return _structure(table, required_of(shape, body_only=True))


def required_of(shape: Shape, body_only: bool = False) -> tuple[str, ...]:
    """The structure's required members (only those in the body when `body_only`)."""
    members = shape.members
    return tuple(
        name for name in shape.required_members
        if name in members and not (body_only and located(members[name]))
    )


def _build(shape: Shape, register: Callable[[Reader], None], dialect: Dialect) -> Reader:
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return _document
        table: dict[str, tuple[str, Reader]] = {}
        read = _structure(table, required_of(shape))
        register(read)  # before members: recursive shapes resolve to this reader
        for name, member in shape.members.items():
            table[wire_name(member, name)] = (name, reader(member, dialect))
        return read
    if kind == "list":
        return _list(reader(shape.member, dialect))
    if kind == "map":
        return _map(reader(shape.key, dialect), reader(shape.value, dialect))
    if kind == "string":
        return _string
    if kind in ("integer", "short", "byte"):
        return _integer(INT32, "Integer")
    if kind == "long":
        return _integer(INT64, "Long")
    if kind in ("float", "double"):
        return _double
    if kind == "boolean":
        return _boolean
    if kind == "blob":
        return _bytes if dialect.binary_blobs else _base64
    if kind == "timestamp":
        return _timestamp
    return _document


def _structure(table: dict[str, tuple[str, Reader]], required: tuple[str, ...] = ()) -> Reader:
    def read_structure(value: Any) -> dict:
        if type(value) is not dict:
            raise _mismatch(value, "a Structure")
        depth = _depth[0] = _depth[0] + 1
        try:
            if depth > MAX_DEPTH:
                raise InvalidValue(f"The document is nested more than {MAX_DEPTH} levels deep")
            out = {}
            for key, item in value.items():
                entry = table.get(key)
                # Unknown members are ignored, and null means absent, as AWS's JSON services do.
                if entry is None or item is None:
                    continue
                try:
                    out[entry[0]] = entry[1](item)
                except InvalidValue as e:
                    raise e.at(key)
        finally:
            _depth[0] -= 1
        if required:
            missing_member(out, required)
        return out

    return read_structure


def _list(item_reader: Reader) -> Reader:
    def read_list(value: Any) -> list:
        if type(value) is not list:
            raise _mismatch(value, "a List")
        return [None if item is None else item_reader(item) for item in value]

    return read_list


def _map(key_reader: Reader, value_reader: Reader) -> Reader:
    def read_map(value: Any) -> dict:
        if type(value) is not dict:
            raise _mismatch(value, "a Map")
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            try:
                out[key_reader(key)] = value_reader(item)
            except InvalidValue as e:
                raise e.at(str(key))
        return out

    return read_map


def _string(value: Any) -> str:
    if type(value) is str:
        return value
    raise _mismatch(value, "a String")


def _integer(bounds: tuple[int, int], name: str) -> Reader:
    low, high = bounds

    def read_integer(value: Any) -> int:
        if type(value) is int:
            if low <= value <= high:
                return value
            raise InvalidValue(f"Numeric value ({value}) out of range of {name}")
        raise _mismatch(value, ("an " if name[0] in "AEIOU" else "a ") + name)

    return read_integer


def _double(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return value
    if kind is int or kind is Decimal:
        return float(value)
    if kind is str and value in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[value]
    raise _mismatch(value, "a Double")


def _boolean(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _mismatch(value, "a Boolean")


def _base64(value: Any) -> bytes:
    if type(value) is str:
        return from_base64(value)
    raise _mismatch(value, "a Blob")


def _bytes(value: Any) -> bytes:
    kind = type(value)
    if kind is bytes:
        return value
    if kind is bytearray or kind is memoryview:
        return bytes(value)
    raise _mismatch(value, "a Blob")


def _timestamp(value: Any) -> datetime:
    kind = type(value)
    if kind is int or kind is float or kind is Decimal:
        return from_epoch(value)
    if kind is str or kind is datetime:
        return to_timestamp(value)
    raise _mismatch(value, "a Timestamp")


def _document(value: Any) -> Any:
    return value


def _mismatch(value: Any, target: str) -> InvalidValue:
    if isinstance(value, dict):
        return InvalidValue("Start of structure or map found where not expected.")
    if isinstance(value, list):
        return InvalidValue("Start of list found where not expected.")
    return InvalidValue(f"{_token(value)} can not be converted to {target}")


def _token(value: Any) -> str:
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, (int, float, Decimal)):
        return "NUMBER_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    return type(value).__name__.upper() + "_VALUE"
