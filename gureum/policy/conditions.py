"""The Condition element: operators, `...IfExists`, and the ForAllValues/ForAnyValue qualifiers.

Semantics follow the IAM User Guide ("IAM JSON policy elements: Condition operators" and
"Set operators for multivalued context keys"):

- Several operators in a block, and several keys under one operator, are ANDed; several
  values for one key are ORed. Condition key names are case-insensitive.
- A negated operator (StringNotEquals, NotIpAddress, ArnNotLike ...) is true when the
  request value matches none of the policy's values.
- A key absent from the request: `...IfExists` is true; `ForAllValues:` is true;
  `ForAnyValue:` is false; otherwise a negated operator is true and any other false.
  `Null` tests exactly presence.
- A multivalued request key without a qualifier behaves like ForAnyValue for the positive
  operators, and its negation for the negated ones.
- `ForAllValues:` is true when every request value satisfies the operator,
  `ForAnyValue:` when at least one does.

Each block is compiled once: numbers, dates, networks and wildcard patterns are parsed at
policy parse time; only values holding policy variables are rendered per request.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from gureum.policy.matching import arn_like, glob_matcher
from gureum.policy.variables import Context, Template, parse_template
from gureum.protocol.errors import ServiceError

# base operator -> (value kind, negated). Value kinds pick the compiler and comparator.
OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("string", False),
    "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("string_ci", False),
    "StringNotEqualsIgnoreCase": ("string_ci", True),
    "StringLike": ("string_like", False),
    "StringNotLike": ("string_like", True),
    "NumericEquals": ("num_eq", False),
    "NumericNotEquals": ("num_eq", True),
    "NumericLessThan": ("num_lt", False),
    "NumericLessThanEquals": ("num_le", False),
    "NumericGreaterThan": ("num_gt", False),
    "NumericGreaterThanEquals": ("num_ge", False),
    "DateEquals": ("date_eq", False),
    "DateNotEquals": ("date_eq", True),
    "DateLessThan": ("date_lt", False),
    "DateLessThanEquals": ("date_le", False),
    "DateGreaterThan": ("date_gt", False),
    "DateGreaterThanEquals": ("date_ge", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary", False),
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
    "ArnEquals": ("arn", False),
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "Null": ("null", False),
}

_QUALIFIERS = ("ForAllValues:", "ForAnyValue:")


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def split_operator(name: str) -> tuple[str | None, str, bool] | None:
    """("ForAllValues"|"ForAnyValue"|None, base operator, if_exists), or None if unknown."""
    qualifier = None
    for prefix in _QUALIFIERS:
        if name.startswith(prefix):
            qualifier, name = prefix[:-1], name[len(prefix) :]
            break
    if_exists = name.endswith("IfExists")
    if if_exists:
        name = name[: -len("IfExists")]
    if name not in OPERATORS or (if_exists and name == "Null"):
        return None
    return qualifier, name, if_exists


# --- value parsing ---------------------------------------------------------------------


def parse_date(text: str) -> datetime | None:
    """ISO 8601 (date, date-time, with or without zone) or seconds since the epoch."""
    text = text.strip()
    try:
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text), timezone.utc)
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError, OSError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def value_text(value: Any) -> str:
    """Policy JSON may give condition values as strings, numbers or booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- comparators: (request value, compiled policy values, context) -> any match ---------

def _cmp_number(op: str) -> Callable[[str, list, Context], bool]:
    test = {
        "num_eq": lambda a, b: a == b, "num_lt": lambda a, b: a < b, "num_le": lambda a, b: a <= b,
        "num_gt": lambda a, b: a > b, "num_ge": lambda a, b: a >= b,
    }[op]

    def compare(value: str, policy: list, ctx: Context) -> bool:
        number = _number(value)
        return number is not None and any(p is not None and test(number, p) for p in policy)

    return compare


def _cmp_date(op: str) -> Callable[[str, list, Context], bool]:
    test = {
        "date_eq": lambda a, b: a == b, "date_lt": lambda a, b: a < b, "date_le": lambda a, b: a <= b,
        "date_gt": lambda a, b: a > b, "date_ge": lambda a, b: a >= b,
    }[op]

    def compare(value: str, policy: list, ctx: Context) -> bool:
        when = parse_date(value)
        return when is not None and any(p is not None and test(when, p) for p in policy)

    return compare


def _cmp_string(value: str, policy: list[Template], ctx: Context) -> bool:
    return any(t.render_text(ctx) == value for t in policy)


def _cmp_string_ci(value: str, policy: list[Template], ctx: Context) -> bool:
    folded = value.casefold()
    for t in policy:
        text = t.render_text(ctx)
        if text is not None and text.casefold() == folded:
            return True
    return False


def _cmp_string_like(value: str, policy: list[Template], ctx: Context) -> bool:
    for t in policy:
        pieces = t.render(ctx)
        if pieces is not None and glob_matcher(pieces).fullmatch(value) is not None:
            return True
    return False


def _cmp_arn(value: str, policy: list[Template], ctx: Context) -> bool:
    for t in policy:
        pieces = t.render(ctx)
        if pieces is not None and arn_like(pieces, value):
            return True
    return False


def _cmp_bool(value: str, policy: list[str], ctx: Context) -> bool:
    return value.lower() in policy


def _cmp_binary(value: str, policy: list, ctx: Context) -> bool:
    data = _binary(value)
    return data is not None and data in policy


def _cmp_ip(value: str, policy: list, ctx: Context) -> bool:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return any(n is not None and n.version == address.version and address in n for n in policy)


_COMPARATORS: dict[str, Callable[[str, list, Context], bool]] = {
    "string": _cmp_string, "string_ci": _cmp_string_ci, "string_like": _cmp_string_like,
    "arn": _cmp_arn, "bool": _cmp_bool, "binary": _cmp_binary, "ip": _cmp_ip,
    **{k: _cmp_number(k) for k in ("num_eq", "num_lt", "num_le", "num_gt", "num_ge")},
    **{k: _cmp_date(k) for k in ("date_eq", "date_lt", "date_le", "date_gt", "date_ge")},
}


def _compile_values(kind: str, values: list[str], allow_vars: bool) -> list:
    if kind in ("string", "string_ci", "string_like", "arn"):
        return [parse_template(v, allow_vars) for v in values]
    if kind.startswith("num_"):
        return [_number(v) for v in values]
    if kind.startswith("date_"):
        return [parse_date(v) for v in values]
    if kind == "bool":
        return [v.lower() for v in values]
    if kind == "binary":
        return [_binary(v) for v in values]
    if kind == "ip":
        return [_network(v) for v in values]
    if kind == "null":
        return [v.lower() for v in values]
    raise AssertionError(kind)


@dataclass(frozen=True)
class Condition:
    """One operator applied to one key, with its policy values compiled."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # lower-cased condition key
    kind: str
    negated: bool
    qualifier: str | None
    if_exists: bool
    values: tuple

    def evaluate(self, ctx: Context) -> bool:
        request = ctx.get(self.key)
        if isinstance(request, list) and not request:
            request = None
        if self.kind == "null":
            # {"key": "true"} asks that the key be absent, "false" that it be present.
            return ("true" if request is None else "false") in self.values
        if request is None:
            if self.if_exists or self.qualifier == "ForAllValues":
                return True
            if self.qualifier == "ForAnyValue":
                return False
            return self.negated
        compare = _COMPARATORS[self.kind]
        values = self.values
        if isinstance(request, str):
            return compare(request, values, ctx) != self.negated  # type: ignore[arg-type]
        if self.qualifier == "ForAllValues":
            return all(compare(v, values, ctx) != self.negated for v in request)  # type: ignore[arg-type]
        if self.qualifier == "ForAnyValue":
            return any(compare(v, values, ctx) != self.negated for v in request)  # type: ignore[arg-type]
        return any(compare(v, values, ctx) for v in request) != self.negated  # type: ignore[arg-type]


def compile_conditions(block: Any, allow_vars: bool) -> tuple[Condition, ...]:
    """Compile a statement's Condition element; unknown operators are malformed."""
    if not isinstance(block, dict):
        raise malformed("Syntax errors in policy.")
    compiled: list[Condition] = []
    for operator, keys in block.items():
        if not isinstance(keys, dict):
            raise malformed("Syntax errors in policy.")
        parts = split_operator(operator)
        if parts is None:
            raise malformed("Syntax errors in policy.")
        qualifier, base, if_exists = parts
        kind, negated = OPERATORS[base]
        for key, raw in keys.items():
            raw_values = raw if isinstance(raw, list) else [raw]
            if any(isinstance(v, (dict, list)) or v is None for v in raw_values):
                raise malformed("Syntax errors in policy.")
            texts = [value_text(v) for v in raw_values]
            if kind.startswith("date_") and any(parse_date(t) is None for t in texts):
                raise malformed("The policy failed legacy parsing")
            compiled.append(Condition(
                operator=operator, key=key.lower(), kind=kind, negated=negated,
                qualifier=qualifier, if_exists=if_exists,
                values=tuple(_compile_values(kind, texts, allow_vars)),
            ))
    return tuple(compiled)


def conditions_hold(conditions: tuple[Condition, ...], ctx: Mapping[str, Any]) -> bool:
    for condition in conditions:
        if not condition.evaluate(ctx):
            return False
    return True
