"""IAM's input validation: the model's length, range, pattern and enum constraints.

IAM checks every parameter against its shape and answers one ValidationError listing
all failures ("2 validation errors detected: Value 'x' at 'userName' failed to satisfy
constraint: ..."). The checks for an operation are compiled once from botocore's model.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

from gureum.protocol.errors import ServiceError
from gureum.protocol.model import operation_model

# (value, path, failures) -> appends "Value '...' at 'path' failed ..." entries.
Check = Callable[[Any, str, list], None]


def validation_error(value: Any, member: str, constraint: str) -> ServiceError:
    """One ValidationError in IAM's words (member is the camelCase wire name, e.g. userName)."""
    return ServiceError("ValidationError", _failures_message([_failure(value, member, constraint)]), 400)


def check_request(operation: str, request: dict) -> None:
    """Raise IAM's ValidationError when the request breaks its input shape's constraints."""
    failures: list[str] = []
    for name, member, check in _checks(operation):
        if name in request:
            check(request[name], member, failures)
    if failures:
        raise ServiceError("ValidationError", _failures_message(failures), 400)


def _failures_message(failures: list[str]) -> str:
    n = len(failures)
    return f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(failures)


def _failure(value: Any, member: str, constraint: str) -> str:
    shown = "null" if value is None else value
    if isinstance(value, bool):
        shown = str(value).lower()
    return f"Value '{shown}' at '{member}' failed to satisfy constraint: {constraint}"


def _wire_name(name: str) -> str:
    return name[:1].lower() + name[1:]


@lru_cache(maxsize=None)
def _checks(operation: str) -> tuple[tuple[str, str, Check], ...]:
    shape = operation_model("iam", operation).input_shape
    if shape is None:
        return ()
    out = []
    for name, member_shape in shape.members.items():
        check = _compile(member_shape)
        if check is not None:
            out.append((name, _wire_name(name), check))
    return tuple(out)


def _compile(shape) -> Check | None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "string":
        return _string_check(meta.get("min"), meta.get("max"), meta.get("pattern"), shape.enum or None)
    if kind in ("integer", "long"):
        return _number_check(meta.get("min"), meta.get("max"))
    if kind == "list":
        return _list_check(meta.get("min"), meta.get("max"), _compile(shape.member))
    if kind == "structure":
        members = []
        for name, member_shape in shape.members.items():
            check = _compile(member_shape)
            if check is not None:
                members.append((name, _wire_name(name), check))
        if not members:
            return None

        def structure(value, path, failures):
            if isinstance(value, dict):
                for name, wire, check in members:
                    if name in value:
                        check(value[name], f"{path}.{wire}", failures)

        return structure
    return None


def _string_check(low, high, pattern, enum) -> Check | None:
    if low is None and high is None and pattern is None and enum is None:
        return None
    compiled = _python_regex(pattern) if pattern else None

    def check(value, path, failures):
        if not isinstance(value, str):
            return
        if low is not None and len(value) < low:
            failures.append(_failure(value, path, f"Member must have length greater than or equal to {low}"))
        if high is not None and len(value) > high:
            failures.append(_failure(value, path, f"Member must have length less than or equal to {high}"))
        if compiled is not None and not compiled.fullmatch(value):
            failures.append(_failure(value, path, f"Member must satisfy regular expression pattern: {pattern}"))
        if enum is not None and value not in enum:
            failures.append(_failure(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]"))

    return check


def _python_regex(pattern: str) -> re.Pattern | None:
    """The model's (Java) pattern as a Python regex; Unicode classes map to their nearest kin."""
    translated = pattern.replace("\\p{L}", "\\w").replace("\\p{N}", "\\d").replace("\\p{Z}", "\\s")
    try:
        return re.compile(translated)
    except re.error:
        return None  # a construct Python lacks: leave that member's pattern unchecked


def _number_check(low, high) -> Check | None:
    if low is None and high is None:
        return None

    def check(value, path, failures):
        if not isinstance(value, int) or isinstance(value, bool):
            return
        if low is not None and value < low:
            failures.append(_failure(value, path, f"Member must have value greater than or equal to {low}"))
        if high is not None and value > high:
            failures.append(_failure(value, path, f"Member must have value less than or equal to {high}"))

    return check


def _list_check(low, high, member: Check | None) -> Check | None:
    if low is None and high is None and member is None:
        return None

    def check(value, path, failures):
        if not isinstance(value, list):
            return
        if low is not None and len(value) < low:
            failures.append(_failure(value, path, f"Member must have length greater than or equal to {low}"))
        if high is not None and len(value) > high:
            failures.append(_failure(value, path, f"Member must have length less than or equal to {high}"))
        if member is not None:
            for i, item in enumerate(value, start=1):
                member(item, f"{path}.{i}.member", failures)

    return check
