"""AttributeValue rules: validation, number normalisation, ordering and item size."""

from __future__ import annotations

import base64
import decimal
from decimal import Decimal

from gureum.services.dynamodb.errors import invalid_parameter, validation

TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}
SET_NAMES = {"SS": "string set", "NS": "number set", "BS": "binary set"}
MAX_ITEM_BYTES = 400 * 1024

# 38 significant digits, exponents as DynamoDB allows them.
_CONTEXT = decimal.Context(prec=60, Emax=200, Emin=-200)
_MAX = Decimal("9.9999999999999999999999999999999999999E+125")
_MIN = Decimal("1E-130")


def parse_number(text: str) -> Decimal:
    """A DynamoDB number: AWS's parse, precision and range rules."""
    if not isinstance(text, str) or not text.strip() or text.strip() != text:
        raise validation("A value provided cannot be converted into a number")
    try:
        value = _CONTEXT.create_decimal(text)
    except decimal.InvalidOperation:
        raise validation("A value provided cannot be converted into a number") from None
    if not value.is_finite():
        raise validation("A value provided cannot be converted into a number")
    if value.is_zero():
        return Decimal(0)
    value = value.normalize(_CONTEXT)
    if len(value.as_tuple().digits) > 38:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    if abs(value) > _MAX:
        raise validation("Number overflow. Attempting to store a number with magnitude larger than supported range")
    if abs(value) < _MIN:
        raise validation("Number underflow. Attempting to store a number with magnitude smaller than supported range")
    return value


def format_number(value: Decimal) -> str:
    """DynamoDB's canonical text for a number: no exponent, no trailing zeros."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(_CONTEXT), "f")
    return text


def add_numbers(a: str, b: str, *, subtract: bool = False) -> dict:
    """a + b (or a - b) of two DynamoDB numbers, exactly, then checked as a stored number."""
    x, y = Decimal(a), Decimal(b)
    total = _CONTEXT.subtract(x, y) if subtract else _CONTEXT.add(x, y)
    return {"N": format_number(parse_number(str(total)))}


def normalize_number(text: str) -> str:
    return format_number(parse_number(text))


def validate_value(value: object, *, top: bool = True) -> dict:
    """Check one AttributeValue and return it normalised (numbers canonical, sets checked)."""
    if not isinstance(value, dict) or not value:
        raise validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    if len(value) > 1:
        raise validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
    (kind, inner), = value.items()
    if kind == "S" or kind == "B" or kind == "BOOL":
        return value
    if kind == "NULL":
        if inner is not True:
            raise invalid_parameter("Null attribute value types must have the value of true")
        return value
    if kind == "N":
        return {"N": normalize_number(inner)}
    if kind in SET_TYPES:
        if not inner:
            raise invalid_parameter(f"An {SET_NAMES[kind]}  may not be empty")
        members = [normalize_number(n) for n in inner] if kind == "NS" else list(inner)
        if len(set(members)) != len(members):
            shown = ", ".join(_show(m) for m in inner)
            raise invalid_parameter(f"Input collection [{shown}] contains duplicates.")
        return {kind: members}
    if kind == "M":
        return {"M": {k: validate_value(v, top=False) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [validate_value(v, top=False) for v in inner]}
    raise validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")


def _show(member: object) -> str:
    if isinstance(member, bytes):
        return base64.b64encode(member).decode()
    return str(member)


def validate_item(item: dict) -> dict:
    return {name: validate_value(v) for name, v in item.items()}


def kind_of(value: dict) -> str:
    return next(iter(value))


def value_size(value: dict) -> int:
    """Bytes a value counts toward the 400 KB item limit and capacity units."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    if kind == "N":
        return _number_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    return 3 + sum(value_size(v) + 1 for v in inner)


def _number_size(text: str) -> int:
    digits = len(text.replace("-", "").replace(".", "").strip("0")) or 1
    return (digits + 1) // 2 + 1


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def check_item_size(item: dict) -> int:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise validation("Item size has exceeded the maximum allowed size")
    return size


def compare(a: dict, b: dict) -> int | None:
    """DynamoDB's ordering of two scalars of one type (S, N, B); None when not comparable."""
    ka, kb = kind_of(a), kind_of(b)
    if ka != kb or ka not in ("S", "N", "B"):
        return None
    if ka == "N":
        x, y = Decimal(a["N"]), Decimal(b["N"])
    elif ka == "S":
        x, y = a["S"].encode(), b["S"].encode()
    else:
        x, y = a["B"], b["B"]
    return (x > y) - (x < y)


def equal(a: dict, b: dict) -> bool:
    ka, kb = kind_of(a), kind_of(b)
    if ka != kb:
        return False
    if ka == "N":
        return Decimal(a["N"]) == Decimal(b["N"])
    if ka == "NS":
        return {Decimal(n) for n in a["NS"]} == {Decimal(n) for n in b["NS"]}
    if ka in ("SS", "BS"):
        return set(a[ka]) == set(b[ka])
    if ka == "M":
        return a["M"].keys() == b["M"].keys() and all(equal(v, b["M"][k]) for k, v in a["M"].items())
    if ka == "L":
        return len(a["L"]) == len(b["L"]) and all(equal(x, y) for x, y in zip(a["L"], b["L"]))
    return a[ka] == b[ka]


# Items are stored as JSON; binaries become base64 text there.
def to_storage(value: dict) -> dict:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode() for b in inner]}
    if kind == "M":
        return {"M": {k: to_storage(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [to_storage(v) for v in inner]}
    return value


def from_storage(value: dict) -> dict:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: from_storage(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [from_storage(v) for v in inner]}
    return value
